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
import { NLA_TYPE_MASK } from '../uapi/netlink';
import type { PackedMessage } from './change';

/** Protocols the fast path names (anything else, or a protocol number, goes to the builder). */
const PROTOCOLS = new Map<unknown, number>([['tcp', 6], ['udp', 17], ['sctp', 132]]);

type Shape = 'ip' | 'ip,proto' | 'ip,port,proto';

/** The shape of an entry the fast path can write, or undefined. */
export function fastShape(e: IpsetEntry): Shape | undefined {
  if (e === null || typeof e !== 'object' || typeof e.ip !== 'string' || parseIPv4(e.ip) < 0) return undefined;
  for (const k in e) {
    if (k !== 'ip' && k !== 'port' && k !== 'proto' && (e as Record<string, unknown>)[k] !== undefined) return undefined;
  }
  if (e.proto !== undefined && !PROTOCOLS.has(e.proto)) return undefined;
  if (e.port !== undefined) {
    if (typeof e.port !== 'number' || !Number.isInteger(e.port) || e.port < 0 || e.port > 65535) return undefined;
    return 'ip,port,proto';
  }
  return e.proto !== undefined ? 'ip,proto' : 'ip';
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
  operation: Operation<unknown>;
}

/**
 * Bulk messages for `entries` (all of one fast shape), the first being batch change `firstIndex`,
 * cut as the builder cuts them; null when the builder's layout is not one the fast path knows.
 */
export function fastPack(
  cmd: 'add' | 'del', proto: number, set: string, exist: boolean, type: string | undefined,
  entries: readonly IpsetEntry[], firstIndex: number,
): FastPacked[] | null {
  // One entry travels as plain IPSET_ATTR_DATA (as `ipset add` sends it): the builder's form.
  if (entries.length < 2 || type === 'bitmap:port') return null;
  const shape = fastShape(entries[0]!);
  if (!shape) return null;
  for (let k = 1; k < entries.length; k++) if (fastShape(entries[k]!) !== shape) return null;
  const l = layoutFor(cmd, proto, set, exist, type, shape);
  if (!l) return null;
  const per = Math.max(1, Math.floor((LIMIT - l.prefix.length) / l.data.length));
  const out: FastPacked[] = [];
  for (let start = 0; start < entries.length; start += per) {
    const count = Math.min(per, entries.length - start);
    const first = firstIndex + start;
    const size = l.prefix.length + count * l.data.length;
    const slice = entries.slice(start, start + count);
    let op: Operation<unknown> | undefined;
    out.push({
      first, count, size,
      get operation(): Operation<unknown> {
        const build = cmd === 'add' ? ops.addOps : ops.delOps;
        op ??= build(proto, set, slice, { ...(type && { type }), exist, firstIndex: first })[0] as Operation<unknown>;
        return op;
      },
      write(buf, off, seq) {
        buf.set(l.prefix, off);
        buf.writeUInt32LE(size, off);
        buf.writeUInt32LE(seq >>> 0, off + 8);
        buf.writeUInt32BE(first + 1, off + l.topLineno);
        buf.writeUInt16LE(size - l.adt, off + l.adt);
        let p = off + l.prefix.length;
        for (let k = 0; k < count; k++) {
          const e = slice[k]!;
          buf.set(l.data, p);
          buf.writeUInt32BE(parseIPv4(e.ip!), p + l.ip);
          if (l.port >= 0) buf.writeUInt16BE(e.port!, p + l.port);
          if (l.proto >= 0) buf[p + l.proto] = PROTOCOLS.get(e.proto ?? 'tcp')!;
          buf.writeUInt32BE(first + k + 1, p + l.lineno);
          p += l.data.length;
        }
      },
    });
  }
  return out;
}
