/**
 * Sets: create options, the header the kernel reports, and the `create` line of `ipset save`.
 */
import type { AttrRecord } from '../netlink/attr';
import { familyOf } from '../netlink/address';
import { AF_INET } from '../uapi/netlink';
import { NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_UNSPEC } from '../uapi/netfilter';
import {
  IPSET_FLAG_WITH_COMMENT, IPSET_FLAG_WITH_COUNTERS, IPSET_FLAG_WITH_FORCEADD, IPSET_FLAG_WITH_SKBINFO,
} from '../uapi/ipset';
import { tokenize, type IpsetEntry } from './entry';
import { checkKeys, checkObject, keySet, quote } from '../validate';

/** Protocol family of a set, as ipset names it. @category ipset */
export type IpsetFamily = 'inet' | 'inet6';

/**
 * Options of `ipset create NAME TYPE ...`, named as the tool names them. Each type takes the
 * options it has a use for; the kernel refuses the rest.
 * @category ipset
 */
export interface IpsetCreateOptions {
  /** hash types: address family, default `'inet'` (hash:mac has none and refuses one). */
  family?: IpsetFamily;
  /** hash types: initial hash size (the kernel rounds up to a power of two). */
  hashsize?: number;
  /** hash types: maximal number of elements. */
  maxelem?: number;
  /** hash types: entries per bucket (revisions of kernel 5.11+). */
  bucketsize?: number;
  /** hash types: the hash seed (revisions of kernel 5.11+; `ipset save` prints it so restore reproduces the layout). */
  initval?: number;
  /** hash:ip, bitmap:ip: store addresses masked to this prefix length. */
  netmask?: number;
  /** hash:ip,mark: mask applied to marks. */
  markmask?: number;
  /** bitmap:ip, bitmap:ip,mac: `'10.0.0.0/24'` or `'10.0.0.0-10.0.0.255'`; bitmap:port: `'1024-65535'`. */
  range?: string;
  /** list:set: maximal number of member sets. */
  size?: number;
  /** Default entry timeout in seconds: entries expire (0: entries may set their own). */
  timeout?: number;
  /** Packet and byte counters per entry. */
  counters?: boolean;
  /** A comment per entry. */
  comment?: boolean;
  /** skbmark/skbprio/skbqueue per entry (the SET target's map-set). */
  skbinfo?: boolean;
  /** When full, evict a random entry instead of refusing the add (hash types). */
  forceadd?: boolean;
  /** Type revision to ask for; default: the newest the kernel has (IPSET_CMD_TYPE). */
  revision?: number;
}

/** A set as the kernel reports it (`ipset list`). `entries` is absent for a header-only read. @category ipset */
export interface IpsetSet {
  /** Set name (`Name:` in `ipset list`). */
  name: string;
  /** Set type, e.g. `hash:ip`, `bitmap:port`, `list:set` (`Type:`). */
  type: string;
  /** Revision of the type the set was created with (`Revision:`). */
  revision: number;
  /** Absent for bitmap:port and list:set, which have none. */
  family?: IpsetFamily;
  /** hash types: hash table size (`hashsize`). */
  hashsize?: number;
  /** hash types: maximal number of elements (`maxelem`). */
  maxelem?: number;
  /** hash types: entries per bucket (`bucketsize`), when the kernel reports it (5.11+ revisions). */
  bucketsize?: number;
  /** hash types: the hash seed (`initval`), when the kernel reports it (5.11+ revisions). */
  initval?: number;
  /** Prefix length addresses are masked to (`netmask`), when the set has one. */
  netmask?: number;
  /** hash:ip,mark: mask applied to marks (`markmask`). */
  markmask?: number;
  /** bitmap types: `'10.0.0.0-10.0.0.255'`, `'1-1024'`. */
  range?: string;
  /** list:set: maximal number of member sets (`size`). */
  size?: number;
  /** Default entry timeout in seconds (`timeout`); absent when the set has no timeout support. */
  timeout?: number;
  /** Created with `counters`: entries carry packet and byte counters. */
  counters: boolean;
  /** Created with `comment`: entries carry a comment. */
  comment: boolean;
  /** Created with `skbinfo`: entries carry skbmark/skbprio/skbqueue. */
  skbinfo: boolean;
  /** Created with `forceadd`: a full set evicts a random entry instead of refusing an add. */
  forceadd: boolean;
  /** References from rules and list:set members. */
  references: number;
  /** Memory used, bytes. */
  memsize: number;
  /** Number of entries. */
  elements: number;
  /** Kernel index of the set (protocol 7). */
  index?: number;
  /** The members (`Members:`), in the kernel's order; absent for a header-only read (`ipset list -t`). */
  entries?: IpsetEntry[];
}

const u32 = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;

function checkU32(o: IpsetCreateOptions, key: keyof IpsetCreateOptions, op: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!u32(v)) throw new RangeError(`${op}: ${key} must be an integer 0-4294967295, got ${quote(v)}`);
  return v as number;
}

/** The options of `ipset create`. */
export const IPSET_CREATE_KEYS = keySet([
  'family', 'hashsize', 'maxelem', 'bucketsize', 'initval', 'netmask', 'markmask', 'range', 'size', 'timeout',
  'counters', 'comment', 'skbinfo', 'forceadd', 'revision',
], 'create option');
/** What `ipset.create` takes: the create options and `exist`. */
export const IPSET_CREATE_EXIST_KEYS = keySet([...IPSET_CREATE_KEYS.names, 'exist'], 'create option');

/** The nfproto family number a CREATE of `type` carries. */
export function createFamily(type: string, o: IpsetCreateOptions, op: string): number {
  if (o.family !== undefined && o.family !== 'inet' && o.family !== 'inet6') {
    throw new TypeError(`${op}: family must be 'inet' or 'inet6', got ${quote(o.family)}`);
  }
  if (type === 'bitmap:port' || type === 'list:set') {
    if (o.family !== undefined) throw new TypeError(`${op}: ${type} has no family (it holds ${type === 'list:set' ? 'set names' : 'ports'})`);
    return NFPROTO_UNSPEC;
  }
  if ((type === 'bitmap:ip' || type === 'bitmap:ip,mac') && o.family === 'inet6') {
    throw new TypeError(`${op}: ${type} holds IPv4 addresses only, not family 'inet6'`);
  }
  // hash:mac matches on MACs alone: it has no family, and ipset refuses one (`Unknown argument: family`)
  if (type === 'hash:mac' && o.family !== undefined) throw new TypeError(`${op}: hash:mac takes no family`);
  if (type === 'bitmap:port' || type === 'list:set' || type === 'hash:mac') return NFPROTO_UNSPEC;
  if (type === 'bitmap:ip' || type === 'bitmap:ip,mac') return NFPROTO_IPV4;
  return o.family === 'inet6' ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

/**
 * IPSET_ATTR_DATA of a CREATE (checked: TypeError/RangeError before sending), in the order the
 * ipset tool writes them.
 */
export function createDataAttrs(type: string, o: IpsetCreateOptions, op: string, keys = IPSET_CREATE_EXIST_KEYS): AttrRecord {
  checkObject(o, op, 'options');
  checkKeys(o, keys, op);
  for (const k of ['counters', 'comment', 'skbinfo', 'forceadd'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new TypeError(`${op}: ${k} must be a boolean, got ${quote(o[k])}`);
  }
  // options the type has no use for: the kernel ignores them (its policy has no place for them)
  const hash = type.startsWith('hash:');
  for (const k of ['hashsize', 'maxelem', 'bucketsize', 'initval'] as const) {
    if (o[k] !== undefined && !hash) throw new TypeError(`${op}: ${k} is an option of hash types, not of ${type}`);
  }
  if (o.size !== undefined && type !== 'list:set') throw new TypeError(`${op}: size is an option of list:set, not of ${type}`);
  if (o.markmask !== undefined && type !== 'hash:ip,mark') throw new TypeError(`${op}: markmask is an option of hash:ip,mark, not of ${type}`);
  const rec: AttrRecord = {};
  if (o.range !== undefined) Object.assign(rec, rangeAttrs(type, o.range, op));
  else if (type.startsWith('bitmap:')) throw new TypeError(`${op}: ${type} needs a range`);
  const timeout = checkU32(o, 'timeout', op);
  if (timeout !== undefined) rec.timeout = timeout;
  let flags = 0;
  if (o.counters) flags |= IPSET_FLAG_WITH_COUNTERS;
  if (o.comment) flags |= IPSET_FLAG_WITH_COMMENT;
  if (o.forceadd) flags |= IPSET_FLAG_WITH_FORCEADD;
  if (o.skbinfo) flags |= IPSET_FLAG_WITH_SKBINFO;
  if (flags) rec.cadtFlags = flags;
  const markmask = checkU32(o, 'markmask', op);
  if (markmask !== undefined) rec.markmask = markmask;
  const hashsize = checkU32(o, 'hashsize', op);
  if (hashsize !== undefined) rec.hashsize = hashsize;
  const maxelem = checkU32(o, 'maxelem', op);
  if (maxelem !== undefined) rec.maxelem = maxelem;
  if (o.netmask !== undefined) {
    const max = o.family === 'inet6' ? 128 : 32;
    if (!Number.isInteger(o.netmask) || o.netmask < 1 || o.netmask > max) throw new RangeError(`${op}: netmask must be 1-${max}, got ${quote(o.netmask)}`);
    rec.netmask = o.netmask;
  }
  if (o.bucketsize !== undefined) {
    if (!Number.isInteger(o.bucketsize) || o.bucketsize < 2 || o.bucketsize > 255) throw new RangeError(`${op}: bucketsize must be 2-255, got ${quote(o.bucketsize)}`);
    rec.bucketsize = o.bucketsize;
  }
  const initval = checkU32(o, 'initval', op);
  if (initval !== undefined) rec.initval = initval;
  const size = checkU32(o, 'size', op);
  if (size !== undefined) rec.size = size;
  return rec;
}

function rangeAttrs(type: string, range: string, op: string): AttrRecord {
  if (typeof range !== 'string') throw new TypeError(`${op}: range must be text`);
  if (type === 'bitmap:port') {
    const m = /^(\d+)-(\d+)$/.exec(range);
    if (!m || Number(m[1]) > 65535 || Number(m[2]) > 65535) throw new TypeError(`${op}: bitmap:port range must be FROM-TO ports, got ${quote(range)}`);
    return { port: Number(m[1]), portTo: Number(m[2]) };
  }
  if (type === 'bitmap:ip' || type === 'bitmap:ip,mac') {
    const slash = /^([^/]+)\/(\d+)$/.exec(range);
    if (slash && familyOf(slash[1]!) === AF_INET && Number(slash[2]) <= 32) {
      return { ip: { ipv4: slash[1] }, cidr: Number(slash[2]) };
    }
    const dash = /^([^-]+)-([^-]+)$/.exec(range);
    if (dash && familyOf(dash[1]!) === AF_INET && familyOf(dash[2]!) === AF_INET) {
      return { ip: { ipv4: dash[1] }, ipTo: { ipv4: dash[2] } };
    }
    throw new TypeError(`${op}: ${type} range must be A.B.C.D/LEN or FROM-TO IPv4 addresses, got ${quote(range)}`);
  }
  throw new TypeError(`${op}: ${type} takes no range`);
}

function addrOf(rec: unknown): string | undefined {
  const r = rec as { ipv4?: string; ipv6?: string } | undefined;
  return r?.ipv4 ?? r?.ipv6;
}

/** A LIST/HEADER reply's first-level attributes to the typed set (without entries). */
export function toSet(rec: AttrRecord): IpsetSet {
  const d = (rec.data as AttrRecord | undefined) ?? {};
  const flags = (d.cadtFlags as number | undefined) ?? 0;
  const fam = rec.family as number | undefined;
  const s: IpsetSet = {
    name: rec.setname as string,
    type: (rec.typename as string | undefined) ?? '',
    revision: (rec.revision as number | undefined) ?? 0,
    counters: (flags & IPSET_FLAG_WITH_COUNTERS) !== 0,
    comment: (flags & IPSET_FLAG_WITH_COMMENT) !== 0,
    skbinfo: (flags & IPSET_FLAG_WITH_SKBINFO) !== 0,
    forceadd: (flags & IPSET_FLAG_WITH_FORCEADD) !== 0,
    references: (d.references as number | undefined) ?? 0,
    memsize: (d.memsize as number | undefined) ?? 0,
    elements: (d.elements as number | undefined) ?? 0,
  };
  if (fam === NFPROTO_IPV4) s.family = 'inet';
  else if (fam === NFPROTO_IPV6) s.family = 'inet6';
  for (const k of ['hashsize', 'maxelem', 'bucketsize', 'initval', 'netmask', 'markmask', 'size', 'timeout'] as const) {
    if (d[k] !== undefined) s[k] = d[k] as number;
  }
  if (d.port !== undefined && d.portTo !== undefined) s.range = `${d.port}-${d.portTo}`;
  else if (d.ip !== undefined && d.ipTo !== undefined) s.range = `${addrOf(d.ip)}-${addrOf(d.ipTo)}`;
  else if (d.ip !== undefined && d.cidr !== undefined) s.range = `${addrOf(d.ip)}/${d.cidr}`;
  if (rec.index !== undefined) s.index = rec.index as number;
  return s;
}

/** Create options that reproduce a set (what `ipset save` writes on its `create` line). */
export function createOptionsOf(s: IpsetSet): IpsetCreateOptions {
  const o: IpsetCreateOptions = {};
  if (s.family && !s.type.startsWith('bitmap:')) o.family = s.family;
  for (const k of ['hashsize', 'maxelem', 'bucketsize', 'initval', 'netmask', 'markmask', 'size', 'timeout', 'range'] as const) {
    if (s[k] !== undefined) (o as Record<string, unknown>)[k] = s[k];
  }
  for (const k of ['counters', 'comment', 'skbinfo', 'forceadd'] as const) if (s[k]) o[k] = true;
  return o;
}

const hex8 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/**
 * The options of a `create` line as `ipset save` prints them: `family inet hashsize 1024 maxelem
 * 65536 timeout 60 counters bucketsize 12 initval 0x...`. `forceadd` (which ipset 7.17's save
 * leaves out although the kernel reports it) is printed, so a restore keeps it.
 * @category ipset
 */
export function formatCreateOptions(type: string, o: IpsetCreateOptions): string {
  const w: string[] = [];
  if (type.startsWith('hash:') && type !== 'hash:mac') w.push(`family ${o.family ?? 'inet'}`);
  if (o.range !== undefined) w.push(`range ${o.range}`);
  if (o.markmask !== undefined) w.push(`markmask ${hex8(o.markmask)}`);
  if (o.hashsize !== undefined) w.push(`hashsize ${o.hashsize}`);
  if (o.maxelem !== undefined) w.push(`maxelem ${o.maxelem}`);
  if (o.netmask !== undefined) w.push(`netmask ${o.netmask}`);
  if (o.size !== undefined) w.push(`size ${o.size}`);
  if (o.timeout !== undefined) w.push(`timeout ${o.timeout}`);
  if (o.counters) w.push('counters');
  if (o.comment) w.push('comment');
  if (o.skbinfo) w.push('skbinfo');
  if (o.forceadd) w.push('forceadd');
  if (o.bucketsize !== undefined) w.push(`bucketsize ${o.bucketsize}`);
  if (o.initval !== undefined) w.push(`initval ${hex8(o.initval)}`);
  return w.join(' ');
}

/** Parses the options of a `create` line (the words after the type). Throws TypeError. @category ipset */
export function parseCreateOptions(words: readonly string[] | string, op = 'ipset.parseCreateOptions'): IpsetCreateOptions {
  const ws = typeof words === 'string' ? tokenize(words) : words;
  const o: IpsetCreateOptions = {};
  const num = (w: string, v: string | undefined) => {
    if (v === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(v)) throw new TypeError(`${op}: ${quote(w)} needs a number, got ${quote(v)}`);
    return Number(v);
  };
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    switch (w) {
      case 'family': {
        const f = ws[++i];
        if (f !== 'inet' && f !== 'inet6') throw new TypeError(`${op}: family must be inet or inet6, got ${quote(f)}`);
        o.family = f;
        break;
      }
      case '-4': o.family = 'inet'; break;
      case '-6': o.family = 'inet6'; break;
      case 'range': {
        const r = ws[++i];
        if (r === undefined) throw new TypeError(`${op}: 'range' needs a value`);
        o.range = r;
        break;
      }
      case 'hashsize': case 'maxelem': case 'bucketsize': case 'initval': case 'netmask': case 'markmask':
      case 'size': case 'timeout': case 'revision':
        o[w] = num(w, ws[++i]);
        break;
      case 'counters': case 'comment': case 'skbinfo': case 'forceadd':
        o[w] = true;
        break;
      default:
        throw new TypeError(`${op}: unknown create option ${quote(w)}`);
    }
  }
  return o;
}
