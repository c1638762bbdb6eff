#!/usr/bin/env node
/**
 * The `ipvs` command: ipvsadm-, ipset- and ip-compatible verbs over the library's public API.
 * The verbs are listed in commands.ts, each loaded only when it runs.
 */
import { UsageError, type CliIo } from './types';
import { parseGlobal } from './global-options';
import { COMMANDS, NOUNS } from './commands';
import { isIpvsadmCommand, ownEntry, packageVersion, wantsHelp } from './version';
import { processIo, shortRunFlags } from './process-io';

const USAGE = 'usage: ipvs [--netns NAME|PATH] <command> [args...]\n';

function help(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(0, ...names.map((k) => k.length));
  return USAGE + '\ncommands:\n' + names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name]!.summary}`).join('\n')
    + '\n\nipvs COMMAND --help shows its options; ipvs -A|-a|-L|-S|-R|... takes ipvsadm\'s own command line.\n';
}

export { parseGlobal };

/** Runs the CLI with `argv` (without node and script); returns the exit status. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    const { global, rest } = parseGlobal(argv);
    const [name, ...args] = rest;
    if (name === '--version' || name === '-v' || name === 'version') {
      io.out(`ipvs ${packageVersion()}\n`);
      return 0;
    }
    if (isIpvsadmCommand(name)) {
      const { runIpvsadm } = await import('./ipvsadm-compat');
      return await runIpvsadm(rest, global, io, 'ipvs');
    }
    if (!name || name === 'help' || name === '--help' || name === '-h') {
      io.out(help());
      return name ? 0 : 2;
    }
    const entry = ownEntry(COMMANDS, name);
    if (!entry) throw new UsageError(`unknown command '${name.slice(0, 60)}'`);
    if (!NOUNS.has(name) && wantsHelp(args)) {
      io.out(entry.usage);
      return 0;
    }
    return await (await entry.load()).run(args, global, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`ipvs: ${err.message}\n${USAGE}`);
      return 2;
    }
    io.err(`ipvs: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/* c8 ignore start */
if (require.main === module) {
  shortRunFlags();
  const io = processIo();
  main(process.argv.slice(2), io).then((code) => { process.exitCode = code; });
}
/* c8 ignore stop */
