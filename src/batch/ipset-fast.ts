/**
 * The ipset fast path of a batch: bulk messages of plain entries (an IPv4 address, optionally a
 * prefix length, a protocol and port, a second IPv4 address and its prefix length: what
 * kube-proxy's hash:ip, hash:net, hash:ip,port, hash:ip,port,ip and hash:ip,port,net sets hold)
 * written from a template instead of a record per
 * entry through the schema encoder. As for IPVS, nothing here knows the wire format on its own:
 * the template and the offsets of the values come from the op builder's own message for a sample,
 * and the messages are cut where the builder cuts them, so a refusal is explained by the builder's
 * operation for the same entries. Unit tests compare the bytes.
 *
 * @module
 * @internal
 */
import { parseIPv4, scanDigits, scanIPv4, scanned } from '../netlink/address';
import { encodeMessages } from '../netlink/message';
import type { Operation } from '../netlink/operation';
import * as ops from '../ipset/ops';
import type { IpsetEntry } from '../ipset/entry';
import { ipsetSchemas } from '../schema/ipset';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../uapi/netlink';
import { attrSpans } from '../netlink/attr';
import type { PackedMessage } from './change';

/** Which fields a fast entry has, as bits of its shape code (0: not a fast entry). */
const PORT = 1, PROTO = 2, CIDR = 4, IP2 = 8, CIDR2 = 16, FAST = 32;

/** The name of a shape code: its fields in the builder's order (`'ip,port,proto'`). */
export type Shape = string;

const SHAPE_NAMES: string[] = [];
for (let c = 0; c < 2 * FAST; c++) {
  SHAPE_NAMES.push(c < FAST ? '' : `ip${c & CIDR ? ',cidr' : ''}${c & PORT ? ',port' : ''}${c & PROTO ? ',proto' : ''}${c & IP2 ? ',ip2' : ''}${c & CIDR2 ? ',cidr2' : ''}`);
}

/** The values of a fast entry: the IPv4 addresses (as int32s), `port << 8 | protocol` and `cidr << 8 | cidr2`. */
export interface FastValues {
  ip: number;
  portProto: number;
  ip2: number;
  cidrs: number;
}

/** The protocol numbers the fast path names (anything else, or a protocol number, goes to the builder); -1 otherwise. */
function protocolOf(p: unknown): number {
  return p === 'tcp' ? IPPROTO_TCP : p === 'udp' ? IPPROTO_UDP : p === 'sctp' ? IPPROTO_SCTP : -1;
}

const isPrefix = (c: unknown): c is number => Number.isInteger(c) && (c as number) >= 0 && (c as number) <= 32;

/**
 * The shape code of an entry the fast path can write, or 0 (the builder then writes it, or
 * names what is wrong with it); with `out`, its values are stored there (an entry with a port and
 * no protocol is tcp, as the builder writes it).
 */
export function fastCode(e: IpsetEntry, out?: FastValues): number {
  if (e === null || typeof e !== 'object') return 0;
  const ip = e.ip;
  if (typeof ip !== 'string') return 0;
  const v = parseIPv4(ip);
  if (v < 0) return 0;
  for (const k in e) {
    if (k !== 'ip' && k !== 'port' && k !== 'proto' && k !== 'cidr' && k !== 'ip2' && k !== 'cidr2' &&
      (e as Record<string, unknown>)[k] !== undefined) return 0;
  }
  let code = FAST, proto = -1, cidrs = 0, v2 = 0;
  if (e.proto !== undefined) {
    if ((proto = protocolOf(e.proto)) < 0) return 0;
    code |= PROTO;
  }
  const port = e.port;
  if (port !== undefined) {
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) return 0;
    code |= PORT | PROTO;
    if (proto < 0) proto = IPPROTO_TCP;
  }
  if (e.cidr !== undefined) {
    if (!isPrefix(e.cidr)) return 0;
    code |= CIDR;
    cidrs = e.cidr << 8;
  }
  if (e.ip2 !== undefined) {
    if (typeof e.ip2 !== 'string' || (v2 = parseIPv4(e.ip2)) < 0) return 0;
    code |= IP2;
    if (e.cidr2 !== undefined) {
      if (!isPrefix(e.cidr2)) return 0;
      code |= CIDR2;
      cidrs |= e.cidr2;
    }
  } else if (e.cidr2 !== undefined) {
    return 0; // the builder drops it without ip2
  }
  if (out) {
    out.ip = v | 0;
    out.portProto = ((port ?? 0) << 8) | (proto < 0 ? 0 : proto);
    out.ip2 = v2 | 0;
    out.cidrs = cidrs;
  }
  return code;
}

/** Set types whose text entries {@link fastTextCode} reads, and how many parts their element has. */
export const TEXT_PARTS: Readonly<Record<string, number>> = Object.assign(Object.create(null) as Record<string, number>, {
  'hash:ip': 1, 'hash:net': 1, 'hash:ip,port': 2, 'hash:net,port': 2, 'hash:ip,port,ip': 3, 'hash:ip,port,net': 3,
});

/** A dotted quad and an optional `/prefix` (0-32) at `i`; the prefix in scanCidr, -1 without one. */
let scanCidr = -1;
function scanAddr(s: string, i: number): boolean {
  if (!scanIPv4(s, i)) return false;
  scanCidr = -1;
  if (s.charCodeAt(scanned.end) !== 0x2f) return true;
  const v = scanned.value;
  if (!scanDigits(s, scanned.end + 1, 2) || scanned.value > 32) return false;
  scanCidr = scanned.value;
  scanned.value = v;
  return true;
}

/**
 * {@link fastCode} of a text entry of the shapes `ipset save` writes for IPv4 sets of the types
 * kube-proxy uses (`10.0.0.1`, `10.0.0.0/24`, `10.0.0.1,tcp:80`, `10.0.0.1,tcp:80,10.1.0.0/16`),
 * read in place: the entry's code with its values in `out`, without an object or a string; 0 for
 * any other text or type, which the library's parser then reads. Unit tests compare it with
 * fastCode of the parser's object for many texts.
 */
export function fastTextCode(type: string | undefined, text: string, out: FastValues): number {
  const parts = type === undefined ? undefined : TEXT_PARTS[type];
  if (parts === undefined) return 0;
  const code = scanTextEntry(text, 0, text.length, out);
  return code !== 0 && partsOf(code) === parts ? code : 0;
}

/** How many parts (address, protocol and port, second address) an entry of shape `code` has. */
export function partsOf(code: number): number {
  return code & IP2 ? 3 : code & PORT ? 2 : 1;
}

/**
 * {@link fastTextCode}'s reading of the text at `[start, end)` of `text`, for a set of any of
 * the types it reads (whose number of parts, {@link partsOf}, the caller checks against the
 * set's type); `end` must not be a digit, a dot or a slash (a line's end). Its values are in
 * `out` whenever the code is not 0.
 */
export function scanTextEntry(text: string, start: number, end: number, out: FastValues): number {
  if (!scanAddr(text, start)) return 0;
  let code = FAST, cidrs = 0, proto = 0, port = 0, ip2 = 0;
  const ip = scanned.value;
  if (scanCidr >= 0) {
    code |= CIDR;
    cidrs = scanCidr << 8;
  }
  let i = scanned.end;
  if (i < end) {
    if (text.charCodeAt(i) !== 0x2c) return 0;
    const p = text.startsWith('tcp:', i + 1) ? IPPROTO_TCP : text.startsWith('udp:', i + 1) ? IPPROTO_UDP : text.startsWith('sctp:', i + 1) ? IPPROTO_SCTP : -1;
    if (p < 0) return 0;
    if (!scanDigits(text, i + (p === IPPROTO_SCTP ? 6 : 5), 5) || scanned.value > 65535) return 0;
    proto = p;
    port = scanned.value;
    code |= PORT | PROTO;
    i = scanned.end;
    if (i < end) {
      if (text.charCodeAt(i) !== 0x2c || !scanAddr(text, i + 1)) return 0;
      ip2 = scanned.value;
      code |= IP2;
      if (scanCidr >= 0) {
        code |= CIDR2;
        cidrs |= scanCidr;
      }
      i = scanned.end;
    }
  }
  if (i !== end) return 0;
  out.ip = ip | 0;
  out.portProto = (port << 8) | proto;
  out.ip2 = ip2 | 0;
  out.cidrs = cidrs;
  return code;
}

/**
 * Stores entry k's shape code and values: the second addresses and prefix lengths only for runs
 * that have them, allocated for `n` entries on the first that does (fresh memory costs in the VM).
 */
export function storeValues(shapes: Uint8Array, values: FastArrays, k: number, code: number, v: FastValues, n: number): void {
  shapes[k] = code;
  values.ips[k] = v.ip;
  values.portProtos[k] = v.portProto;
  if (hasMore(code)) {
    if (values.ip2s.length === 0) {
      values.ip2s = new Int32Array(n);
      values.cidrs = new Uint16Array(n);
    }
    values.ip2s[k] = v.ip2;
    values.cidrs[k] = v.cidrs;
  }
}

/** The shape of an entry the fast path can write (`'ip,port,proto'`), or undefined; see {@link fastCode}. */
export function fastShape(e: IpsetEntry, out?: FastValues): Shape | undefined {
  const code = fastCode(e, out);
  return code ? SHAPE_NAMES[code] : undefined;
}

/** Whether entries of shape `code` carry a second address or prefix lengths (values beyond ip and port/protocol). */
export function hasMore(code: number): boolean {
  return (code & (CIDR | IP2 | CIDR2)) !== 0;
}

const ADT = ipsetSchemas.adt.attrs.adt!.id;
const DATA_ATTRS = ipsetSchemas.adtData.attrs;
const ID = {
  ip: DATA_ATTRS.ip!.id, port: DATA_ATTRS.port!.id, proto: DATA_ATTRS.proto!.id, lineno: DATA_ATTRS.lineno!.id,
  cidr: DATA_ATTRS.cidr!.id, ip2: DATA_ATTRS.ip2!.id, cidr2: DATA_ATTRS.cidr2!.id,
};
const TOP_LINENO = ipsetSchemas.adt.attrs.lineno!.id;

/** A bulk message's prefix (everything before the first entry) and an entry's nest, with offsets. */
interface Layout {
  prefix: Buffer;
  /** Offset of the message's IPSET_ATTR_LINENO value and of the ADT nest header in `prefix`. */
  topLineno: number;
  adt: number;
  data: Buffer;
  ip: number;
  port: number;
  proto: number;
  lineno: number;
  /** Offsets of the second address's value and of the prefix lengths' bytes; -1 when absent. */
  ip2: number;
  cidr: number;
  cidr2: number;
}

const layouts = new Map<string, Layout | null>();

/** The layout for entries of shape `code` in a set of `type`, learnt from the builder's message for two samples. */
function layoutFor(cmd: 'add' | 'del', proto: number, set: string, exist: boolean, type: string | undefined, code: number): Layout | null {
  const key = `${cmd} ${proto} ${set} ${exist} ${type ?? ''} ${code}`;
  let l = layouts.get(key);
  if (l !== undefined) return l;
  l = null;
  const sample = (ip: string, ip2: string): IpsetEntry => ({
    ip, ...(code & CIDR && { cidr: 24 }), ...(code & PORT && { port: 4242 }), ...(code & PROTO && { proto: 'udp' }),
    ...(code & IP2 && { ip2 }), ...(code & CIDR2 && { cidr2: 16 }),
  });
  const build = cmd === 'add' ? ops.addOps : ops.delOps;
  const [op] = build(proto, set, [sample('10.1.2.3', '10.7.8.9'), sample('10.4.5.6', '10.10.11.12')], { ...(type && { type }), exist, firstIndex: 0x01020304 - 1 });
  if (op) {
    const msg = encodeMessages([op.message], 0);
    const top = attrSpans(msg, 20, msg.length);
    const adt = top.find(([id]) => id === ADT);
    const lineno = top.find(([id]) => id === TOP_LINENO);
    const items = adt ? attrSpans(msg, adt[1] + 4, adt[2]) : [];
    if (adt && lineno && items.length === 2 && top[top.length - 1] === adt) {
      const [, ds, de] = items[0]!;
      const data = Buffer.from(msg.subarray(ds, (de + 3) & ~3));
      const inner = attrSpans(data, 4, data.length);
      const at = (id: number) => inner.find(([i]) => i === id);
      const v4In = (nest: [number, number, number] | undefined) => {
        const a = nest ? attrSpans(data, nest[1] + 4, nest[2]) : [];
        return a.length === 1 && a[0]![2] - a[0]![1] === 8 ? a[0]![1] + 4 : -1;
      };
      const ip = v4In(at(ID.ip)), ip2 = v4In(at(ID.ip2));
      const port = at(ID.port), protoAttr = at(ID.proto), line = at(ID.lineno), cidr = at(ID.cidr), cidr2 = at(ID.cidr2);
      // Exactly the attributes the shape has, each where a value can be patched in.
      const want = 2 + [PORT, PROTO, CIDR, IP2, CIDR2].filter((b) => code & b).length;
      const ok = ip >= 0 && line && inner.length === want && !!port === !!(code & PORT) && !!protoAttr === !!(code & PROTO) &&
        !!cidr === !!(code & CIDR) && (ip2 >= 0) === !!(code & IP2) && !!cidr2 === !!(code & CIDR2);
      if (ok) {
        l = {
          prefix: Buffer.from(msg.subarray(0, ds)), topLineno: lineno[1] + 4, adt: adt[1],
          data, ip, port: port ? port[1] + 4 : -1, proto: protoAttr ? protoAttr[1] + 4 : -1, lineno: line[1] + 4,
          ip2, cidr: cidr ? cidr[1] + 4 : -1, cidr2: cidr2 ? cidr2[1] + 4 : -1,
        };
      }
    }
  }
  layouts.set(key, l);
  return l;
}

/** The largest message the builder writes (the ADT nest's 16-bit length). */
const LIMIT = 65536;

/** A bulk message written from the template; its generic operation is built only to explain a refusal. */
export interface FastPacked extends PackedMessage {
  readonly operation: Operation<unknown>;
}

/** What the messages of one {@link packValues} call share. */
interface Pack {
  cmd: 'add' | 'del';
  proto: number;
  set: string;
  exist: boolean;
  type: string | undefined;
  layout: Layout;
  values: FastArrays;
  n: number;
  firstIndex: number;
  entries: (start: number, end: number) => IpsetEntry[];
  /** The builder's operations for all `n` entries, built on the first refusal. */
  generic?: Operation[];
}

/**
 * One bulk message of the fast path. A class rather than closures: a commit makes a few dozen of
 * these, and methods on one prototype stay optimised from one commit to the next.
 */
class FastMessage implements FastPacked {
  constructor(
    private readonly pack: Pack,
    /** Its index among the pack's messages, and of its first entry in the values arrays. */
    private readonly index: number,
    private readonly at: number,
    readonly first: number,
    readonly count: number,
    readonly size: number,
  ) {}

  /** The builder's operation for this message (built for the whole pack, as the builder cuts it). */
  get operation(): Operation<unknown> {
    const p = this.pack;
    const build = p.cmd === 'add' ? ops.addOps : ops.delOps;
    p.generic ??= build(p.proto, p.set, p.entries(0, p.n), { ...(p.type && { type: p.type }), exist: p.exist, firstIndex: p.firstIndex });
    return p.generic[this.index] as Operation<unknown>;
  }

  write(buf: Buffer, off: number, seq: number): void {
    const l = this.pack.layout;
    const { ips, portProtos, ip2s, cidrs } = this.pack.values;
    const { size, count, first, at } = this;
    buf.set(l.prefix, off);
    buf.writeUInt32LE(size, off);
    buf.writeUInt32LE(seq >>> 0, off + 8);
    buf.writeUInt32BE(first + 1, off + l.topLineno);
    buf.writeUInt16LE(size - l.adt, off + l.adt);
    // Every entry's nest from the template, doubling the copied run (a memmove each), then only
    // the values are written, byte by byte: no call per field.
    const d = l.data.length;
    const base = off + l.prefix.length;
    const total = count * d;
    buf.set(l.data, base);
    for (let done = d; done < total; done *= 2) buf.copyWithin(base + done, base, base + Math.min(done, total - done));
    const ip = l.ip, port = l.port, protocol = l.proto, line = l.lineno, ip2 = l.ip2, cidr = l.cidr, cidr2 = l.cidr2;
    const more = ip2 >= 0 || cidr >= 0 || cidr2 >= 0;
    let p = base;
    for (let k = 0; k < count; k++) {
      const a = ips[at + k]!, pp = portProtos[at + k]!;
      buf[p + ip] = a >>> 24;
      buf[p + ip + 1] = (a >>> 16) & 255;
      buf[p + ip + 2] = (a >>> 8) & 255;
      buf[p + ip + 3] = a & 255;
      if (port >= 0) {
        buf[p + port] = pp >>> 16;
        buf[p + port + 1] = (pp >>> 8) & 255;
      }
      if (protocol >= 0) buf[p + protocol] = pp & 255;
      if (more) {
        if (ip2 >= 0) {
          const b2 = ip2s[at + k]!;
          buf[p + ip2] = b2 >>> 24;
          buf[p + ip2 + 1] = (b2 >>> 16) & 255;
          buf[p + ip2 + 2] = (b2 >>> 8) & 255;
          buf[p + ip2 + 3] = b2 & 255;
        }
        if (cidr >= 0) buf[p + cidr] = cidrs[at + k]! >>> 8;
        if (cidr2 >= 0) buf[p + cidr2] = cidrs[at + k]! & 255;
      }
      const no = first + k + 1;
      buf[p + line] = no >>> 24;
      buf[p + line + 1] = (no >>> 16) & 255;
      buf[p + line + 2] = (no >>> 8) & 255;
      buf[p + line + 3] = no & 255;
      p += d;
    }
  }
}

/**
 * Per-entry {@link FastValues} side by side; `ip2s` and `cidrs` may be empty when no entry has them.
 */
export interface FastArrays {
  ips: Int32Array;
  portProtos: Int32Array;
  ip2s: Int32Array;
  cidrs: Uint16Array;
}

/**
 * Bulk messages for the entries whose values are `values[from, from + n)` (all of shape `code`;
 * see {@link fastCode}), the first being batch change `firstIndex`, cut as the builder cuts them;
 * null when the builder's layout is not one the fast path knows.
 * `entries(start, end)` gives entries `[start, end)` of the `n` themselves, for the builder's
 * operations that explain a refusal.
 */
export function packValues(
  cmd: 'add' | 'del', proto: number, set: string, exist: boolean, type: string | undefined, code: number,
  values: FastArrays, from: number, n: number, firstIndex: number,
  entries: (start: number, end: number) => IpsetEntry[],
): FastPacked[] | null {
  // One entry travels as plain IPSET_ATTR_DATA (as `ipset add` sends it): the builder's form.
  if (n < 2 || type === 'bitmap:port') return null;
  const layout = layoutFor(cmd, proto, set, exist, type, code);
  if (!layout) return null;
  const pack: Pack = { cmd, proto, set, exist, type, layout, values, n, firstIndex, entries };
  const d = layout.data.length;
  const per = Math.max(1, Math.floor((LIMIT - layout.prefix.length) / d));
  const out: FastPacked[] = [];
  for (let start = 0; start < n; start += per) {
    const count = Math.min(per, n - start);
    out.push(new FastMessage(pack, out.length, from + start, firstIndex + start, count, layout.prefix.length + count * d));
  }
  return out;
}

/**
 * {@link packValues} for a list of entries (all of one fast shape), the first being batch change
 * `firstIndex`; null when they are not all of one fast shape or the layout is not known.
 */
export function fastPack(
  cmd: 'add' | 'del', proto: number, set: string, exist: boolean, type: string | undefined,
  entries: readonly IpsetEntry[], firstIndex: number,
): FastPacked[] | null {
  const n = entries.length;
  if (n < 2) return null;
  const values: FastArrays = { ips: new Int32Array(n), portProtos: new Int32Array(n), ip2s: new Int32Array(n), cidrs: new Uint16Array(n) };
  const v: FastValues = { ip: 0, portProto: 0, ip2: 0, cidrs: 0 };
  let code = 0;
  for (let k = 0; k < n; k++) {
    const c = fastCode(entries[k]!, v);
    if (!c || (k > 0 && c !== code)) return null;
    code = c;
    values.ips[k] = v.ip;
    values.portProtos[k] = v.portProto;
    values.ip2s[k] = v.ip2;
    values.cidrs[k] = v.cidrs;
  }
  return packValues(cmd, proto, set, exist, type, code, values, 0, n, firstIndex, (a, b) => entries.slice(a, b));
}
