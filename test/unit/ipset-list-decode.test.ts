// The fast LIST decoder (src/ipset/list-decode.ts) against the schema decoder: for dumps of many
// set types and entry shapes, and for corrupted and truncated ones, both give deep-equal sets
// (with the same field order in every entry) or the same error.
import { describe, expect, it } from 'vitest';
import { encodeMessages, type OutMessage } from '../../src/netlink/message';
import { parseMessages } from '../../src/netlink/header';
import type { AttrRecord } from '../../src/netlink/attr';
import type { MessageOutcome } from '../../src/netlink/protocol';
import { ipsetReplySchemas } from '../../src/schema/ipset';
import { decodeSets, decodeSetsGeneric, fastEntry } from '../../src/ipset/list-decode';
import { ipsetMessageType, nfgenmsg } from '../../src/ipset/ops';
import { IPSET_CMD_LIST } from '../../src/uapi/ipset';
import { readHex } from '../golden/ipset-rtnl-golden';
import { SIZEOF_NLMSGHDR } from '../../src/uapi/netlink';
import { mulberry32 } from './random';

const rng = mulberry32;

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;
const v4 = (r: Rand) => `${int(r, 256)}.${int(r, 256)}.${int(r, 256)}.${int(r, 256)}`;
const mac = (r: Rand) => Buffer.from(Array.from({ length: 6 }, () => int(r, 256)));
const V6 = ['2001:db8::1', 'fe80::1:2', '::', '::ffff:10.0.0.1', '2001:db8:0:1:2:3:4:5', 'ff02::2', '1:0:0:2::3'];

/** An IPSET_ATTR_DATA record as the kernel writes one entry, with the attributes `set` has. */
interface SetShape {
  type: string;
  six: boolean;
  timeout?: boolean;
  counters?: boolean;
  comment?: boolean;
  skbinfo?: boolean;
}

function entryRecord(r: Rand, s: SetShape): AttrRecord {
  const addr = () => (s.six ? { ipv6: pick(r, V6) } : { ipv4: v4(r) });
  const rec: AttrRecord = {};
  switch (s.type) {
    case 'hash:ip': rec.ip = addr(); break;
    case 'hash:net': rec.ip = addr(); rec.cidr = int(r, s.six ? 129 : 33); if (r() < 0.2) rec.cadtFlags = pick(r, [0, 4, 2, 6]); break;
    case 'hash:ip,port': rec.ip = addr(); rec.port = int(r, 65536); rec.proto = pick(r, [6, 17, 132, 1, 58, 136, 0, 47, 253]); break;
    case 'hash:ip,port,ip': rec.ip = addr(); rec.port = int(r, 65536); rec.proto = pick(r, [6, 17]); rec.ip2 = addr(); break;
    case 'hash:ip,port,net': rec.ip = addr(); rec.port = int(r, 65536); rec.proto = 6; rec.ip2 = addr(); rec.cidr2 = int(r, 33); break;
    case 'hash:net,iface': rec.ip = addr(); rec.cidr = 24; rec.iface = pick(r, ['eth0', 'kube-ipvs0', 'wg-ü']); if (r() < 0.5) rec.cadtFlags = 2; break;
    case 'hash:ip,mark': rec.ip = addr(); rec.mark = int(r, 2 ** 32); break;
    case 'bitmap:port': rec.port = int(r, 65536); break;
    case 'hash:mac': rec.ether = mac(r); break;
    case 'hash:ip,mac': rec.ip = addr(); rec.ether = mac(r); break;
    // the kernel leaves the MAC out of an entry that has none yet
    case 'bitmap:ip,mac': rec.ip = { ipv4: v4(r) }; if (r() < 0.7) rec.ether = mac(r); break;
    case 'list:set': rec.name = pick(r, ['a', 'KUBE-X', 'set-ü']); break;
  }
  if (s.timeout) rec.timeout = int(r, 2 ** 32);
  if (s.counters) {
    rec.bytes = pick(r, [0n, 1n, 2n ** 53n + 1n, 2n ** 64n - 1n, BigInt(int(r, 2 ** 32)) * 65537n]);
    rec.packets = BigInt(int(r, 1000));
  }
  if (s.comment && r() < 0.7) rec.comment = pick(r, ['', 'dns', 'x y', 'ünïcode ✓']);
  if (s.skbinfo && r() < 0.5) {
    rec.skbmark = (BigInt(int(r, 2 ** 32)) << 32n) | 0xffffffffn;
    rec.skbprio = int(r, 2 ** 32);
    rec.skbqueue = int(r, 65536);
  }
  return rec;
}

const SHAPES: SetShape[] = [
  { type: 'hash:ip,port', six: false },
  { type: 'hash:ip,port', six: true },
  { type: 'hash:ip,port', six: false, timeout: true, counters: true, comment: true },
  { type: 'hash:ip,port', six: true, skbinfo: true, timeout: true },
  { type: 'hash:ip', six: false },
  { type: 'hash:ip', six: true, timeout: true },
  { type: 'hash:net', six: false },
  { type: 'hash:net', six: true, comment: true },
  { type: 'hash:ip,port,ip', six: false },
  { type: 'hash:ip,port,net', six: false, counters: true },
  { type: 'hash:net,iface', six: false },
  { type: 'hash:ip,mark', six: false },
  { type: 'bitmap:port', six: false, timeout: true },
  { type: 'hash:mac', six: false },
  { type: 'hash:mac', six: false, timeout: true, counters: true, comment: true },
  { type: 'hash:ip,mac', six: false },
  { type: 'hash:ip,mac', six: true, skbinfo: true },
  { type: 'bitmap:ip,mac', six: false, timeout: true, counters: true, comment: true },
  { type: 'list:set', six: false, comment: true },
];

function dumpMessage(name: string, header: AttrRecord | undefined, entries: AttrRecord[]): OutMessage {
  const attrs: AttrRecord = { protocol: 7, setname: name };
  if (header) Object.assign(attrs, header);
  if (entries.length > 0 || header === undefined) attrs.adt = entries;
  return { type: ipsetMessageType(IPSET_CMD_LIST), flags: 2, fixed: nfgenmsg(), schema: ipsetReplySchemas.create, attrs };
}

/** A dump of `sets`, each split into messages of at most `per` entries, as the kernel sends it. */
function dump(r: Rand, sets: { name: string; shape: SetShape; n: number }[], per: number): Buffer {
  const msgs: OutMessage[] = [];
  for (const { name, shape, n } of sets) {
    const header: AttrRecord = {
      typename: shape.type, revision: 3, family: shape.six ? 10 : 2,
      data: { hashsize: 1024, maxelem: 65536, ...(shape.timeout && { timeout: 60 }), references: 0, memsize: 400, elements: n },
    };
    const entries = Array.from({ length: n }, () => entryRecord(r, shape));
    if (n === 0) msgs.push(dumpMessage(name, header, []));
    for (let k = 0; k < n; k += per) msgs.push(dumpMessage(name, k === 0 ? header : undefined, entries.slice(k, k + per)));
  }
  return encodeMessages(msgs, 1);
}

function outcomeOf(buf: Buffer): MessageOutcome {
  return { seq: 1, status: 'ok', errno: 0, replies: parseMessages(buf, 0, buf.length), interrupted: false };
}

/** Deep equality plus the same key order in every object (what a caller printing them would see). */
function expectSame(a: unknown, b: unknown): void {
  expect(a).toStrictEqual(b);
  const order = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(order);
    if (x && typeof x === 'object') return Object.entries(x).map(([k, v]) => [k, order(v)]);
    return x;
  };
  expect(order(a)).toStrictEqual(order(b));
}

function both(buf: Buffer, outcome: MessageOutcome, headerOnly = false): void {
  let fast: unknown, generic: unknown, fastErr: unknown, genericErr: unknown;
  try { fast = decodeSets(buf, outcome, headerOnly); } catch (e) { fastErr = e; }
  try { generic = decodeSetsGeneric(buf, outcome, headerOnly); } catch (e) { genericErr = e; }
  if (genericErr) {
    expect(fastErr).toBeInstanceOf((genericErr as Error).constructor);
    expect((fastErr as Error).message).toBe((genericErr as Error).message);
  } else {
    expect(fastErr).toBeUndefined();
    expectSame(fast, generic);
  }
}

describe('fast LIST decoding equals the schema decoder', () => {
  it('the captured `ipset list` of a hash:ip,port set', () => {
    const replies = readHex('ipset-list-ipport').datagrams.filter((d) => d.direction === '<').map((d) => d.bytes);
    const buf = Buffer.concat(replies);
    const msgs = parseMessages(buf, 0, buf.length).filter((m) => m.type === ipsetMessageType(IPSET_CMD_LIST));
    expect(msgs.length).toBeGreaterThan(0);
    both(buf, { seq: 1, status: 'ok', errno: 0, replies: msgs, interrupted: false });
  });

  for (const [i, shape] of SHAPES.entries()) {
    it(`${shape.type}${shape.six ? ' inet6' : ''}${shape.timeout ? ' timeout' : ''}${shape.counters ? ' counters' : ''}${shape.comment ? ' comment' : ''}${shape.skbinfo ? ' skbinfo' : ''}`, () => {
      const r = rng(1000 + i);
      for (const [n, per] of [[0, 10], [1, 10], [7, 3], [300, 64], [900, 450]] as const) {
        const buf = dump(r, [{ name: `S${i}`, shape, n }], per);
        both(buf, outcomeOf(buf));
        both(buf, outcomeOf(buf), true);
      }
    });
  }

  it('every octet value in every position of a dotted quad', () => {
    const adt = Array.from({ length: 256 }, (_, k) => ({ ip: { ipv4: `${k}.${255 - k}.${(k * 7) & 255}.${(k * 13 + 5) & 255}` } }));
    const buf = encodeMessages([dumpMessage('Q', { typename: 'hash:ip', revision: 1, family: 2, data: {} }, adt)], 1);
    both(buf, outcomeOf(buf));
    expect(decodeSets(buf, outcomeOf(buf))[0]!.entries!.map((e) => e.ip)).toEqual(adt.map((e) => e.ip.ipv4));
  });

  it('a header count that is not what arrives, and a message without entries between two with', () => {
    const r = rng(21);
    const shape = SHAPES[0]!;
    for (const elements of [0, 3, 15, 1000]) {
      const buf = encodeMessages([
        dumpMessage('N', { typename: 'hash:ip,port', revision: 6, family: 2, data: { elements } }, Array.from({ length: 10 }, () => entryRecord(r, shape))),
        dumpMessage('N', {}, []),
        dumpMessage('M', { typename: 'hash:ip', revision: 1, family: 2, data: { elements: 7 } }, [entryRecord(r, SHAPES[4]!)]),
        dumpMessage('N', undefined, Array.from({ length: 5 }, () => entryRecord(r, shape))),
      ], 1);
      both(buf, outcomeOf(buf));
      const sets = decodeSets(buf, outcomeOf(buf));
      expect(sets.map((x) => [x.name, x.entries!.length])).toEqual([['N', 15], ['M', 1]]);
      expect(sets[0]!.entries!.every((e) => e !== undefined)).toBe(true);
    }
  });

  it('several sets in one dump, interleaved shapes', () => {
    const r = rng(7);
    const buf = dump(r, SHAPES.map((shape, i) => ({ name: `set-${i}`, shape, n: 1 + int(r, 50) })), 16);
    both(buf, outcomeOf(buf));
    const sets = decodeSets(buf, outcomeOf(buf));
    expect(sets.map((s) => s.name)).toEqual(SHAPES.map((_, i) => `set-${i}`));
  });

  it('entries with attributes the fast path leaves to the schema decoder (ranges, unknown ids, odd lengths)', () => {
    const r = rng(11);
    const odd: AttrRecord[] = [
      { ip: { ipv4: '10.0.0.1' }, ipTo: { ipv4: '10.0.0.9' } },
      { ip: { ipv4: '10.0.0.1' }, port: 1, portTo: 9, proto: 6 },
      { ip: { ipv4: '10.0.0.1' }, ip2: { ipv4: '10.0.0.2' }, ip2To: { ipv4: '10.0.0.3' } },
      { ip: { ipv4: '10.0.0.1' }, ether: Buffer.from('0102030405ff', 'hex'), nameref: 'other', lineno: 4 },
      { ip: { ipv4: '10.0.0.1', ipv6: '::1' } },
      { ip: {} },
      { ip: { ipv4: '10.0.0.1' }, unknown: [{ id: 31, flags: 0, bytes: Buffer.from([1, 2, 3]) }] },
      { ip: { ipv4: '10.0.0.1', unknown: [{ id: 9, flags: 0, bytes: Buffer.alloc(4) }] } },
      { ip: { ipv4: '10.0.0.1' }, port: 80, proto: 6, cadtFlags: 0 },
      { port: 80, proto: 17 },
      { proto: 6 },
      {},
      { ip: { ipv6: '::1' }, skbmark: 5n, skbprio: 0x10002, skbqueue: 3 },
      { ip: { ipv4: '10.0.0.1' }, packets: 2n ** 63n, bytes: 2n ** 53n - 1n, comment: 'c' },
    ];
    const buf = encodeMessages([
      dumpMessage('odd', { typename: 'hash:ip', revision: 1, family: 2, data: { elements: odd.length } }, odd),
      dumpMessage('odd', undefined, Array.from({ length: 20 }, () => entryRecord(r, SHAPES[2]!))),
    ], 1);
    both(buf, outcomeOf(buf));
  });

  it('fields the kernel pads or repeats: longer values, duplicate attributes', () => {
    // Hand-written entries: PORT with 4 bytes of payload, PROTO repeated, IPv4 tagged as IPv6.
    const attr = (id: number, payload: number[]) => {
      const len = 4 + payload.length;
      const out = [len & 0xff, len >> 8, id & 0xff, id >> 8, ...payload];
      while (out.length % 4) out.push(0);
      return out;
    };
    const nest = (id: number, inner: number[]) => attr(id | 0x8000, inner);
    const items = [
      [...nest(1, attr(1, [10, 0, 0, 1])), ...attr(4 | 0x4000, [0, 80, 0, 0]), ...attr(7, [6, 0]), ...attr(7, [17])],
      [...nest(1, attr(2, [10, 0, 0, 1]))],
      [...nest(1, attr(1, [10, 0, 0, 1, 0, 0, 0, 0]))],
      [...nest(1, [...attr(1, [10, 0, 0, 1]), ...attr(1, [10, 0, 0, 2])])],
      [...nest(1, attr(1, [10, 0, 0, 1])), ...attr(3, [24, 1, 2, 3])],
    ];
    const adt = items.flatMap((i) => nest(7, i));
    const buf = rawDump([...attr(1, [7]), ...attr(2, [...Buffer.from('raw'), 0]), ...nest(8, adt)]);
    both(buf, outcomeOf(buf));
  });

  it('corrupted and truncated dumps give the schema decoder\'s result or its error', () => {
    const r = rng(99);
    for (let round = 0; round < 400; round++) {
      const shape = pick(r, SHAPES);
      const buf = dump(r, [{ name: 'C', shape, n: 1 + int(r, 12) }], 5);
      const outcome = outcomeOf(buf);
      // Flip bytes after the message headers (lengths, types, values), or cut a message short.
      const bad = Buffer.from(buf);
      for (let k = 0; k < 1 + int(r, 4); k++) {
        const m = pick(r, outcome.replies);
        const at = m.payload + 4 + int(r, Math.max(1, m.end - m.payload - 4));
        if (at < m.end) bad[at] = r() < 0.5 ? int(r, 256) : bad[at]! ^ (1 << int(r, 8));
      }
      both(bad, outcome);
      const m = pick(r, outcome.replies);
      const cut = { ...outcome, replies: outcome.replies.map((x) => (x === m ? { ...x, end: x.payload + int(r, x.end - x.payload) } : x)) };
      both(buf, cut);
    }
  });

  it('the fast path reads the common shapes itself', () => {
    // Guards the comparisons above against passing only because everything fell back.
    const r = rng(5);
    for (const shape of SHAPES.slice(0, 13)) {
      if (shape.skbinfo) continue;
      const buf = dump(r, [{ name: 'F', shape, n: 3 }], 10);
      const [msg] = parseMessages(buf, 0, buf.length);
      // The ADT nest is the last attribute; its first item starts after its header.
      const attrsStart = msg!.payload + 4;
      let a = attrsStart;
      let adt = -1;
      while (a < msg!.end) {
        const len = buf.readUInt16LE(a);
        if ((buf.readUInt16LE(a + 2) & 0x3fff) === 8) adt = a;
        a += (len + 3) & ~3;
      }
      const item = adt + 4;
      const e = fastEntry(buf, item + 4, item + buf.readUInt16LE(item));
      expect(e, shape.type).toBeDefined();
    }
  });
});

function rawDump(attrs: number[]): Buffer {
  const body = Buffer.from(attrs);
  const buf = Buffer.alloc(SIZEOF_NLMSGHDR + 4 + body.length);
  buf.writeUInt32LE(buf.length, 0);
  buf.writeUInt16LE(ipsetMessageType(IPSET_CMD_LIST), 4);
  buf[16] = 2;
  body.copy(buf, 20);
  return buf;
}
