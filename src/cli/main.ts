#!/usr/bin/env node
/**
 * The `ipvs` command: ipvsadm-, ipset- and ip-compatible verbs over the library's public API.
 * Each family's verbs live in their own module and are listed in `commands` below.
 */
import { UsageError, type CliIo, type Command, type GlobalOptions } from './types';
import { ipvsCommands } from './ipvs-commands';
import { processIo } from './process-io';
import { setCommands } from './set-commands';
import { linkCommands } from './link-commands';
import { addrCommands } from './addr-commands';
import { applyCommands } from './apply-command';
import { sysctlCommands } from './sysctl-command';
import { exporterCommands } from './exporter-command';
import { isIpvsadmCommand, packageVersion, runIpvsadm } from './ipvsadm-compat';

const commands: Record<string, Command> = {
  ...ipvsCommands,
  ...setCommands,
  ...linkCommands,
  ...addrCommands,
  ...applyCommands,
  ...sysctlCommands,
  ...exporterCommands,
};

const USAGE = 'usage: ipvs [--netns NAME|PATH] <command> [args...]\n';

function help(): string {
  const width = Math.max(0, ...Object.keys(commands).map((k) => k.length));
  return USAGE + '\ncommands:\n' + Object.entries(commands)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join('\n') + '\n';
}

/** Splits off the global options; `--netns NAME` without a slash means `/run/netns/NAME` (as `ip netns`). */
export function parseGlobal(argv: string[]): { global: GlobalOptions; rest: string[] } {
  const global: GlobalOptions = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let value: string | undefined;
    // only the long form: `-n` means "numeric" to ipvsadm users and "-name" to ipset users
    if (a === '--netns') value = argv[++i];
    else if (a.startsWith('--netns=')) value = a.slice('--netns='.length);
    else { rest.push(a); continue; }
    if (!value) throw new UsageError('--netns needs a namespace name or path');
    global.netns = value.includes('/') ? value : `/run/netns/${value}`;
  }
  return { global, rest };
}

/** Runs the CLI with `argv` (without node and script); returns the exit status. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    const { global, rest } = parseGlobal(argv);
    const [name, ...args] = rest;
    if (name === '--version' || name === '-v' || name === 'version') {
      io.out(`ipvs ${packageVersion()}\n`);
      return 0;
    }
    if (isIpvsadmCommand(name)) return await runIpvsadm(rest, global, io, 'ipvs');
    if (!name || name === 'help' || name === '--help' || name === '-h') {
      io.out(help());
      return name ? 0 : 2;
    }
    const cmd = commands[name];
    if (!cmd) throw new UsageError(`unknown command '${name}'`);
    return await cmd.run(args, global, io);
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
  const io = processIo();
  main(process.argv.slice(2), io).then((code) => { process.exitCode = code; });
}
/* c8 ignore stop */
