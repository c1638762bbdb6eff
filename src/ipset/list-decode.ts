/**
 * LIST replies to sets, with a fast path for the entries. A dump of 50,000 entries decodes about
 * 200,000 attributes; through the schema decoder each entry costs an attribute record, a nested
 * address record and then the entry object. Here an entry is read in one pass over its bytes
 * straight into the object {@link toEntry} would build: same fields, same order, same values.
 *
 * Anything the fast path does not expect (a rarely seen attribute, an odd length, a malformed
 * message) goes to the schema decoder: an entry it cannot read alone is decoded generically, and a
 * message it cannot walk is decoded generically as a whole, so results and errors (DecodeError
 * with its path) stay exactly those of {@link decodeSetsGeneric}. Unit tests compare the two.
 *
 * @module
 * @internal
 */
import { decodeRecord, type AttrRecord } from '../netlink/attr';
import { dottedQuad, formatIPv6 } from '../netlink/address';
import { align4, nulString } from '../netlink/header';
import type { MessageOutcome } from '../netlink/protocol';
import { ipsetIpAddrReply, ipsetReplySchemas } from '../schema/ipset';
import { SIZEOF_NFGENMSG } from '../uapi/nfnetlink';
import { IPSET_FLAG_NOMATCH, IPSET_FLAG_PHYSDEV } from '../uapi/ipset';
import { NLA_TYPE_MASK } from '../uapi/netlink';
import { formatMac, toEntry, type IpsetEntry } from './entry';
import { ETH_ALEN } from '../uapi/if-ether';
import { protocolName } from './proto';
import { toSet, type IpsetSet } from './set';

const SET = ipsetReplySchemas.create;
const ENTRY = ipsetReplySchemas.adtData;
const ADT = SET.attrs.adt!.id;
const IPV4 = ipsetIpAddrReply.attrs.ipv4!.id;
const IPV6 = ipsetIpAddrReply.attrs.ipv6!.id;

// What the fast path does with each entry attribute id (from the schema: no number is written here).
const SKIP = 0, IP = 1, CIDR = 2, PROTO = 3, PORT = 4, IP2 = 5, CIDR2 = 6, TIMEOUT = 7, FLAGS = 8, MARK = 9,
  PACKETS = 10, BYTES = 11, COMMENT = 12, IFACE = 13, NAME = 14, LINENO = 15, GENERIC = 16, ETHER = 17;
const ACTION_OF: Record<string, number> = {
  ip: IP, cidr: CIDR, proto: PROTO, port: PORT, ip2: IP2, cidr2: CIDR2, timeout: TIMEOUT, cadtFlags: FLAGS,
  mark: MARK, packets: PACKETS, bytes: BYTES, comment: COMMENT, iface: IFACE, name: NAME, lineno: LINENO,
  ether: ETHER,
  // Decoded and dropped by toEntry: nothing to read (and nothing in it can fail to decode).
  nameref: SKIP,
};
/** Per attribute id: the action; ids outside the schema are unknown attributes, which toEntry drops. */
const ACTIONS = new Uint8Array((NLA_TYPE_MASK & 0xffff) + 1);
for (const [key, spec] of Object.entries(ENTRY.attrs)) ACTIONS[spec.id] = ACTION_OF[key] ?? GENERIC;

const PROTO_NAMES: (string | undefined)[] = new Array(256);

function protoName(n: number): string {
  return PROTO_NAMES[n] ??= protocolName(n);
}

/**
 * The address in an IPSET_ATTR_IP-like nest at `a` (its header) of length `len`, when the nest
 * holds exactly one address attribute of its proper size; undefined otherwise.
 */
function nestAddr(b: Buffer, a: number, len: number): string | undefined {
  if (len === 12 && b[a + 4] === 8 && b[a + 5] === 0 && ((b[a + 6] | (b[a + 7] << 8)) & NLA_TYPE_MASK) === IPV4) {
    return dottedQuad(b[a + 8]!, b[a + 9]!, b[a + 10]!, b[a + 11]!);
  }
  if (len === 24 && b[a + 4] === 20 && b[a + 5] === 0 && ((b[a + 6] | (b[a + 7] << 8)) & NLA_TYPE_MASK) === IPV6) {
    return formatIPv6(b.subarray(a + 8, a + 24));
  }
  return undefined;
}

const be32 = (b: Buffer, p: number) => ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
const be64 = (b: Buffer, p: number) => be32(b, p) * 4294967296 + be32(b, p + 4);

/**
 * The entry whose IPSET_ATTR_DATA payload is `b[p, q)`, as toEntry(decodeRecord(...)) makes it;
 * undefined when the fast path leaves it to the schema decoder.
 */
export function fastEntry(b: Buffer, p: number, q: number): IpsetEntry | undefined {
  let ip: string | undefined, ip2: string | undefined;
  let cidr = -1, proto = -1, port = -1, cidr2 = -1, timeout = -1, mark = -1, flags = -1;
  let packets: number | undefined, bytes: number | undefined;
  let comment: string | undefined, iface: string | undefined, name: string | undefined, mac: string | undefined;
  for (let a = p; a < q;) {
    if (q - a < 4) return undefined;
    const len = b[a]! | (b[a + 1]! << 8);
    if (len < 4 || a + len > q) return undefined;
    const v = a + 4;
    switch (ACTIONS[(b[a + 2]! | (b[a + 3]! << 8)) & NLA_TYPE_MASK]) {
      case SKIP: break;
      case IP: if ((ip = nestAddr(b, a, len)) === undefined) return undefined; break;
      case IP2: if ((ip2 = nestAddr(b, a, len)) === undefined) return undefined; break;
      case CIDR: if (len < 5) return undefined; cidr = b[v]!; break;
      case CIDR2: if (len < 5) return undefined; cidr2 = b[v]!; break;
      case PROTO: if (len < 5) return undefined; proto = b[v]!; break;
      case PORT: if (len < 6) return undefined; port = (b[v]! << 8) | b[v + 1]!; break;
      case TIMEOUT: if (len < 8) return undefined; timeout = be32(b, v); break;
      case FLAGS: if (len < 8) return undefined; flags = be32(b, v); break;
      case MARK: if (len < 8) return undefined; mark = be32(b, v); break;
      case LINENO: if (len < 8) return undefined; break;
      case PACKETS: if (len < 12) return undefined; packets = be64(b, v); break;
      case BYTES: if (len < 12) return undefined; bytes = be64(b, v); break;
      case COMMENT: comment = nulString(b, v, a + len); break;
      case IFACE: iface = nulString(b, v, a + len); break;
      case NAME: name = nulString(b, v, a + len); break;
      // toEntry takes a MAC of exactly ETH_ALEN bytes and drops any other length
      case ETHER: if (len === 4 + ETH_ALEN) mac = formatMac(b, v); else mac = undefined; break;
      default: return undefined;
    }
    a += (len + 3) & ~3;
  }
  // The common shapes as literals (one allocation, a shared map); toEntry's field order throughout.
  if (flags < 0 && cidr < 0 && ip2 === undefined && cidr2 < 0 && timeout < 0 && mark < 0 && packets === undefined && bytes === undefined &&
    comment === undefined && iface === undefined && name === undefined && mac === undefined && ip !== undefined) {
    if (port >= 0) return proto >= 0 ? { ip, proto: protoName(proto), port } : { ip, port };
    if (proto < 0) return { ip };
  }
  const e: IpsetEntry = {};
  if (ip !== undefined) e.ip = ip;
  if (cidr >= 0) e.cidr = cidr;
  if (proto >= 0) e.proto = protoName(proto);
  if (port >= 0) e.port = port;
  if (ip2 !== undefined) e.ip2 = ip2;
  if (cidr2 >= 0) e.cidr2 = cidr2;
  if (mac !== undefined) e.mac = mac;
  if (iface !== undefined) e.iface = iface;
  if (flags > 0 && flags & IPSET_FLAG_PHYSDEV) e.physdev = true;
  if (mark >= 0) e.mark = mark;
  if (name !== undefined) e.name = name;
  if (flags > 0 && flags & IPSET_FLAG_NOMATCH) e.nomatch = true;
  if (timeout >= 0) e.timeout = timeout;
  if (packets !== undefined) e.packets = packets;
  if (bytes !== undefined) e.bytes = bytes;
  if (comment !== undefined) e.comment = comment;
  return e;
}

function addRecord(sets: Map<string, IpsetSet>, rec: AttrRecord, headerOnly: boolean): void {
  const setname = rec.setname as string;
  let s = sets.get(setname);
  if (!s) {
    s = toSet(rec);
    if (!headerOnly) s.entries = [];
    sets.set(setname, s);
  }
  if (s.entries) for (const d of (rec.adt as AttrRecord[] | undefined) ?? []) s.entries.push(toEntry(d));
}

/** The sets in a LIST/SAVE dump, through the schema decoder only: what {@link decodeSets} must equal. */
export function decodeSetsGeneric(replies: Buffer, outcome: MessageOutcome, headerOnly = false): IpsetSet[] {
  const sets = new Map<string, IpsetSet>();
  for (const r of outcome.replies) {
    addRecord(sets, decodeRecord(replies, r.payload + align4(SIZEOF_NFGENMSG), r.end, SET, 'ipset'), headerOnly);
  }
  return [...sets.values()];
}

/**
 * One dump message `b[off, end)` (its attributes) into `sets` with the fast path; false, with
 * `sets` untouched, when the message is to be decoded generically.
 */
function fastMessage(b: Buffer, off: number, end: number, sets: Map<string, IpsetSet>, filled: Map<IpsetSet, number>): boolean {
  let adt = -1, adtLen = 0;
  for (let a = off; a < end;) {
    if (end - a < 4) return false;
    const len = b.readUInt16LE(a);
    if (len < 4 || a + len > end) return false;
    if ((b.readUInt16LE(a + 2) & NLA_TYPE_MASK) === ADT) {
      if (adt >= 0) return false;
      adt = a;
      adtLen = len;
    }
    a += align4(len);
  }
  if (adt < 0) return false;
  let rec: AttrRecord;
  try {
    rec = decodeRecord(b, off, adt, SET, 'ipset');
    const rest = adt + align4(adtLen);
    if (rest < end) Object.assign(rec, decodeRecord(b, rest, end, SET, 'ipset'));
  } catch {
    return false;
  }
  const setname = rec.setname;
  if (typeof setname !== 'string') return false;
  const known = sets.get(setname);
  const s = known ?? toSet(rec);
  if (!known) {
    // Sized from the header's count: growing an array to 50,000 by appends cost twice as much in
    // the VM (each larger copy is fresh memory). The slots past what arrives are cut off at the end.
    s.entries = s.elements > 0 ? new Array<IpsetEntry>(Math.min(s.elements, PREALLOCATE_MAX)) : [];
    filled.set(s, 0);
  }
  const entries = s.entries!;
  const before = filled.get(s) ?? entries.length;
  let at = before;
  const undo = (): false => {
    if (known) {
      if (filled.has(s)) filled.set(s, before);
      else entries.length = before;
    } else filled.delete(s);
    return false;
  };
  const q = adt + adtLen;
  for (let o = adt + 4; o < q;) {
    const l = q - o < 4 ? 0 : b[o]! | (b[o + 1]! << 8);
    if (l < 4 || o + l > q) return undo();
    let e = fastEntry(b, o + 4, o + l);
    if (e === undefined) {
      try {
        e = toEntry(decodeRecord(b, o + 4, o + l, ENTRY, `ipset.adt[${at - before}]`));
      } catch {
        return undo();
      }
    }
    entries[at++] = e;
    o += (l + 3) & ~3;
  }
  if (filled.has(s)) filled.set(s, at);
  if (!known) sets.set(setname, s);
  return true;
}

/** Largest entries array sized ahead from a header's count (a larger set grows past it). */
const PREALLOCATE_MAX = 1 << 22;

/** Cuts the sized-ahead entries arrays to what arrived; afterwards they are appended to. */
function trim(filled: Map<IpsetSet, number>): void {
  for (const [s, n] of filled) s.entries!.length = n;
  filled.clear();
}

/**
 * The sets in a LIST/SAVE dump: each set once (a set split over many messages repeats only its
 * name after the first), with its entries unless `headerOnly`. Equal to {@link decodeSetsGeneric}.
 */
export function decodeSets(replies: Buffer, outcome: MessageOutcome, headerOnly = false): IpsetSet[] {
  const sets = new Map<string, IpsetSet>();
  const filled = new Map<IpsetSet, number>();
  for (const r of outcome.replies) {
    const off = r.payload + align4(SIZEOF_NFGENMSG);
    if (!headerOnly && fastMessage(replies, off, r.end, sets, filled)) continue;
    trim(filled);
    addRecord(sets, decodeRecord(replies, off, r.end, SET, 'ipset'), headerOnly);
  }
  trim(filled);
  return [...sets.values()];
}
