/**
 * Set entries: the typed object, its attributes on the wire, and its text in ipset's syntax
 * (`10.0.0.1,udp:53 timeout 30 comment "dns"`), both ways.
 */
import type { AttrRecord } from '../netlink/attr';
import { familyOf } from '../netlink/address';
import { AF_INET, IPPROTO_TCP } from '../uapi/netlink';
import { IPSET_FLAG_BEFORE, IPSET_FLAG_NOMATCH, IPSET_FLAG_PHYSDEV, IPSET_MAX_COMMENT_SIZE, IPSET_MAXNAMELEN } from '../uapi/ipset';
import { IFNAMSIZ } from '../uapi/if';
import { ETH_ALEN } from '../uapi/if-ether';
import { formatIcmp, isIcmp, parseIcmp, protocolName, protocolNumber } from './proto';
import { checkKeys, checkNeeds, checkExclusive, keySet, quote, type KeySet } from '../validate';

/**
 * One member of a set, in the vocabulary of the ipset tool. Which fields apply depends on the set
 * type: `ip` (hash:ip, hash:net, bitmap:ip, and the first part of the others), `proto`/`port`
 * (the `,port` part), `ip2` (hash:ip,port,ip / hash:ip,port,net), `iface` (hash:net,iface),
 * `mark` (hash:ip,mark), `mac` (hash:mac, hash:ip,mac, bitmap:ip,mac), `name` (list:set).
 * @category ipset
 */
export interface IpsetEntry {
  /** IPv4 or IPv6 address; with `cidr` a network, with `ipTo` a range (IPv4) the kernel expands. */
  ip?: string;
  /** Prefix length of `ip`. The kernel reports it for net types (printed when not a host). */
  cidr?: number;
  /** End of an address range starting at `ip` (IPv4; `10.0.0.1-10.0.0.9`). */
  ipTo?: string;
  /** Protocol of the port: a name (`tcp`, `udp`, `sctp`, `udplite`, `icmp`, `ipv6-icmp`, any name in /etc/protocols) or number. Default `tcp`. */
  proto?: string | number;
  /** Port, 0-65535; for icmp and ipv6-icmp the kernel's `type << 8 | code`. */
  port?: number;
  /** End of a port range starting at `port`. */
  portTo?: number;
  /** Second address (hash:ip,port,ip, hash:ip,port,net, hash:net,net). */
  ip2?: string;
  /** Prefix length of `ip2`. */
  cidr2?: number;
  /** End of a range starting at `ip2`. */
  ip2To?: string;
  /**
   * MAC address (hash:mac, hash:ip,mac, bitmap:ip,mac): six bytes in hex separated by colons, as
   * ipset takes it (`aa:bb:cc:dd:ee:ff`, `0:1:2:3:4:5`); read back in capitals with two digits per
   * byte, as ipset prints it (`AA:BB:CC:DD:EE:FF`). A bitmap:ip,mac entry may have none: the
   * kernel then fills in the source MAC of the first packet that matches its address.
   */
  mac?: string;
  /** Interface name (hash:net,iface). */
  iface?: string;
  /** Match the bridge port (`physdev:IFACE`) rather than the interface. */
  physdev?: boolean;
  /** Packet mark (hash:ip,mark). */
  mark?: number;
  /** Member set (list:set). */
  name?: string;
  /** list:set: insert before this member... */
  before?: string;
  /** ...or after it. */
  after?: string;
  /** An exception: matching packets do not match the set (net types). */
  nomatch?: boolean;
  /** Seconds until the entry expires (sets created with a timeout; 0: never). */
  timeout?: number;
  /** Packet counter (sets with counters). */
  packets?: number;
  /** Byte counter (sets with counters). */
  bytes?: number;
  /** Comment (sets created with `comment`), at most 255 bytes. */
  comment?: string;
  /** skbinfo: the mark to set... */
  skbmark?: number;
  /** ...and its mask (default 0xffffffff). */
  skbmarkMask?: number;
  /** skbinfo: the priority to set, `MAJOR:MINOR` in hex as tc writes it. */
  skbprio?: string;
  /** skbinfo: the transmit queue to set. */
  skbqueue?: number;
}

/** An entry, or its text in the set's syntax (`'10.0.0.1,tcp:80 timeout 30'`). @category ipset */
export type IpsetEntryInput = IpsetEntry | string;

/** The parts of an entry's element text, per set type. */
type Dim = 'ip' | 'port' | 'ip2' | 'iface' | 'mark' | 'mac' | 'set';

const DIMS: Record<string, Dim[]> = {
  'hash:ip': ['ip'],
  'hash:net': ['ip'],
  'hash:ip,port': ['ip', 'port'],
  'hash:net,port': ['ip', 'port'],
  'hash:ip,port,ip': ['ip', 'port', 'ip2'],
  'hash:ip,port,net': ['ip', 'port', 'ip2'],
  'hash:net,port,net': ['ip', 'port', 'ip2'],
  'hash:net,net': ['ip', 'ip2'],
  'hash:net,iface': ['ip', 'iface'],
  'hash:ip,mark': ['ip', 'mark'],
  'hash:mac': ['mac'],
  'hash:ip,mac': ['ip', 'mac'],
  'bitmap:ip': ['ip'],
  'bitmap:ip,mac': ['ip', 'mac'],
  'bitmap:port': ['port'],
  'list:set': ['set'],
};

/** The set types whose entries this library reads and writes as text. @category ipset */
export const IPSET_TYPES: readonly string[] = Object.keys(DIMS);

/** The entry fields of each part of an element. */
const DIM_FIELDS: Record<Dim, string[]> = {
  ip: ['ip', 'cidr', 'ipTo'], port: ['proto', 'port', 'portTo'], ip2: ['ip2', 'cidr2', 'ip2To'],
  iface: ['iface', 'physdev'], mark: ['mark'], mac: ['mac'], set: ['name', 'before', 'after'],
};
/** Fields every type takes (extensions: the kernel refuses those the set was not created with). */
const EXTENSION_FIELDS = ['nomatch', 'timeout', 'packets', 'bytes', 'comment', 'skbmark', 'skbmarkMask', 'skbprio', 'skbqueue'];
/** Every field of an entry. */
export const ENTRY_KEYS: KeySet = keySet([...Object.values(DIM_FIELDS).flat(), ...EXTENSION_FIELDS], 'entry field');


function dimsOf(type: string, op: string): Dim[] {
  const d = DIMS[type];
  if (!d) throw new TypeError(`${op}: set type ${quote(type)} is not supported for text entries (supported: ${IPSET_TYPES.join(', ')})`);
  return d;
}

const u32 = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;

function checkAddr(v: unknown, what: string, op: string): number {
  const f = typeof v === 'string' ? familyOf(v) : undefined;
  if (f === undefined) throw new TypeError(`${op}: ${what} ${quote(v)} is not an IPv4 or IPv6 address`);
  return f;
}

function addrAttr(addr: string, family: number): AttrRecord {
  return family === AF_INET ? { ipv4: addr } : { ipv6: addr };
}

function checkCidr(v: unknown, family: number, what: string, op: string): number {
  const max = family === AF_INET ? 32 : 128;
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) throw new RangeError(`${op}: ${what} must be 0-${max}, got ${quote(v)}`);
  return v as number;
}

function checkPort(v: unknown, what: string, op: string): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65535) throw new RangeError(`${op}: ${what} must be 0-65535, got ${quote(v)}`);
  return v as number;
}

/**
 * The six bytes of a MAC address in ipset's syntax: six hex numbers of at most 255 separated by
 * colons, 17 characters at most (ipset_parse_ether). Undefined when the text is not one.
 */
export function parseMac(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || text.length > ETH_ALEN * 3 - 1) return undefined;
  const parts = text.split(':');
  if (parts.length !== ETH_ALEN) return undefined;
  const b = Buffer.alloc(ETH_ALEN);
  for (let i = 0; i < ETH_ALEN; i++) {
    if (!/^[0-9a-f]+$/i.test(parts[i]!)) return undefined;
    const n = parseInt(parts[i]!, 16);
    if (n > 255) return undefined;
    b[i] = n;
  }
  return b;
}

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** A MAC address as ipset prints it: `AA:BB:CC:DD:EE:FF`. */
export function formatMac(b: Uint8Array, at = 0): string {
  return `${HEX2[b[at]!]}:${HEX2[b[at + 1]!]}:${HEX2[b[at + 2]!]}:${HEX2[b[at + 3]!]}:${HEX2[b[at + 4]!]}:${HEX2[b[at + 5]!]}`;
}

function protoNumber(p: string | number, op: string): number {
  const n = typeof p === 'number' ? (Number.isInteger(p) && p >= 0 && p <= 255 ? p : undefined) : protocolNumber(p);
  if (n === undefined) throw new TypeError(`${op}: unknown protocol ${quote(p)}`);
  return n;
}

/**
 * Checks an entry and returns its IPSET_ATTR_DATA attributes (TypeError/RangeError before
 * anything is sent). `type` (when known) drops what the type has no place for, such as a protocol
 * on bitmap:port, and adds the tool's default protocol (tcp) to a port.
 */
export function entryAttrs(e: IpsetEntry, op: string, type?: string): AttrRecord {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new TypeError(`${op}: an entry object or text is required`);
  checkKeys(e, ENTRY_KEYS, op);
  const o = e as Record<string, unknown>;
  // the kernel reads a range's end before a prefix length, and ignores the one it does not read
  checkExclusive(o, ['cidr', 'ipTo'], op, 'a network or a range');
  checkExclusive(o, ['cidr2', 'ip2To'], op, 'a network or a range');
  checkNeeds(o, 'portTo', 'port', op);
  checkNeeds(o, 'cidr2', 'ip2', op);
  checkNeeds(o, 'ip2To', 'ip2', op);
  checkNeeds(o, 'physdev', 'iface', op);
  checkNeeds(o, 'before', 'name', op);
  checkNeeds(o, 'after', 'name', op);
  if (e.nomatch !== undefined && typeof e.nomatch !== 'boolean') throw new TypeError(`${op}: nomatch must be a boolean, got ${quote(e.nomatch)}`);
  if (e.physdev !== undefined && typeof e.physdev !== 'boolean') throw new TypeError(`${op}: physdev must be a boolean, got ${quote(e.physdev)}`);
  const rec: AttrRecord = {};
  let flags = 0;
  if (e.ip !== undefined) {
    const f = checkAddr(e.ip, 'ip', op);
    rec.ip = addrAttr(e.ip, f);
    if (e.cidr !== undefined) rec.cidr = checkCidr(e.cidr, f, 'cidr', op);
    if (e.ipTo !== undefined) {
      if (checkAddr(e.ipTo, 'ipTo', op) !== f) throw new TypeError(`${op}: ipTo ${quote(e.ipTo)} is not of the family of ip ${quote(e.ip)}`);
      rec.ipTo = addrAttr(e.ipTo, f);
    }
  } else if (e.cidr !== undefined || e.ipTo !== undefined) {
    throw new TypeError(`${op}: cidr and ipTo need ip`);
  }
  if (e.port !== undefined) {
    rec.port = checkPort(e.port, 'port', op);
    if (e.portTo !== undefined) rec.portTo = checkPort(e.portTo, 'portTo', op);
  }
  if (e.ip2 !== undefined) {
    const f = checkAddr(e.ip2, 'ip2', op);
    rec.ip2 = addrAttr(e.ip2, f);
    if (e.cidr2 !== undefined) rec.cidr2 = checkCidr(e.cidr2, f, 'cidr2', op);
    if (e.ip2To !== undefined) rec.ip2To = addrAttr(e.ip2To, checkAddr(e.ip2To, 'ip2To', op));
  }
  if (e.mac !== undefined) {
    const mac = parseMac(e.mac);
    if (!mac) throw new TypeError(`${op}: mac must be a MAC address such as 'aa:bb:cc:dd:ee:ff', got ${quote(e.mac)}`);
    rec.ether = mac;
  }
  if (e.iface !== undefined) {
    if (typeof e.iface !== 'string' || e.iface === '' || Buffer.byteLength(e.iface) >= IFNAMSIZ) {
      throw new TypeError(`${op}: iface must be an interface name under ${IFNAMSIZ} bytes, got ${quote(e.iface)}`);
    }
    rec.iface = e.iface;
    if (e.physdev) flags |= IPSET_FLAG_PHYSDEV;
  }
  if (e.mark !== undefined) {
    if (!u32(e.mark)) throw new RangeError(`${op}: mark must be a 32-bit unsigned integer, got ${quote(e.mark)}`);
    rec.mark = e.mark;
  }
  if (e.name !== undefined) {
    checkSetName(e.name, 'name', op);
    rec.name = e.name;
    if (e.before !== undefined && e.after !== undefined) throw new TypeError(`${op}: give before or after, not both`);
    const ref = e.before ?? e.after;
    if (ref !== undefined) {
      checkSetName(ref, e.before !== undefined ? 'before' : 'after', op);
      rec.nameref = ref;
      if (e.before !== undefined) flags |= IPSET_FLAG_BEFORE;
    }
  }
  if (e.timeout !== undefined) {
    if (!u32(e.timeout)) throw new RangeError(`${op}: timeout must be seconds (0-4294967295), got ${quote(e.timeout)}`);
    rec.timeout = e.timeout;
  }
  if (e.port !== undefined && type !== 'bitmap:port') {
    rec.proto = protoNumber(e.proto ?? IPPROTO_TCP, op);
  } else if (e.proto !== undefined && type !== 'bitmap:port') {
    rec.proto = protoNumber(e.proto, op);
  }
  if (e.nomatch) flags |= IPSET_FLAG_NOMATCH;
  if (flags) rec.cadtFlags = flags;
  if (e.packets !== undefined) rec.packets = counter(e.packets, 'packets', op);
  if (e.bytes !== undefined) rec.bytes = counter(e.bytes, 'bytes', op);
  if (e.comment !== undefined) {
    if (typeof e.comment !== 'string' || Buffer.byteLength(e.comment) > IPSET_MAX_COMMENT_SIZE || /["\n\r]/.test(e.comment)) {
      throw new TypeError(`${op}: comment must be text of at most ${IPSET_MAX_COMMENT_SIZE} bytes without quotes or line breaks`);
    }
    rec.comment = e.comment;
  }
  if (e.skbmark !== undefined || e.skbmarkMask !== undefined) {
    const mark = e.skbmark ?? 0;
    const mask = e.skbmarkMask ?? 0xffffffff;
    if (!u32(mark) || !u32(mask)) throw new RangeError(`${op}: skbmark and skbmarkMask must be 32-bit unsigned integers`);
    rec.skbmark = (BigInt(mark) << 32n) | BigInt(mask);
  }
  if (e.skbprio !== undefined) rec.skbprio = parseSkbprio(e.skbprio, op);
  if (e.skbqueue !== undefined) rec.skbqueue = checkPort(e.skbqueue, 'skbqueue', op);
  return rec;
}

function counter(v: unknown, what: string, op: string): bigint {
  if (!Number.isInteger(v) || (v as number) < 0) throw new RangeError(`${op}: ${what} must be a non-negative integer, got ${quote(v)}`);
  return BigInt(v as number);
}

/** Set names: 1-31 bytes (IPSET_MAXNAMELEN with its NUL). */
export function checkSetName(name: unknown, what: string, op: string): void {
  if (typeof name !== 'string' || name === '' || Buffer.byteLength(name) >= IPSET_MAXNAMELEN || /[\s"]/.test(name)) {
    throw new TypeError(`${op}: ${what} must be a set name of 1-${IPSET_MAXNAMELEN - 1} bytes without spaces or quotes, got ${quote(name)}`);
  }
}

function parseSkbprio(text: string, op: string): number {
  const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(String(text));
  if (!m) throw new TypeError(`${op}: skbprio must be MAJOR:MINOR in hex (as tc writes it), got ${quote(text)}`);
  return (parseInt(m[1]!, 16) << 16 | parseInt(m[2]!, 16)) >>> 0;
}

function addrOf(rec: unknown): string | undefined {
  const r = rec as { ipv4?: string; ipv6?: string } | undefined;
  return r?.ipv4 ?? r?.ipv6;
}

/** Decoded IPSET_ATTR_DATA attributes of an entry to the typed object. */
export function toEntry(rec: AttrRecord): IpsetEntry {
  const e: IpsetEntry = {};
  const flags = (rec.cadtFlags as number | undefined) ?? 0;
  if (rec.ip !== undefined) e.ip = addrOf(rec.ip);
  if (rec.cidr !== undefined) e.cidr = rec.cidr as number;
  if (rec.ipTo !== undefined) e.ipTo = addrOf(rec.ipTo);
  if (rec.proto !== undefined) e.proto = protocolName(rec.proto as number);
  if (rec.port !== undefined) e.port = rec.port as number;
  if (rec.portTo !== undefined) e.portTo = rec.portTo as number;
  if (rec.ip2 !== undefined) e.ip2 = addrOf(rec.ip2);
  if (rec.cidr2 !== undefined) e.cidr2 = rec.cidr2 as number;
  if (rec.ip2To !== undefined) e.ip2To = addrOf(rec.ip2To);
  if (rec.ether instanceof Uint8Array && rec.ether.length === ETH_ALEN) e.mac = formatMac(rec.ether);
  if (rec.iface !== undefined) e.iface = rec.iface as string;
  if (flags & IPSET_FLAG_PHYSDEV) e.physdev = true;
  if (rec.mark !== undefined) e.mark = rec.mark as number;
  if (rec.name !== undefined) e.name = rec.name as string;
  if (flags & IPSET_FLAG_NOMATCH) e.nomatch = true;
  if (rec.timeout !== undefined) e.timeout = rec.timeout as number;
  if (rec.packets !== undefined) e.packets = Number(rec.packets as bigint);
  if (rec.bytes !== undefined) e.bytes = Number(rec.bytes as bigint);
  if (rec.comment !== undefined) e.comment = rec.comment as string;
  if (rec.skbmark !== undefined) {
    const v = rec.skbmark as bigint;
    e.skbmark = Number(v >> 32n);
    e.skbmarkMask = Number(v & 0xffffffffn);
  }
  if (rec.skbprio !== undefined) {
    const v = rec.skbprio as number;
    e.skbprio = `${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`;
  }
  if (rec.skbqueue !== undefined) e.skbqueue = rec.skbqueue as number;
  return e;
}

// ---- text -------------------------------------------------------------------------------------

/** Splits a line into words; double quotes group words (`comment "a b"`). */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}

function parseAddrPart(text: string, which: 'ip' | 'ip2', e: IpsetEntry, op: string): void {
  const slash = text.indexOf('/');
  const dash = text.indexOf('-');
  let addr = text;
  if (slash >= 0) {
    addr = text.slice(0, slash);
    const c = text.slice(slash + 1);
    if (!/^\d+$/.test(c)) throw new TypeError(`${op}: ${quote(text)} has a bad prefix length`);
    if (which === 'ip') e.cidr = Number(c); else e.cidr2 = Number(c);
  } else if (dash >= 0 && familyOf(text) === undefined) {
    addr = text.slice(0, dash);
    if (which === 'ip') e.ipTo = text.slice(dash + 1); else e.ip2To = text.slice(dash + 1);
  }
  if (familyOf(addr) === undefined) throw new TypeError(`${op}: ${quote(addr)} is not an IPv4 or IPv6 address`);
  if (which === 'ip') e.ip = addr; else e.ip2 = addr;
}

function parsePortPart(text: string, e: IpsetEntry, op: string, withProto: boolean): void {
  let rest = text;
  const colon = text.indexOf(':');
  if (colon >= 0) {
    const name = text.slice(0, colon);
    rest = text.slice(colon + 1);
    const n = protocolNumber(name);
    if (n === undefined) throw new TypeError(`${op}: unknown protocol ${quote(name)} in ${quote(text)}`);
    if (withProto) e.proto = protocolName(n);
    if (isIcmp(n)) {
      const v = parseIcmp(n, rest);
      if (v === undefined) throw new TypeError(`${op}: unknown ICMP type ${quote(rest)} (a name such as echo-request, or TYPE/CODE)`);
      e.port = v;
      return;
    }
  }
  const m = /^(\d+)(?:-(\d+))?$/.exec(rest);
  if (!m) throw new TypeError(`${op}: ${quote(text)} is not a port, [PROTO:]PORT[-PORT]`);
  e.port = Number(m[1]);
  if (m[2] !== undefined) e.portTo = Number(m[2]);
  if (withProto && e.proto === undefined) e.proto = 'tcp';
}

function parseNumber(text: string | undefined, what: string, op: string): number {
  if (text === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new TypeError(`${op}: ${what} needs a number, got ${quote(text)}`);
  return Number(text);
}

/**
 * Parses an entry in the set type's syntax, as `ipset add` takes it after the set name:
 * `'10.0.0.0/24,tcp:80 timeout 30 nomatch comment "x"'`. Throws TypeError naming what is wrong.
 * @category ipset
 */
export function parseEntry(type: string, text: string, op = 'ipset.parseEntry'): IpsetEntry {
  const words = tokenize(text);
  if (words.length === 0) throw new TypeError(`${op}: empty entry`);
  const e: IpsetEntry = {};
  const dims = dimsOf(type, op);
  const elem = words[0]!;
  // IPv6 addresses contain no commas, so a comma always separates parts.
  const parts = elem.split(',');
  // bitmap:ip,mac takes an address alone: the kernel fills the MAC in from traffic
  const optionalLast = type === 'bitmap:ip,mac' && parts.length === 1;
  if (parts.length !== dims.length && !optionalLast) throw new TypeError(`${op}: ${quote(elem)} does not fit ${type} (${dims.length} part${dims.length > 1 ? 's' : ''} separated by commas)`);
  dims.forEach((d, i) => {
    const p = parts[i];
    if (p === undefined) return;
    switch (d) {
      case 'ip': parseAddrPart(p, 'ip', e, op); break;
      case 'ip2': parseAddrPart(p, 'ip2', e, op); break;
      case 'port': parsePortPart(p, e, op, type !== 'bitmap:port'); break;
      case 'iface':
        if (p.startsWith('physdev:')) { e.physdev = true; e.iface = p.slice('physdev:'.length); } else e.iface = p;
        break;
      case 'mark': e.mark = parseNumber(p, 'mark', op); break;
      case 'mac': {
        const mac = parseMac(p);
        if (!mac) throw new TypeError(`${op}: cannot parse '${p}' as ethernet address`);
        e.mac = formatMac(mac);
        break;
      }
      case 'set': e.name = p; break;
    }
  });
  if (dims.includes('mac') && dims[0] === 'ip' && (e.cidr !== undefined || e.ipTo !== undefined)) {
    // as ipset refuses them before sending: these types store single addresses
    throw new TypeError(`${op}: ${type} takes a plain IP address, not a range or network: '${parts[0]}'`);
  }
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    const next = () => {
      const v = words[++i];
      if (v === undefined) throw new TypeError(`${op}: ${quote(w)} needs a value`);
      return v;
    };
    switch (w) {
      case 'timeout': e.timeout = parseNumber(next(), w, op); break;
      case 'packets': e.packets = parseNumber(next(), w, op); break;
      case 'bytes': e.bytes = parseNumber(next(), w, op); break;
      case 'comment': e.comment = next(); break;
      case 'nomatch': e.nomatch = true; break;
      case 'skbmark': {
        const [mark, mask] = next().split('/');
        e.skbmark = parseNumber(mark, w, op);
        if (mask !== undefined) e.skbmarkMask = parseNumber(mask, 'skbmark mask', op);
        break;
      }
      case 'skbprio': e.skbprio = next(); break;
      case 'skbqueue': e.skbqueue = parseNumber(next(), w, op); break;
      case 'before': e.before = next(); break;
      case 'after': e.after = next(); break;
      default: throw new TypeError(`${op}: unknown entry option ${quote(w)}`);
    }
  }
  return e;
}

function addrText(ip: string, cidr: number | undefined, to: string | undefined): string {
  const max = familyOf(ip) === AF_INET ? 32 : 128;
  return `${ip}${cidr !== undefined && cidr !== max ? `/${cidr}` : ''}${to ? `-${to}` : ''}`;
}

function hex8(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** The element part of an entry as ipset prints it for `type`: `10.0.0.1,udp:53`. @category ipset */
export function formatElement(type: string, e: IpsetEntry): string {
  const dims = DIMS[type];
  if (!dims) return JSON.stringify(e);
  return dims.map((d) => {
    switch (d) {
      case 'ip': return addrText(e.ip ?? '', e.cidr, e.ipTo);
      case 'ip2': return addrText(e.ip2 ?? '', e.cidr2, e.ip2To);
      case 'port': {
        const range = e.portTo !== undefined ? `-${e.portTo}` : '';
        if (type === 'bitmap:port') return `${e.port}${range}`;
        const proto = protoNumber(e.proto ?? 'tcp', 'ipset.formatEntry');
        const port = isIcmp(proto) ? formatIcmp(proto, e.port ?? 0) : `${e.port}${range}`;
        return `${protocolName(proto)}:${port}`;
      }
      case 'iface': return `${e.physdev ? 'physdev:' : ''}${e.iface}`;
      case 'mark': return hex8(e.mark ?? 0);
      case 'mac': {
        const mac = e.mac === undefined ? undefined : parseMac(e.mac);
        return mac ? formatMac(mac) : undefined;
      }
      case 'set': return e.name ?? '';
    }
  }).filter((p) => p !== undefined).join(',');
}

/** An entry as `ipset save` prints it after `add NAME `: element, then its extensions in the tool's order. @category ipset */
export function formatEntry(type: string, e: IpsetEntry): string {
  let s = formatElement(type, e);
  if (e.timeout !== undefined) s += ` timeout ${e.timeout}`;
  if (e.nomatch) s += ' nomatch';
  if (e.packets !== undefined) s += ` packets ${e.packets}`;
  if (e.bytes !== undefined) s += ` bytes ${e.bytes}`;
  if (e.comment !== undefined) s += ` comment "${e.comment}"`;
  if (e.skbmark !== undefined) {
    const mask = e.skbmarkMask ?? 0xffffffff;
    s += ` skbmark 0x${e.skbmark.toString(16)}${mask !== 0xffffffff ? `/0x${mask.toString(16)}` : ''}`;
  }
  if (e.skbprio !== undefined) s += ` skbprio ${e.skbprio}`;
  if (e.skbqueue !== undefined) s += ` skbqueue ${e.skbqueue}`;
  return s;
}

/** Refuses addresses of the other family than the set's (TypeError), before the kernel would. */
export function checkEntryFamily(e: IpsetEntry, family: 'inet' | 'inet6' | undefined, op: string): void {
  if (!family) return;
  const want = family === 'inet' ? AF_INET : undefined;
  for (const a of [e.ip, e.ipTo, e.ip2, e.ip2To]) {
    if (a === undefined) continue;
    const f = familyOf(a);
    if (f !== undefined && (want === undefined ? f === AF_INET : f !== AF_INET)) {
      throw new TypeError(`${op}: ${quote(a)} is ${f === AF_INET ? 'IPv4' : 'IPv6'}, the set is ${family}`);
    }
  }
}

/** Entry input (object or text) to the object, parsing text with the set's type. */
export function toEntryObject(input: IpsetEntryInput, type: string | undefined, op: string): IpsetEntry {
  if (typeof input !== 'string') return input;
  if (!type) throw new TypeError(`${op}: text entries need the set's type`);
  return parseEntry(type, input, op);
}
