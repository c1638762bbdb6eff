/** The sub-verb dispatch shared by the ip-compatible nouns (`ipvs addr ...`, `ipvs link ...`). */
import { UsageError, type CliIo, type GlobalOptions } from './types';
import { ownEntry, wantsHelp } from './version';

/** One sub-verb: runs with the words after it and returns the exit status. */
export type Sub = (args: string[], global: GlobalOptions, io: CliIo) => Promise<number>;

/** The sub-verb aliases `ip` accepts for both `addr` and `link`. */
const IP_ALIASES: Record<string, string> = { show: 'list', ls: 'list', delete: 'del', a: 'add', d: 'del' };

/**
 * Runs `ipvs <noun> <sub> ...`: help (exit 2 when no sub-verb), alias lookup, and the sub-verb,
 * with its TypeError/RangeError (bad arguments) reported as usage errors.
 */
export async function runIpSub(
  noun: string, subs: Record<string, { usage: string; run: Sub }>, args: string[], global: GlobalOptions, io: CliIo,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    io.out(`usage: ipvs ${noun} <command>\n${Object.values(subs).map((s) => `  ${s.usage}`).join('\n')}\n`);
    return sub === undefined ? 2 : 0;
  }
  const s = ownEntry(subs, sub) ?? ownEntry(subs, ownEntry(IP_ALIASES, sub) ?? '');
  if (!s) throw new UsageError(`${noun}: unknown command '${sub.slice(0, 60)}' (${Object.keys(subs).join(', ')})`);
  if (wantsHelp(rest)) {
    io.out(`usage: ipvs ${noun} ${s.usage}\n`);
    return 0;
  }
  try {
    return await s.run(rest, global, io);
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
}
