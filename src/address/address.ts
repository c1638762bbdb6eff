/**
 * Addresses as `ip -j addr` shows them in `addr_info`: `family`, `local`, `prefixlen`, `scope`,
 * `label`, the flags as booleans (`nodad`, `noprefixroute`, ...), `valid_life_time` and
 * `preferred_life_time`; plus `ifindex`, the link it is on.
 */
import type { AttrRecord } from '../netlink/attr';
import { familyOf } from '../netlink/address';
import type { Ifaddrmsg } from '../schema/rtnl-addr';
import { AF_INET, AF_INET6 } from '../uapi/netlink';
import { CONSTANTS as F } from '../uapi/if-addr';
import { RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_NOWHERE, RT_SCOPE_SITE, RT_SCOPE_UNIVERSE } from '../uapi/rtnetlink';
import { IFNAMSIZ } from '../uapi/if';
import { checkKeys, checkObject, keySet, quote } from '../validate';

/** The options of addresses.add / replace. */
const ADDRESS_KEYS = keySet(['label', 'nodad', 'noprefixroute', 'scope', 'broadcast', 'peer', 'validLft', 'preferredLft']);

/** An address on a link. @category Links and addresses */
export interface Address {
  /** Index of the link it is on. */
  ifindex: number;
  /** `inet` (IPv4) or `inet6` (IPv6), as `ip -j addr` prints it. */
  family: 'inet' | 'inet6';
  /** The address itself (IFA_LOCAL, or IFA_ADDRESS when there is no IFA_LOCAL), e.g. `10.96.0.1`. */
  local: string;
  /** The peer (point-to-point links), when it differs from `local`. */
  address?: string;
  /** Prefix length in bits: the `/32` of `10.96.0.1/32`. */
  prefixlen: number;
  /** IPv4 broadcast address (IFA_BROADCAST), when set (`ip addr add ... brd`). */
  broadcast?: string;
  /** `global`, `site`, `link`, `host`, `nowhere`, or the number. */
  scope: string;
  /** IFA_F_SECONDARY on IPv4: another address of the same subnet came first. */
  secondary?: true;
  /** IFA_F_TEMPORARY on IPv6 (privacy extensions). */
  temporary?: true;
  /** IFA_F_TENTATIVE on IPv6: duplicate address detection has not finished; the address is not usable yet. */
  tentative?: true;
  /** IFA_F_DEPRECATED on IPv6: the preferred lifetime ran out; kept for existing connections only. */
  deprecated?: true;
  /** IFA_F_HOMEADDRESS: a Mobile IPv6 home address. */
  home?: true;
  /** IFA_F_NODAD on IPv6: added with `nodad`, no duplicate address detection. */
  nodad?: true;
  /** IFA_F_MANAGETEMPADDR on IPv6: the kernel makes temporary (privacy) addresses from this prefix. */
  mngtmpaddr?: true;
  /** IFA_F_NOPREFIXROUTE: added with `noprefixroute`, no route for the subnet was added. */
  noprefixroute?: true;
  /** IFA_F_MCAUTOJOIN: added with `autojoin`, the multicast group is joined. */
  autojoin?: true;
  /** Not IFA_F_PERMANENT: it expires (SLAAC, DHCP). */
  dynamic?: true;
  /** IFA_F_DADFAILED on IPv6: duplicate address detection found the address in use on the link. */
  dadfailed?: true;
  /** IFA_F_OPTIMISTIC on IPv6: usable during duplicate address detection (optimistic DAD, RFC 4429). */
  optimistic?: true;
  /** IFA_F_STABLE_PRIVACY on IPv6: the interface identifier is a stable-privacy one (RFC 7217). */
  'stable-privacy'?: true;
  /** IPv4 label. */
  label?: string;
  /** Seconds; 4294967295 is forever. */
  valid_life_time: number;
  /** Seconds left before the address is deprecated; 4294967295 is forever. */
  preferred_life_time: number;
}

/** Options of addresses.add / replace, named as `ip addr add` names them. @category Links and addresses */
export interface AddressOptions {
  /** IPv4 label: the link's name, or `NAME:SUFFIX` (at most 15 bytes). */
  label?: string;
  /** IPv6: skip duplicate address detection (the address is usable at once). */
  nodad?: boolean;
  /** Do not add the prefix route for the address's subnet. */
  noprefixroute?: boolean;
  /** `global` (default), `site`, `link`, `host`, or a number. */
  scope?: string | number;
  /** IPv4 broadcast address. */
  broadcast?: string;
  /** Peer address of a point-to-point link. */
  peer?: string;
  /** Valid lifetime in seconds (default forever). */
  validLft?: number;
  /** Preferred lifetime in seconds (default forever). */
  preferredLft?: number;
}

const SCOPES: [number, string][] = [
  [RT_SCOPE_UNIVERSE, 'global'], [RT_SCOPE_SITE, 'site'], [RT_SCOPE_LINK, 'link'], [RT_SCOPE_HOST, 'host'], [RT_SCOPE_NOWHERE, 'nowhere'],
];

export function scopeName(n: number): string {
  for (const [v, name] of SCOPES) if (v === n) return name;
  return String(n);
}

export function scopeNumber(s: string | number, op: string): number {
  if (typeof s === 'number') {
    if (!Number.isInteger(s) || s < 0 || s > 255) throw new RangeError(`${op}: scope must be 0-255, got ${quote(s)}`);
    return s;
  }
  for (const [v, name] of SCOPES) if (name === s) return v;
  throw new TypeError(`${op}: scope must be global, site, link, host, nowhere or a number, got ${quote(s)}`);
}

/** An address with its prefix: `10.96.0.1/32`, `fd00::1/128`; without a prefix, a host (/32, /128). @category Links and addresses */
export interface Cidr {
  /** The address family number: AF_INET (2) or AF_INET6 (10). */
  family: number;
  /** The address without its prefix, as given: `10.96.0.1`. */
  local: string;
  /** Prefix length in bits: as given, else 32 (IPv4) or 128 (IPv6). */
  prefixlen: number;
}

/**
 * Parses `ADDR[/PREFIXLEN]` as `ip addr add` takes it; without a prefix, a host address (/32, /128).
 * `op` names the caller in error messages. Throws TypeError when `text` is not an IPv4 or IPv6
 * address, RangeError when the prefix length is not a number in 0-32 (IPv4) or 0-128 (IPv6).
 * @category Links and addresses
 */
export function parseCidr(text: string, op: string): Cidr {
  if (typeof text !== 'string') throw new TypeError(`${op}: an address such as '10.96.0.1/32' is required`);
  const slash = text.indexOf('/');
  const local = slash < 0 ? text : text.slice(0, slash);
  const family = familyOf(local);
  if (family === undefined) throw new TypeError(`${op}: ${quote(local)} is not an IPv4 or IPv6 address`);
  const max = family === AF_INET ? 32 : 128;
  let prefixlen = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d+$/.test(p) || Number(p) > max) throw new RangeError(`${op}: prefix length of ${quote(text)} must be 0-${max}`);
    prefixlen = Number(p);
  }
  return { family, local, prefixlen };
}

// iproute2's order and names (ip/ipaddress.c print_addrinfo).
const FLAG_KEYS: [number, keyof Address][] = [
  [F.IFA_F_TENTATIVE, 'tentative'], [F.IFA_F_DEPRECATED, 'deprecated'], [F.IFA_F_HOMEADDRESS, 'home'],
  [F.IFA_F_NODAD, 'nodad'], [F.IFA_F_MANAGETEMPADDR, 'mngtmpaddr'], [F.IFA_F_NOPREFIXROUTE, 'noprefixroute'],
  [F.IFA_F_MCAUTOJOIN, 'autojoin'],
];

/** Decoded RTM_NEWADDR/RTM_DELADDR to the typed address, keys in `ip -j addr`'s order. */
export function toAddress(h: Ifaddrmsg, rec: AttrRecord): Address {
  const ci = rec.cacheinfo as { preferred: number; valid: number } | undefined;
  return addressOf(h.index, h.family, h.prefixlen, h.scope, (rec.flags as number | undefined) ?? h.flags,
    rec.local as string | undefined, rec.address as string | undefined, rec.broadcast as string | undefined,
    rec.label as string | undefined, ci?.valid, ci?.preferred);
}

/**
 * The typed address from the values of one RTM_NEWADDR: the meaning of {@link toAddress}, for
 * decoders that read the message without an attribute record (a dump of thousands of addresses).
 * `flags` is IFA_FLAGS when sent, else the header's 8 bits; `local` and `peer` are IFA_LOCAL and
 * IFA_ADDRESS; an attribute not sent is undefined, and lifetimes without IFA_CACHEINFO are forever.
 */
export function addressOf(
  index: number, family: number, prefixlen: number, scope: number, flags: number,
  local: string | undefined, peer: string | undefined, broadcast: string | undefined, label: string | undefined,
  valid: number | undefined, preferred: number | undefined,
): Address {
  const shown = local ?? peer ?? '';
  const a: Partial<Address> = {
    ifindex: index,
    family: family === AF_INET6 ? 'inet6' : 'inet',
    local: shown,
  };
  if (peer !== undefined && peer !== shown) a.address = peer;
  a.prefixlen = prefixlen;
  if (broadcast !== undefined) a.broadcast = broadcast;
  a.scope = scopeName(scope);
  if (flags & F.IFA_F_SECONDARY) a[family === AF_INET6 ? 'temporary' : 'secondary'] = true;
  for (const [bit, key] of FLAG_KEYS) if (flags & bit) (a as Record<string, unknown>)[key] = true;
  if (!(flags & F.IFA_F_PERMANENT)) a.dynamic = true;
  if (flags & F.IFA_F_DADFAILED) a.dadfailed = true;
  if (flags & F.IFA_F_OPTIMISTIC) a.optimistic = true;
  if (flags & F.IFA_F_STABLE_PRIVACY) a['stable-privacy'] = true;
  if (label !== undefined) a.label = label;
  a.valid_life_time = valid ?? 0xffffffff;
  a.preferred_life_time = preferred ?? 0xffffffff;
  return a as Address;
}

/** The attributes and header fields of an address to add, replace or delete. */
export function addressRequest(index: number, cidr: Cidr, o: AddressOptions, op: string): { header: Ifaddrmsg; attrs: AttrRecord } {
  checkObject(o, op, 'options');
  checkKeys(o, ADDRESS_KEYS, op);
  for (const k of ['nodad', 'noprefixroute'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new TypeError(`${op}: ${k} must be a boolean, got ${quote(o[k])}`);
  }
  let flags = 0;
  if (o.nodad) flags |= F.IFA_F_NODAD;
  if (o.noprefixroute) flags |= F.IFA_F_NOPREFIXROUTE;
  const attrs: AttrRecord = { local: cidr.local };
  if (o.label !== undefined) {
    if (cidr.family !== AF_INET) throw new TypeError(`${op}: labels are for IPv4 addresses`);
    if (typeof o.label !== 'string' || o.label === '' || Buffer.byteLength(o.label) >= IFNAMSIZ) throw new TypeError(`${op}: label must be 1-${IFNAMSIZ - 1} bytes`);
    attrs.label = o.label;
  }
  // iproute2 sends all flags in IFA_FLAGS (the header's byte is too narrow for NOPREFIXROUTE).
  if (flags) attrs.flags = flags;
  if (o.peer !== undefined) {
    if (familyOf(o.peer) !== cidr.family) throw new TypeError(`${op}: peer ${quote(o.peer)} is not of the address's family`);
    attrs.address = o.peer;
  } else {
    attrs.address = cidr.local;
  }
  if (o.broadcast !== undefined) {
    if (cidr.family !== AF_INET || familyOf(o.broadcast) !== AF_INET) throw new TypeError(`${op}: broadcast is an IPv4 address for IPv4 addresses`);
    attrs.broadcast = o.broadcast;
  }
  if (o.validLft !== undefined || o.preferredLft !== undefined) {
    const valid = o.validLft ?? 0xffffffff;
    const preferred = o.preferredLft ?? valid;
    for (const [k, v] of [['validLft', valid], ['preferredLft', preferred]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${op}: ${k} must be seconds 0-4294967295`);
    }
    if (preferred > valid) throw new RangeError(`${op}: preferredLft must not exceed validLft`);
    attrs.cacheinfo = { preferred, valid, cstamp: 0, tstamp: 0 };
  }
  const scope = o.scope === undefined ? RT_SCOPE_UNIVERSE : scopeNumber(o.scope, op);
  return { header: { family: cidr.family, prefixlen: cidr.prefixlen, flags: 0, scope, index }, attrs };
}
