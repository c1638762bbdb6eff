/**
 * `ipvs addr ...`: addresses on links, `ip addr`-compatible: add, del, replace, list/show
 * (`--json` keyed like `ip -j addr`), over the public API only.
 */
import { type Address, type AddressOptions, type Link } from '../index';
import { UsageError, type Command } from './types';
import { withHandle } from './handle';
import { runIpSub, type Sub } from './ip-subcommands';
import { formatLinkHead, linkJson } from './link-commands';

function lifetime(v: number): string {
  return v === 4294967295 ? 'forever' : `${v}sec`;
}

const FLAG_WORDS = ['secondary', 'temporary', 'tentative', 'deprecated', 'home', 'nodad', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'dynamic', 'dadfailed', 'optimistic', 'stable-privacy'] as const;

/** One address as `ip addr show` prints it. */
export function formatAddress(a: Address): string {
  let s = `    ${a.family} ${a.local}`;
  if (a.address !== undefined) s += ` peer ${a.address}`;
  s += `/${a.prefixlen}`;
  if (a.broadcast !== undefined) s += ` brd ${a.broadcast}`;
  // As ip prints it: each word after the scope followed by a space, the label last.
  s += ` scope ${a.scope} `;
  for (const f of FLAG_WORDS) if (a[f]) s += `${f} `;
  if (a.label !== undefined) s += a.label;
  return `${s}\n       valid_lft ${lifetime(a.valid_life_time)} preferred_lft ${lifetime(a.preferred_life_time)}\n`;
}

/** An address as `ip -j addr` prints it in `addr_info` (without the library's ifindex). */
export function addressJson(a: Address): Omit<Address, 'ifindex'> {
  const { ifindex: _, ...rest } = a;
  return rest;
}

/** A link with its addresses as `ip -j addr` prints it. */
export function linkAddressesJson(l: Link, addrs: Address[]): Record<string, unknown> {
  const { linkmode: _, ...rest } = linkJson(l);
  return { ...rest, addr_info: addrs.map(addressJson) };
}

/**
 * `ip addr`'s words: `CIDR dev DEV [options]`, or this CLI's `DEV CIDR... [options]`.
 * Returns the link, the addresses and the options.
 */
export function parseAddrArgs(args: string[], verb: string): { dev: string | number; cidrs: string[]; options: AddressOptions } {
  const options: AddressOptions = {};
  const positional: string[] = [];
  let dev: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`addr ${verb}: ${w} needs a value`);
      return v;
    };
    switch (w) {
      case 'dev': dev = value(); break;
      case 'label': options.label = value(); break;
      case 'nodad': options.nodad = true; break;
      case 'noprefixroute': options.noprefixroute = true; break;
      case 'scope': options.scope = value(); break;
      case 'broadcast': case 'brd': options.broadcast = value(); break;
      case 'peer': options.peer = value(); break;
      case 'valid_lft': { const v = value(); if (v !== 'forever') options.validLft = Number(v); break; }
      case 'preferred_lft': { const v = value(); if (v !== 'forever') options.preferredLft = Number(v); break; }
      case 'local': positional.push(value()); break;
      default: positional.push(w);
    }
  }
  if (dev === undefined) dev = positional.shift();
  if (dev === undefined) throw new UsageError(`addr ${verb}: which link? (addr ${verb} CIDR dev DEV, or addr ${verb} DEV CIDR...)`);
  if (positional.length === 0) throw new UsageError(`addr ${verb}: which address? (such as 10.96.0.1/32)`);
  return { dev: /^\d+$/.test(dev) ? Number(dev) : dev, cidrs: positional, options };
}

function change(verb: 'add' | 'del' | 'replace'): Sub {
  return async (args, global) => {
    const { dev, cidrs, options } = parseAddrArgs(args, verb);
    await withHandle(global, async (h) => {
      for (const c of cidrs) {
        if (verb === 'add') await h.addresses.add(dev, c, options);
        else if (verb === 'replace') await h.addresses.replace(dev, c, options);
        else await h.addresses.delete(dev, c);
      }
    });
    return 0;
  };
}

const SUBS: Record<string, { usage: string; run: Sub }> = {
  add: { usage: 'add CIDR dev DEV | add DEV CIDR... [label L] [nodad] [noprefixroute] [scope S] [valid_lft N] [preferred_lft N]', run: change('add') },
  del: { usage: 'del CIDR dev DEV | del DEV CIDR...', run: change('del') },
  replace: { usage: 'replace CIDR dev DEV | replace DEV CIDR... [options as add]', run: change('replace') },
  list: {
    usage: 'list [dev] [DEV] [-4 | -6] [--json]',
    run: async (args, global, io) => {
      const json = args.includes('--json') || args.includes('-j');
      const family = args.includes('-4') ? 'inet' as const : args.includes('-6') ? 'inet6' as const : undefined;
      const rest = args.filter((a) => !['--json', '-j', '-4', '-6', 'dev'].includes(a));
      if (rest.length > 1) throw new UsageError(`addr list: unexpected argument ${rest[1]}`);
      const dev = rest[0] === undefined ? undefined : /^\d+$/.test(rest[0]) ? Number(rest[0]) : rest[0];
      await withHandle(global, async (h) => {
        const links = dev === undefined ? await h.links.list() : [await h.links.get(dev)];
        const addrs = await h.addresses.list(dev === undefined ? undefined : links[0]!.ifindex, family ? { family } : {});
        const per = links.map((l) => ({ l, a: addrs.filter((a) => a.ifindex === l.ifindex) }))
          .filter((x) => family === undefined || x.a.length > 0);
        if (json) io.out(`${JSON.stringify(per.map((x) => linkAddressesJson(x.l, x.a)))}\n`);
        else io.out(per.map((x) => formatLinkHead(x.l, false) + x.a.map(formatAddress).join('')).join(''));
      });
      return 0;
    },
  },
};

const addr: Command = {
  summary: 'addresses, ip-compatible: add|del|replace CIDR dev DEV (or DEV CIDR...), list [DEV] [--json] (ipvs addr help)',
  run: (args, global, io) => runIpSub('addr', SUBS, args, global, io),
};

/** The address verbs, for the dispatcher in main.ts. */
export const addrCommands: Record<string, Command> = { addr };
