/**
 * `ipvs set ...`: the ipset verbs (create, destroy, flush, rename, swap, add, del, test, list,
 * save, restore), ipset-compatible in arguments and output, over the public API only.
 */
import { readFileSync } from 'node:fs';
import {
  parseIpsetCreateOptions, formatIpsetCreateOptions, formatIpsetEntry, IpsetEntryError, NetlinkError,
  type IpsetSet,
} from '../index';
import { UsageError, type CliIo, type Command, type GlobalOptions } from './types';
import { withHandle } from './handle';

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

/** The text of `ipset list` for one set (`-t`: without members). */
export function formatIpsetList(s: IpsetSet, headerOnly = false): string {
  const create = formatIpsetCreateOptions(s.type, {
    ...(s.family && !s.type.startsWith('bitmap:') && { family: s.family }),
    ...(s.range !== undefined && { range: s.range }),
    ...(s.markmask !== undefined && { markmask: s.markmask }),
    ...(s.hashsize !== undefined && { hashsize: s.hashsize }),
    ...(s.maxelem !== undefined && { maxelem: s.maxelem }),
    ...(s.netmask !== undefined && { netmask: s.netmask }),
    ...(s.size !== undefined && { size: s.size }),
    ...(s.timeout !== undefined && { timeout: s.timeout }),
    ...(s.counters && { counters: true }), ...(s.comment && { comment: true }),
    ...(s.skbinfo && { skbinfo: true }), ...(s.forceadd && { forceadd: true }),
    ...(s.bucketsize !== undefined && { bucketsize: s.bucketsize }),
    ...(s.initval !== undefined && { initval: s.initval }),
  });
  const lines = [
    `Name: ${s.name}`, `Type: ${s.type}`, `Revision: ${s.revision}`, `Header: ${create}`,
    `Size in memory: ${s.memsize}`, `References: ${s.references}`, `Number of entries: ${s.elements}`,
  ];
  if (!headerOnly) {
    lines.push('Members:');
    for (const e of s.entries ?? []) lines.push(formatIpsetEntry(s.type, e));
  }
  return `${lines.join('\n')}\n`;
}

function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

type Sub = (args: string[], global: GlobalOptions, io: CliIo) => Promise<number>;

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
    run: async (args, global, io) => {
      need(args, 2, SUBS.test!.usage);
      const entry = joinWords(args.slice(1));
      const yes = await withHandle(global, (h) => h.ipset.test(args[0]!, entry));
      io.err(`${args.slice(1).join(' ')} is ${yes ? '' : 'NOT '}in set ${args[0]}.\n`);
      return yes ? 0 : 1;
    },
  },
  list: {
    usage: 'list [-t | -name] [--json] [NAME] (-n is the global --netns here)',
    run: async (args, global, io) => {
      const terse = args.includes('-t') || args.includes('-terse');
      const names = args.includes('-n') || args.includes('-name');
      const json = args.includes('--json');
      const rest = args.filter((a) => !['-t', '-terse', '-n', '-name', '--json'].includes(a));
      if (rest.length > 1) throw new UsageError(`set list: unexpected argument ${rest[1]}`);
      await withHandle(global, async (h) => {
        const sets = rest[0] !== undefined
          ? [terse || names ? await h.ipset.header(rest[0]) : await h.ipset.list(rest[0])]
          : await h.ipset.listAll({ headerOnly: terse || names });
        if (json) io.out(toJson(names ? sets.map((s) => s.name) : sets));
        else if (names) io.out(sets.map((s) => `${s.name}\n`).join(''));
        else io.out(sets.map((s) => formatIpsetList(s, terse)).join('\n'));
      });
      return 0;
    },
  },
  save: {
    usage: 'save [NAME...] (the text of ipset save)',
    run: async (args, global, io) => {
      await withHandle(global, async (h) => io.out(await h.ipset.save(args.length ? args : undefined)));
      return 0;
    },
  },
  restore: {
    usage: 'restore [-exist] [-f FILE] (the text of ipset save / ipset restore, from standard input by default)',
    run: async (args, global, io) => {
      const { rest, exist } = takeExist(args);
      let file: string | undefined;
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '-f' || rest[i] === '-file') file = rest[++i];
        else throw new UsageError(`set restore: unexpected argument ${rest[i]}`);
      }
      const text = file === undefined || file === '-' ? await io.readStdin() : readFileSync(file, 'utf8');
      await withHandle(global, (h) => h.ipset.restore(text, { exist }));
      return 0;
    },
  },
};

function parseOptions<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(err.message);
    throw err;
  }
}

const set: Command = {
  summary: `ipsets, ipset-compatible: ${Object.keys(SUBS).join(', ')} (ipvs set help)`,
  async run(args, global, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
      io.out(`usage: ipvs set <command>\n${Object.values(SUBS).map((s) => `  ${s.usage}`).join('\n')}\n`);
      return sub === undefined ? 2 : 0;
    }
    const alias: Record<string, string> = { n: 'create', x: 'destroy', f: 'flush', e: 'rename', w: 'swap', a: 'add', d: 'del', t: 'test', l: 'list', s: 'save', r: 'restore', show: 'list' };
    const s = SUBS[sub] ?? SUBS[alias[sub] ?? ''];
    if (!s) throw new UsageError(`set: unknown command '${sub}' (${Object.keys(SUBS).join(', ')})`);
    try {
      return await s.run(rest, global, io);
    } catch (err) {
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
