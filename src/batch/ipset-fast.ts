/**
 * The ipset fast path of a batch: bulk messages of plain entries (an IPv4 address, optionally a
 * protocol and port: what kube-proxy's sets hold) written from a template instead of a record per
 * entry through the schema encoder. As for IPVS, nothing here knows the wire format on its own:
 * the template and the offsets of the values come from the op builder's own message for a sample,
 * and the messages are cut where the builder cuts them, so a refusal is explained by the builder's
 * operation for the same entries. Unit tests compare the bytes.
 *
 * @module
 * @internal
 */
import { parseIPv4 } from '../netlink/address';
import { encodeMessages } from '../netlink/message';
import type { Operation } from '../netlink/operation';
import * as ops from '../ipset/ops';
import type { IpsetEntry } from '../ipset/entry';
import { ipsetSchemas } from '../schema/ipset';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, NLA_TYPE_MASK } from '../uapi/netlink';
import type { PackedMessage } from './change';

/** The entry shapes the fast path writes. */
export type Shape = 'ip' | 'ip,proto' | 'ip,port,proto';

/** The shapes by code (0: not a fast entry), for per-entry typed arrays. */
export const SHAPES: readonly (Shape | undefined)[] = [undefined, 'ip', 'ip,proto', 'ip,port,proto'];

/** The values of a fast entry: the IPv4 address (as an int32) and `port << 8 | protocol`. */
export interface FastValues {
  ip: number;
  portProto: number;
}

/** The protocol numbers the fast path names (anything else, or a protocol number, goes to the builder); -1 otherwise. */
function protocolOf(p: unknown): number {
  return p === 'tcp' ? IPPROTO_TCP : p === 'udp' ? IPPROTO_UDP : p === 'sctp' ? IPPROTO_SCTP : -1;
}

/**
 * The shape of an entry the fast path can write, or undefined; with `out`, its values are stored
 * there (an entry with a port and no protocol is tcp, as the builder writes it).
 */
export function fastShape(e: IpsetEntry, out?: FastValues): Shape | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const ip = e.ip;
  if (typeof ip !== 'string') return undefined;
  const v = parseIPv4(ip);
  if (v < 0) return undefined;
  for (const k in e) {
    if (k !== 'ip' && k !== 'port' && k !== 'proto' && (e as Record<string, unknown>)[k] !== undefined) return undefined;
  }
  let proto = -1;
  if (e.proto !== undefined && (proto = protocolOf(e.proto)) < 0) return undefined;
  const port = e.port;
  let shape: Shape;
  if (port !== undefined) {
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
    shape = 'ip,port,proto';
    if (proto < 0) proto = IPPROTO_TCP;
  } else {
    shape = proto >= 0 ? 'ip,proto' : 'ip';
  }
  if (out) {
    out.ip = v | 0;
    out.portProto = ((port ?? 0) << 8) | (proto < 0 ? 0 : proto);
  }
  return shape;
}

const ADT = ipsetSchemas.adt.attrs.adt!.id;
const DATA_ATTRS = ipsetSchemas.adtData.attrs;
const ID = { ip: DATA_ATTRS.ip!.id, port: DATA_ATTRS.port!.id, proto: DATA_ATTRS.proto!.id, lineno: DATA_ATTRS.lineno!.id };
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
}

function attrsIn(buf: Buffer, start: number, end: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let a = start; a + 4 <= end;) {
    const len = buf.readUInt16LE(a);
    if (len < 4) break;
    out.push([buf.readUInt16LE(a + 2) & NLA_TYPE_MASK, a, a + len]);
    a += (len + 3) & ~3;
  }
  return out;
}

const layouts = new Map<string, Layout | null>();

/** The layout for entries of `shape` in a set of `type`, learnt from the builder's message for two samples. */
function layoutFor(cmd: 'add' | 'del', proto: number, set: string, exist: boolean, type: string | undefined, shape: Shape): Layout | null {
  const key = `${cmd} ${proto} ${set} ${exist} ${type ?? ''} ${shape}`;
  let l = layouts.get(key);
  if (l !== undefined) return l;
  l = null;
  const sample = (ip: string): IpsetEntry => (shape === 'ip' ? { ip } : shape === 'ip,proto' ? { ip, proto: 'udp' } : { ip, proto: 'udp', port: 4242 });
  const build = cmd === 'add' ? ops.addOps : ops.delOps;
  const [op] = build(proto, set, [sample('10.1.2.3'), sample('10.4.5.6')], { ...(type && { type }), exist, firstIndex: 0x01020304 - 1 });
  if (op) {
    const msg = encodeMessages([op.message], 0);
    const top = attrsIn(msg, 20, msg.length);
    const adt = top.find(([id]) => id === ADT);
    const lineno = top.find(([id]) => id === TOP_LINENO);
    const items = adt ? attrsIn(msg, adt[1] + 4, adt[2]) : [];
    if (adt && lineno && items.length === 2 && top[top.length - 1] === adt) {
      const [, ds, de] = items[0]!;
      const data = Buffer.from(msg.subarray(ds, (de + 3) & ~3));
      const inner = attrsIn(data, 4, data.length);
      const at = (id: number) => inner.find(([i]) => i === id);
      const ipNest = at(ID.ip);
      const ipv4 = ipNest ? attrsIn(data, ipNest[1] + 4, ipNest[2])[0] : undefined;
      const port = at(ID.port), protoAttr = at(ID.proto), line = at(ID.lineno);
      const ok = ipv4 && ipv4[2] - ipv4[1] === 8 && line && (shape === 'ip' ? !port && !protoAttr : shape === 'ip,proto' ? !port && protoAttr : port && protoAttr);
      if (ok) {
        l = {
          prefix: Buffer.from(msg.subarray(0, ds)), topLineno: lineno[1] + 4, adt: adt[1],
          data, ip: ipv4[1] + 4, port: port ? port[1] + 4 : -1, proto: protoAttr ? protoAttr[1] + 4 : -1, lineno: line[1] + 4,
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
  ips: Int32Array;
  portProtos: Int32Array;
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
    const { ips, portProtos } = this.pack;
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
    const ip = l.ip, port = l.port, protocol = l.proto, line = l.lineno;
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
 * Bulk messages for the entries whose values are `ips[from, from + n)` and `portProtos[...]` (all
 * of shape `shape`; see {@link FastValues}), the first being batch change `firstIndex`, cut as the
 * builder cuts them; null when the builder's layout is not one the fast path knows.
 * `entries(start, end)` gives entries `[start, end)` of the `n` themselves, for the builder's
 * operations that explain a refusal.
 */
export function packValues(
  cmd: 'add' | 'del', proto: number, set: string, exist: boolean, type: string | undefined, shape: Shape,
  ips: Int32Array, portProtos: Int32Array, from: number, n: number, firstIndex: number,
  entries: (start: number, end: number) => IpsetEntry[],
): FastPacked[] | null {
  // One entry travels as plain IPSET_ATTR_DATA (as `ipset add` sends it): the builder's form.
  if (n < 2 || type === 'bitmap:port') return null;
  const layout = layoutFor(cmd, proto, set, exist, type, shape);
  if (!layout) return null;
  const pack: Pack = { cmd, proto, set, exist, type, layout, ips, portProtos, n, firstIndex, entries };
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
  const ips = new Int32Array(n), portProtos = new Int32Array(n);
  const v: FastValues = { ip: 0, portProto: 0 };
  let shape: Shape | undefined;
  for (let k = 0; k < n; k++) {
    const s = fastShape(entries[k]!, v);
    if (!s || (k > 0 && s !== shape)) return null;
    shape = s;
    ips[k] = v.ip;
    portProtos[k] = v.portProto;
  }
  return packValues(cmd, proto, set, exist, type, shape!, ips, portProtos, 0, n, firstIndex, (a, b) => entries.slice(a, b));
}
