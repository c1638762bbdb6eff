/**
 * `ipvs link ...`: dummy links, `ip link`-compatible: add, del, set, list/show (`--json` keyed
 * like `ip -j link`), over the public API only.
 */
import { type Link } from '../index';
import { UsageError, type Command } from './types';
import { withHandle } from './handle';
import { runIpSub, type Sub } from './ip-subcommands';

/** The first lines of `ip link show` / `ip addr show` for a link (`mode` only in ip link's). */
export function formatLinkHead(l: Link, withMode: boolean): string {
  let s = `${l.ifindex}: ${l.ifname}: <${l.flags.join(',')}> mtu ${l.mtu}`;
  if (l.qdisc !== undefined) s += ` qdisc ${l.qdisc}`;
  s += ` state ${l.operstate}`;
  if (withMode) s += ` mode ${l.linkmode}`;
  s += ` group ${l.group}`;
  if (l.txqlen !== undefined) s += ` qlen ${l.txqlen}`;
  s += `\n    link/${l.link_type}`;
  if (l.address !== undefined) s += ` ${l.address}`;
  if (l.broadcast !== undefined) s += ` brd ${l.broadcast}`;
  return `${s}\n`;
}

/** A link as `ip -j link` prints it (without ip -d's linkinfo). */
export function linkJson(l: Link): Omit<Link, 'linkinfo'> {
  const { linkinfo: _, ...rest } = l;
  return rest;
}

function ref(text: string | undefined, usage: string): string | number {
  if (text === undefined) throw new UsageError(`link ${usage}`);
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** `ip link`'s words: `NAME` or `dev NAME`, then settings. */
function nameAndRest(args: string[], usage: string): { name: string | number; rest: string[] } {
  const a = [...args];
  if (a[0] === 'dev' || a[0] === 'name') a.shift();
  const name = ref(a.shift(), usage);
  return { name, rest: a };
}

function parseMtu(v: string | undefined): number {
  if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`link: mtu needs a number, got ${String(v)}`);
  return Number(v);
}

const SUBS: Record<string, { usage: string; run: Sub }> = {
  add: {
    usage: 'add NAME [type dummy] [mtu N] [address MAC] [up]',
    run: async (args, global) => {
      const { name, rest } = nameAndRest(args, SUBS.add!.usage);
      if (typeof name !== 'string') throw new UsageError('link add: NAME must be a name');
      const o: { mtu?: number; address?: string; up?: boolean } = {};
      for (let i = 0; i < rest.length; i++) {
        const w = rest[i]!;
        if (w === 'type') {
          if (rest[++i] !== 'dummy') throw new UsageError(`link add: only type dummy is supported, got ${String(rest[i])}`);
        } else if (w === 'mtu') o.mtu = parseMtu(rest[++i]);
        else if (w === 'address') o.address = rest[++i]!;
        else if (w === 'up') o.up = true;
        else throw new UsageError(`link add: unknown argument ${w}`);
      }
      await withHandle(global, (h) => h.links.addDummy(name, o));
      return 0;
    },
  },
  del: {
    usage: 'del NAME',
    run: async (args, global) => {
      const { name, rest } = nameAndRest(args, SUBS.del!.usage);
      if (rest.length) throw new UsageError(`link del: unexpected argument ${rest[0]}`);
      await withHandle(global, (h) => h.links.delete(name));
      return 0;
    },
  },
  set: {
    usage: 'set NAME [up | down] [mtu N]',
    run: async (args, global) => {
      const { name, rest } = nameAndRest(args, SUBS.set!.usage);
      const s: { up?: boolean; mtu?: number } = {};
      for (let i = 0; i < rest.length; i++) {
        const w = rest[i]!;
        if (w === 'up') s.up = true;
        else if (w === 'down') s.up = false;
        else if (w === 'mtu') s.mtu = parseMtu(rest[++i]);
        else throw new UsageError(`link set: unknown argument ${w}`);
      }
      await withHandle(global, (h) => h.links.set(name, s));
      return 0;
    },
  },
  list: {
    usage: 'list [NAME] [--json]',
    run: async (args, global, io) => {
      const json = args.includes('--json') || args.includes('-j');
      const rest = args.filter((a) => a !== '--json' && a !== '-j' && a !== 'dev');
      if (rest.length > 1) throw new UsageError(`link list: unexpected argument ${rest[1]}`);
      await withHandle(global, async (h) => {
        const links = rest[0] === undefined ? await h.links.list() : [await h.links.get(ref(rest[0], SUBS.list!.usage))];
        io.out(json ? `${JSON.stringify(links.map(linkJson))}\n` : links.map((l) => formatLinkHead(l, true)).join(''));
      });
      return 0;
    },
  },
};

const link: Command = {
  summary: 'links, ip-compatible: add NAME type dummy, del, set NAME up|down, list [--json] (ipvs link help)',
  run: (args, global, io) => runIpSub('link', SUBS, args, global, io),
};

/** The link verbs, for the dispatcher in main.ts. */
export const linkCommands: Record<string, Command> = { link };
