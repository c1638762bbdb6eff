/**
 * `ipvs set ...`: the ipset verbs (create, destroy, flush, rename, swap, add, del, test, list,
 * save, restore), ipset-compatible in arguments and output, over the public API only.
 */
import {
  parseIpsetCreateOptions, parseIpsetEntry, formatIpsetElement, IpsetEntryError, NetlinkError,
} from '../index';
import { UsageError, type CliIo, type Command, type GlobalOptions } from './types';
import { withHandle } from './handle';
import { parseSetArgs, runListSave, type SetCliOptions } from './set-options';
import { ownEntry, packageVersion, wantsHelp } from './version';
import { runSetRestore } from './set-restore';

/** `-exist` / `-!` anywhere, as ipset takes it. */
function takeExist(args: string[]): { rest: string[]; exist: boolean } {
  const rest = args.filter((a) => a !== '-exist' && a !== '-!' && a !== '--exist');
  return { rest, exist: rest.length !== args.length };
}

/** Words back into one entry text, quoting those with spaces (`comment "a b"`). */
function joinWords(words: string[]): string {
  return words.map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(' ');
}

function need(args: string[], n: number, usage: string): void {
  if (args.length < n) throw new UsageError(`set ${usage}`);
}

type Sub = (args: string[], global: GlobalOptions, io: CliIo, options: SetCliOptions) => Promise<number>;

const SUBS: Record<string, { usage: string; run: Sub }> = {
  create: {
    usage: 'create NAME TYPE [OPTIONS] [-exist]',
    run: async (args, global) => {
      const { rest, exist } = takeExist(args);
      need(rest, 2, SUBS.create!.usage);
      const [name, type, ...opts] = rest as [string, string, ...string[]];
      const options = parseOptions(() => parseIpsetCreateOptions(opts, 'set create'));
      await withHandle(global, (h) => h.ipset.create(name, type, { ...options, exist }));
      return 0;
    },
  },
  destroy: {
    usage: 'destroy [NAME]',
    run: async (args, global) => {
      await withHandle(global, (h) => (args[0] === undefined ? h.ipset.destroyAll() : h.ipset.destroy(args[0])));
      return 0;
    },
  },
  flush: {
    usage: 'flush [NAME]',
    run: async (args, global) => {
      await withHandle(global, (h) => (args[0] === undefined ? h.ipset.flushAll() : h.ipset.flush(args[0])));
      return 0;
    },
  },
  rename: {
    usage: 'rename FROM TO',
    run: async (args, global) => {
      need(args, 2, SUBS.rename!.usage);
      await withHandle(global, (h) => h.ipset.rename(args[0]!, args[1]!));
      return 0;
    },
  },
  swap: {
    usage: 'swap A B',
    run: async (args, global) => {
      need(args, 2, SUBS.swap!.usage);
      await withHandle(global, (h) => h.ipset.swap(args[0]!, args[1]!));
      return 0;
    },
  },
  add: {
    usage: 'add NAME ENTRY [timeout N] [comment TEXT] [nomatch] ... [-exist]',
    run: async (args, global) => {
      const { rest, exist } = takeExist(args);
      need(rest, 2, SUBS.add!.usage);
      await withHandle(global, (h) => h.ipset.add(rest[0]!, joinWords(rest.slice(1)), { exist }));
      return 0;
    },
  },
  del: {
    usage: 'del NAME ENTRY [-exist]',
    run: async (args, global) => {
      const { rest, exist } = takeExist(args);
      need(rest, 2, SUBS.del!.usage);
      await withHandle(global, (h) => h.ipset.del(rest[0]!, joinWords(rest.slice(1)), { exist }));
      return 0;
    },
  },
  test: {
    usage: 'test NAME ENTRY (exit status 0: in the set)',
    run: async (args, global, io, options) => {
      need(args, 2, SUBS.test!.usage);
      const entry = joinWords(args.slice(1));
      const { yes, elem } = await withHandle(global, async (h) => {
        const found = await h.ipset.test(args[0]!, entry);
        // ipset names the element as it parsed it (`AA:BB:...` for `aa:bb:...`)
        const { type } = await h.ipset.header(args[0]!);
        return { yes: found, elem: formatIpsetElement(type, parseIpsetEntry(type, entry)) };
      });
      if (!options.quiet) io.err(yes ? `Warning: ${elem} is in set ${args[0]}.\n` : `${elem} is NOT in set ${args[0]}.\n`);
      return yes ? 0 : 1;
    },
  },
  list: {
    usage: 'list [-t|-terse] [-n|-name] [-o plain|save] [-s|-sorted] [-f FILE] [--json] [NAME]',
    run: (args, global, io, options) => runListSave('list', args, options, global, io),
  },
  save: {
    usage: 'save [-o save|plain] [-s|-sorted] [-f FILE] [NAME...] (the text of ipset save)',
    run: (args, global, io, options) => runListSave('save', args, options, global, io),
  },
  restore: {
    usage: 'restore [-exist] [-f|-file FILE] [-q|-quiet] (the text of ipset save / ipset restore, from standard input by default;\n    -q: nothing on standard error, no progress;\n    the whole input is checked first: a bad line is reported with its number and nothing is applied)',
    run: (args, global, io, options) => runSetRestore(args, global, options.quiet ? { ...io, err: () => undefined } : io),
  },
  version: {
    usage: 'version | -v | --version (ipset\'s version line, with the kernel\'s protocol version)',
    run: async (_args, global, io) => {
      const proto = await withHandle(global, (h) => h.ipset.protocol()).catch(() => undefined);
      io.out(`ipset ${IPSET_COMPAT_VERSION}, protocol version: ${proto ?? IPSET_USERSPACE_PROTOCOL} (ipvs ${packageVersion()})\n`);
      if (proto === undefined) io.err('Warning: the kernel did not answer the ipset protocol request (is ip_set loaded?)\n');
      return 0;
    },
  },
};

/** The ipset tool release whose commands and text this CLI takes (kube-proxy checks for v6.0 or later). */
export const IPSET_COMPAT_VERSION = 'v7.22';
/** ipset's own protocol version, printed when the kernel cannot be asked. */
const IPSET_USERSPACE_PROTOCOL = 7;

function parseOptions<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(err.message);
    throw err;
  }
}

/** ipset's one-letter and dash forms of its commands. */
const SET_ALIASES: Record<string, string> = {
  n: 'create', x: 'destroy', f: 'flush', e: 'rename', w: 'swap', a: 'add', d: 'del', t: 'test', l: 'list', s: 'save', r: 'restore',
  show: 'list', '-v': 'version', '--version': 'version', '-V': 'version',
  '-N': 'create', '-X': 'destroy', '-F': 'flush', '-E': 'rename', '-W': 'swap', '-A': 'add', '-D': 'del', '-T': 'test', '-L': 'list', '-S': 'save', '-R': 'restore',
};

const set: Command = {
  summary: `ipsets, ipset-compatible: ${Object.keys(SUBS).join(', ')} (ipvs set help)`, // shown by commands.ts
  async run(args, global, io) {
    // ipset's options stand anywhere (set-options.ts); the commands that read -exist and -f get them back
    const { command: sub, rest: words, options } = parseSetArgs(args);
    if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
      io.out(`usage: ipvs set <command>\n${Object.values(SUBS).map((s) => `  ${s.usage}`).join('\n')}\n`);
      return sub === undefined ? 2 : 0;
    }
    const s = ownEntry(SUBS, sub) ?? ownEntry(SUBS, ownEntry(SET_ALIASES, sub) ?? '');
    if (!s) throw new UsageError(`set: unknown command '${sub.slice(0, 60)}' (${Object.keys(SUBS).join(', ')})`);
    if (wantsHelp(words)) {
      io.out(`usage: ipvs set ${s.usage}\n`);
      return 0;
    }
    const takesExist = s === SUBS.create || s === SUBS.add || s === SUBS.del || s === SUBS.restore;
    const rest = [...words, ...(takesExist && options.exist ? ['-exist'] : []), ...(s === SUBS.restore && options.file !== undefined ? ['-f', options.file] : [])];
    try {
      return await s.run(rest, global, io, options);
    } catch (err) {
      // -q: ipset says nothing, its exit status stays (2 for usage, 1 for the rest)
      if (options.quiet) return err instanceof UsageError || (err instanceof TypeError && !(err instanceof NetlinkError)) ? 2 : 1;
      // The entry's text parse errors are the user's typing: report them as usage.
      if (err instanceof TypeError && !(err instanceof NetlinkError)) throw new UsageError(err.message);
      if (err instanceof IpsetEntryError) {
        io.err(`ipvs: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};

/** The ipset verbs, for the dispatcher in main.ts. */
export const setCommands: Record<string, Command> = { set };
