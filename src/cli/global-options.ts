/** The options every verb takes (`--netns`), split off before the verb is looked up. */
import { UsageError, type GlobalOptions } from './types';

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
