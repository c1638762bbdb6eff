// The native engine against the host's own generic netlink controller (nlctrl) and rtnetlink.
// Runs as root on the host without changing its network state: it only reads, and creates one
// throwaway network namespace. Messages are built by hand here; the real codec lives in src/netlink.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NETLINK_GENERIC, NETLINK_ROUTE, addonCandidates, loadAddon, native, type NativeSocket, type TransactResult } from '../../src/native';

// <linux/netlink.h>, <linux/genetlink.h>, <linux/rtnetlink.h>
const NLM_F_REQUEST = 0x1;
const NLM_F_MULTI = 0x2;
const NLM_F_DUMP = 0x300;
const NLMSG_ERROR = 0x2;
const NLMSG_DONE = 0x3;
const GENL_ID_CTRL = 0x10;
const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_ID = 1;
const CTRL_ATTR_FAMILY_NAME = 2;
const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const ENOENT = 2;

const align4 = (n: number): number => (n + 3) & ~3;

interface Msg {
  type: number;
  flags: number;
  seq: number;
  payload: Buffer;
}

/** A request of type/flags/seq with a fixed header and nlattrs of [type, bytes]. */
function message(type: number, flags: number, seq: number, fixed: Buffer, attrs: [number, Buffer][] = []): Buffer {
  const body = Buffer.concat([
    fixed,
    ...attrs.map(([t, v]) => {
      const a = Buffer.alloc(align4(4 + v.length));
      a.writeUInt16LE(4 + v.length, 0);
      a.writeUInt16LE(t, 2);
      v.copy(a, 4);
      return a;
    }),
  ]);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  return Buffer.concat([h, body]);
}

const genlHeader = (): Buffer => Buffer.from([CTRL_CMD_GETFAMILY, 1, 0, 0]);
const getFamilyByName = (seq: number, name: string, flags = NLM_F_REQUEST): Buffer =>
  message(GENL_ID_CTRL, flags, seq, genlHeader(), [[CTRL_ATTR_FAMILY_NAME, Buffer.from(`${name}\0`)]]);
// By id rather than by name: a missing name makes kernels with modules run modprobe each time.
const getMissingFamilyById = (seq: number): Buffer => {
  const id = Buffer.alloc(2);
  id.writeUInt16LE(0xfff0);
  return message(GENL_ID_CTRL, NLM_F_REQUEST, seq, genlHeader(), [[CTRL_ATTR_FAMILY_ID, id]]);
};
const dumpFamilies = (seq: number): Buffer => message(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_DUMP, seq, genlHeader());
// Dump-flagged but without NLM_F_REQUEST: netlink_rcv_skb skips it without any reply (no ack is
// asked for), so the engine waits for an NLMSG_DONE that never comes.
const neverAnswered = (seq: number): Buffer => message(GENL_ID_CTRL, NLM_F_DUMP, seq, genlHeader());

function parse(replies: Buffer | null): Msg[] {
  if (replies === null) throw new Error('replies are in the lent buffer');
  const buf = replies;
  const out: Msg[] = [];
  for (let off = 0; off < buf.length; ) {
    const len = buf.readUInt32LE(off);
    expect(len).toBeGreaterThanOrEqual(16);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      payload: buf.subarray(off + 16, off + len),
    });
    off += align4(len);
  }
  return out;
}

function attrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let off = 0; off + 4 <= buf.length; ) {
    const len = buf.readUInt16LE(off);
    if (len < 4) break;
    out.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

/** errno of each NLMSG_ERROR reply, by seq (0 = ack). */
function errorsBySeq(r: TransactResult): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of parse(r.replies)) {
    if (m.type !== NLMSG_ERROR) continue;
    expect(out.has(m.seq)).toBe(false);
    out.set(m.seq, m.payload.readInt32LE(0));
  }
  return out;
}

const seqRange = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

const b = native();
const open: NativeSocket[] = [];
function openGeneric(options?: Parameters<typeof b.open>[1]): NativeSocket {
  const s = b.open(NETLINK_GENERIC, options);
  open.push(s);
  return s;
}
afterAll(() => open.forEach((s) => b.close(s)));

describe('open and close', () => {
  it('opens NETLINK_GENERIC with a kernel-assigned port id; close is idempotent', () => {
    const s = b.open(NETLINK_GENERIC);
    expect(b.portId(s)).toBeGreaterThan(0);
    expect(b.rcvbuf(s)).toBeGreaterThan(0);
    b.close(s);
    b.close(s);
    expect(() => b.portId(s)).toThrow(expect.objectContaining({ code: 'EBADF', errno: -9 }));
  });

  it('sets the receive buffer (the kernel doubles it)', () => {
    const s = openGeneric({ rcvbuf: 65536 });
    expect(b.rcvbuf(s)).toBe(131072);
  });

  it('applies capAck: a capped error reply carries only the request header, an uncapped one all of it', async () => {
    const req = getMissingFamilyById(1);
    for (const [capAck, echoed] of [
      [true, 16],
      [false, req.length],
    ] as const) {
      const s = openGeneric({ capAck, strictCheck: true });
      const [err] = parse((await b.transact(s, req)).replies);
      expect(err).toMatchObject({ type: NLMSG_ERROR, seq: 1 });
      expect(err!.payload.readInt32LE(0)).toBe(-ENOENT);
      expect(err!.payload.length).toBe(4 + echoed);
    }
  });

  it('rejects bad arguments with TypeError or RangeError before any syscall', () => {
    expect(() => b.open('16' as unknown as number)).toThrow(TypeError);
    expect(() => b.open(32)).toThrow(RangeError);
    expect(() => b.open(NETLINK_GENERIC, { rcvbuf: -1 })).toThrow(RangeError);
    expect(() => b.open(NETLINK_GENERIC, { extAck: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => b.open(NETLINK_GENERIC, { netns: 5 as unknown as string })).toThrow(TypeError);
    expect(() => b.portId({} as NativeSocket)).toThrow(TypeError);
    expect(() => b.close({ __nativeSocket: true })).toThrow(TypeError);
  });

  it('cannot be constructed from JS', () => {
    const s = openGeneric();
    const Ctor = (s as unknown as { constructor: new () => unknown }).constructor;
    expect(() => new Ctor()).toThrow(TypeError);
  });
});

describe('transact', () => {
  let s: NativeSocket;
  beforeAll(() => {
    s = openGeneric();
  });

  it('looks up nlctrl and gets its family id, then the ack the engine asked for', async () => {
    const req = getFamilyByName(1, 'nlctrl');
    const r = await b.transact(s, req);
    expect(r).toMatchObject({ sentBytes: req.length, doneBytes: req.length, error: null, dumpInterrupted: false });
    const [reply, ack] = parse(r.replies);
    expect(reply).toMatchObject({ type: GENL_ID_CTRL, seq: 1 });
    const a = attrs(reply!.payload.subarray(4));
    expect(a.get(CTRL_ATTR_FAMILY_ID)?.readUInt16LE(0)).toBe(GENL_ID_CTRL);
    expect(a.get(CTRL_ATTR_FAMILY_NAME)?.toString()).toBe('nlctrl\0');
    // The request had no NLM_F_ACK: the engine set it on the chunk's last message.
    expect(ack).toMatchObject({ type: NLMSG_ERROR, seq: 1 });
    expect(ack!.payload.readInt32LE(0)).toBe(0);
  });

  it('reports a missing family as an NLMSG_ERROR with -ENOENT for its seq', async () => {
    const req = getFamilyByName(7, 'no-such-family');
    const r = await b.transact(s, req);
    expect(r).toMatchObject({ sentBytes: req.length, doneBytes: req.length, error: null });
    expect([...errorsBySeq(r)]).toEqual([[7, -ENOENT]]);
  });

  it('copies the request at call time, so the caller may reuse its Buffer', async () => {
    const req = getFamilyByName(8, 'no-such-family');
    const p = b.transact(s, req);
    req.fill(0);
    expect([...errorsBySeq(await p)]).toEqual([[8, -ENOENT]]);
  });

  it('accepts an unaligned Buffer slice', async () => {
    const msg = getMissingFamilyById(9);
    const backing = Buffer.alloc(msg.length + 1);
    msg.copy(backing, 1);
    expect([...errorsBySeq(await b.transact(s, backing.subarray(1)))]).toEqual([[9, -ENOENT]]);
  });

  it('dumps as multipart messages ending in NLMSG_DONE', async () => {
    const r = await b.transact(s, dumpFamilies(20));
    expect(r.error).toBeNull();
    const msgs = parse(r.replies);
    expect(msgs.length).toBeGreaterThan(1);
    expect(msgs.at(-1)).toMatchObject({ type: NLMSG_DONE, seq: 20 });
    for (const m of msgs.slice(0, -1)) expect(m).toMatchObject({ type: GENL_ID_CTRL, seq: 20, flags: expect.any(Number) });
    expect(msgs.slice(0, -1).every((m) => (m.flags & NLM_F_MULTI) !== 0)).toBe(true);
    const names = msgs.slice(0, -1).map((m) => attrs(m.payload.subarray(4)).get(CTRL_ATTR_FAMILY_NAME)?.toString());
    expect(names).toContain('nlctrl\0');
  });

  it('receives into a lent buffer while the replies fit, and into a new one holding them all when not', async () => {
    const req = Buffer.concat([dumpFamilies(40), getMissingFamilyById(41)]);
    const whole = await b.transact(s, req);
    const size = whole.replies!.length;
    const into = Buffer.alloc(size + 64, 0xee);
    const lent = await b.transact(s, Buffer.concat([dumpFamilies(40), getMissingFamilyById(41)]), { into });
    expect(lent.replies).toBeNull();
    expect(lent.repliesLength).toBe(size);
    expect(parse(into.subarray(0, size)).map((m) => [m.type, m.seq])).toEqual(parse(whole.replies).map((m) => [m.type, m.seq]));
    expect(into.subarray(size).every((x) => x === 0xee)).toBe(true);
    const small = Buffer.alloc(64);
    const spilled = await b.transact(s, req, { into: small });
    expect(spilled.replies!.length).toBe(size);
    expect(parse(spilled.replies).map((m) => [m.type, m.seq])).toEqual(parse(whole.replies).map((m) => [m.type, m.seq]));
    expect(() => b.transact(s, req, { into: 'x' as unknown as Buffer })).toThrow(TypeError);
  });

  it('serialises two dumps and the messages around them in one request', async () => {
    const req = Buffer.concat([getMissingFamilyById(30), dumpFamilies(31), dumpFamilies(32), getMissingFamilyById(33)]);
    const r = await b.transact(s, req);
    expect(r).toMatchObject({ error: null, doneBytes: req.length });
    const msgs = parse(r.replies);
    const done = msgs.filter((m) => m.type === NLMSG_DONE).map((m) => m.seq);
    expect(done).toEqual([31, 32]); // a second dump while one is open would have drawn EBUSY
    expect([...errorsBySeq(r)]).toEqual([
      [30, -ENOENT],
      [33, -ENOENT],
    ]);
    expect(msgs.map((m) => m.seq)).toEqual([...msgs.map((m) => m.seq)].sort((x, y) => x - y));
  });
});

describe('pacing', () => {
  const N = 5000;
  const batch = (first: number, n: number): Buffer => Buffer.concat(seqRange(first, n).map(getMissingFamilyById));
  const msgLen = getMissingFamilyById(0).length;

  it(`gets all ${N} error replies through a 64 KiB receive buffer`, async () => {
    const s = openGeneric({ rcvbuf: 65536 });
    const req = batch(1000, N);
    const r = await b.transact(s, req);
    expect(r.error).toBeNull();
    expect(r.doneBytes).toBe(req.length);
    const errs = errorsBySeq(r);
    expect(errs.size).toBe(N);
    for (const seq of seqRange(1000, N)) expect(errs.get(seq)).toBe(-ENOENT);
  });

  it('non-dump GETs draw data replies bigger than an ack: too many per chunk overflow (ENOBUFS); fewer fit', async () => {
    const s = b.open(NETLINK_ROUTE, { rcvbuf: 65536 });
    open.push(s);
    const getLo = (seq: number): Buffer => {
      const ifinfomsg = Buffer.alloc(16);
      ifinfomsg.writeInt32LE(1, 4); // ifindex 1: lo, about 1.4 KiB of reply
      return message(RTM_GETLINK, NLM_F_REQUEST, seq, ifinfomsg);
    };
    const gets = Buffer.concat(seqRange(1, 200).map(getLo));
    const r = await b.transact(s, gets);
    expect(r.error).toMatchObject({ code: 'ENOBUFS', errno: -105, syscall: 'recvmsg' });
    expect(r.doneBytes).toBe(0);
    // The socket recovers, and the leftovers are not shown to the next transaction.
    const ok = await b.transact(s, gets, { maxChunkMessages: 8 });
    expect(ok).toMatchObject({ error: null, doneBytes: gets.length });
    const msgs = parse(ok.replies);
    expect(msgs.filter((m) => m.type === RTM_NEWLINK).map((m) => m.seq)).toEqual(seqRange(1, 200));
    expect([...errorsBySeq(ok).values()].every((e) => e === 0)).toBe(true);
  });

  it('stopOnError stops after the first chunk that drew an error', async () => {
    const s = openGeneric({ rcvbuf: 65536 });
    const r = await b.transact(s, batch(1000, N), { stopOnError: true });
    expect(r.error).toBeNull();
    const n = r.doneBytes / msgLen;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(Math.floor(b.rcvbuf(s) / 1536));
    expect(r.sentBytes).toBe(r.doneBytes);
    expect([...errorsBySeq(r).keys()]).toEqual(seqRange(1000, n));

    const ten = await b.transact(s, batch(7000, N), { stopOnError: true, maxChunkMessages: 10 });
    expect(ten).toMatchObject({ error: null, sentBytes: 10 * msgLen, doneBytes: 10 * msgLen });
    expect([...errorsBySeq(ten).keys()]).toEqual(seqRange(7000, 10));
  });

  it('sends a message larger than maxChunkBytes alone', async () => {
    const s = openGeneric();
    const big = message(GENL_ID_CTRL, NLM_F_REQUEST, 5, genlHeader(), [
      [CTRL_ATTR_FAMILY_NAME, Buffer.from('nlctrl\0')],
      [0x3fff, Buffer.alloc(60000)], // unknown attribute: the lookup ignores it
    ]);
    const req = Buffer.concat([getMissingFamilyById(4), big, getMissingFamilyById(6)]);
    const r = await b.transact(s, req, { maxChunkBytes: 1024 });
    expect(r).toMatchObject({ error: null, doneBytes: req.length });
    expect([...errorsBySeq(r)]).toEqual([
      [4, -ENOENT],
      [5, 0],
      [6, -ENOENT],
    ]);
  });
});

describe('timeout, cancel, close', () => {
  it('times out when the completion never comes, with doneBytes covering the finished chunks', async () => {
    const s = openGeneric();
    const first = getMissingFamilyById(1);
    const req = Buffer.concat([first, neverAnswered(2)]);
    const t0 = Date.now();
    const r = await b.transact(s, req, { timeoutMs: 200 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(r).toMatchObject({ sentBytes: req.length, doneBytes: first.length });
    expect(r.error).toEqual({ code: 'ETIMEDOUT', errno: -110, syscall: 'poll' });
    expect([...errorsBySeq(r)]).toEqual([[1, -ENOENT]]);
  });

  it('cancel makes an in-flight transact resolve with ECANCELED; the socket stays usable', async () => {
    const s = openGeneric();
    b.cancel(s); // idle: no-op, must not cancel the next transaction
    const t0 = Date.now();
    const p = b.transact(s, neverAnswered(1), { timeoutMs: 60000 });
    await expect(b.transact(s, getMissingFamilyById(2))).rejects.toMatchObject({ code: 'EBUSY', errno: -16 });
    setTimeout(() => b.cancel(s), 50);
    const r = await p;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.error).toEqual({ code: 'ECANCELED', errno: -125, syscall: 'cancel' });
    expect(r.doneBytes).toBe(0);
    const again = await b.transact(s, getMissingFamilyById(3));
    expect(again.error).toBeNull();
    expect([...errorsBySeq(again)]).toEqual([[3, -ENOENT]]);
  });

  it('close during a transact resolves it with ECANCELED; afterwards transact rejects with EBADF', async () => {
    const s = b.open(NETLINK_GENERIC);
    const p = b.transact(s, neverAnswered(1), { timeoutMs: 60000 });
    setTimeout(() => b.close(s), 50);
    const r = await p;
    expect(r.error).toEqual({ code: 'ECANCELED', errno: -125, syscall: 'close' });
    await expect(b.transact(s, getMissingFamilyById(2))).rejects.toMatchObject({ code: 'EBADF', errno: -9 });
    b.close(s);
  });

  it('close right after starting a big batch ends it early or lets it finish, never both', async () => {
    const s = b.open(NETLINK_GENERIC);
    const req = Buffer.concat(seqRange(1, 20000).map(getMissingFamilyById));
    const p = b.transact(s, req);
    b.close(s);
    const r = await p;
    if (r.error === null) {
      expect(r.doneBytes).toBe(req.length);
    } else {
      expect(r.error).toMatchObject({ code: 'ECANCELED', syscall: 'close' });
      expect(r.doneBytes).toBeLessThan(req.length);
      expect(errorsBySeq(r).size * getMissingFamilyById(0).length).toBeGreaterThanOrEqual(r.doneBytes);
    }
  });
});

describe('request validation', () => {
  const s = openGeneric();
  it.each([
    ['a truncated header', Buffer.alloc(10)],
    ['an empty request', Buffer.alloc(0)],
    ['nlmsg_len below 16', Buffer.from(getMissingFamilyById(1)).fill(0, 0, 4)],
    ['nlmsg_len beyond the Buffer', getMissingFamilyById(1).subarray(0, 20)],
    ['a trailing partial header', Buffer.concat([getMissingFamilyById(1), Buffer.alloc(8)])],
  ])('throws TypeError for %s', (_, req) => {
    expect(() => b.transact(s, req)).toThrow(TypeError);
  });
  it('throws TypeError for a non-Buffer and bad options', () => {
    expect(() => b.transact(s, new Uint16Array(8) as unknown as Buffer)).toThrow(TypeError);
    expect(() => b.transact(s, getMissingFamilyById(1), { timeoutMs: '1' as unknown as number })).toThrow(TypeError);
    expect(() => b.transact(s, getMissingFamilyById(1), { maxChunkMessages: 0 })).toThrow(RangeError);
    expect(() => b.transact(s, getMissingFamilyById(1), { maxChunkBytes: 1.5 })).toThrow(RangeError);
  });
});

describe('network namespaces', () => {
  const name = `ipvs-native-${process.pid}`;
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', name]);
  });
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', name]);
  });

  it('opens a socket inside the namespace: its link dump shows only lo', async () => {
    const s = b.open(NETLINK_ROUTE, { netns: `/run/netns/${name}` });
    open.push(s);
    const ifinfomsg = Buffer.alloc(16); // family AF_UNSPEC
    const r = await b.transact(s, message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, ifinfomsg));
    expect(r.error).toBeNull();
    const links = parse(r.replies).filter((m) => m.type === RTM_NEWLINK);
    expect(links).toHaveLength(1);
    expect(links[0]!.payload.readInt32LE(4)).toBe(1); // ifindex 1: lo
  });

  it('generic netlink works there too', async () => {
    const s = openGeneric({ netns: `/run/netns/${name}` });
    const r = await b.transact(s, getFamilyByName(1, 'nlctrl'));
    expect(errorsBySeq(r).get(1)).toBe(0);
  });

  it('throws ENOENT for a missing namespace path, EINVAL for a file that is not one', () => {
    const missing = `/run/netns/${name}-missing`;
    let err: unknown;
    try {
      b.open(NETLINK_GENERIC, { netns: missing });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'open', message: `open(${missing}): No such file or directory` });
    expect(() => b.open(NETLINK_GENERIC, { netns: '/dev/null' })).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'setns' }));
  });
});

describe('notifications: subscribe and receive', () => {
  const name = `ipvs-native-notify-${process.pid}`;
  const RTNLGRP_LINK = 1;
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', name]);
  });
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', name]);
  });
  const inNs = (...args: string[]) => execFileSync('ip', ['netns', 'exec', name, ...args]);

  it('receives the kernel\'s notifications for a subscribed group (seq 0, pid 0)', async () => {
    const s = b.open(NETLINK_ROUTE, { netns: `/run/netns/${name}` });
    open.push(s);
    b.subscribe(s, RTNLGRP_LINK);
    const p = b.receive(s, { timeoutMs: 10000 });
    inNs('ip', 'link', 'set', 'lo', 'up');
    const r = await p;
    expect(r.error).toBeNull();
    const msgs = parse(r.messages);
    expect(msgs.length).toBeGreaterThanOrEqual(1);
    expect(msgs[0]).toMatchObject({ type: RTM_NEWLINK, seq: 0 });
    expect(msgs[0]!.payload.readInt32LE(4)).toBe(1); // lo
  });

  it('times out with ETIMEDOUT and nothing received; a transact meanwhile is EBUSY', async () => {
    const s = b.open(NETLINK_ROUTE, { netns: `/run/netns/${name}` });
    open.push(s);
    b.subscribe(s, RTNLGRP_LINK);
    const t0 = Date.now();
    const p = b.receive(s, { timeoutMs: 150 });
    await expect(b.receive(s)).rejects.toMatchObject({ code: 'EBUSY' });
    await expect(b.transact(s, getMissingFamilyById(1))).rejects.toMatchObject({ code: 'EBUSY' });
    const r = await p;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(r.messages.length).toBe(0);
    expect(r.error).toEqual({ code: 'ETIMEDOUT', errno: -110, syscall: 'poll' });
  });

  it('waits without a timeout until cancel (ECANCELED), then again until close; then EBADF', async () => {
    const s = b.open(NETLINK_ROUTE, { netns: `/run/netns/${name}` });
    b.subscribe(s, RTNLGRP_LINK);
    const p = b.receive(s);
    setTimeout(() => b.cancel(s), 50);
    expect((await p).error).toEqual({ code: 'ECANCELED', errno: -125, syscall: 'cancel' });
    const q = b.receive(s);
    setTimeout(() => b.close(s), 50);
    expect((await q).error).toEqual({ code: 'ECANCELED', errno: -125, syscall: 'close' });
    await expect(b.receive(s)).rejects.toMatchObject({ code: 'EBADF' });
    expect(() => b.subscribe(s, RTNLGRP_LINK)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('checks its arguments', () => {
    const s = b.open(NETLINK_ROUTE);
    open.push(s);
    expect(() => b.subscribe(s, 0)).toThrow(RangeError);
    expect(() => b.subscribe(s, 'x' as unknown as number)).toThrow(TypeError);
    expect(() => b.subscribe({} as NativeSocket, 1)).toThrow(TypeError);
    expect(() => b.receive(s, { timeoutMs: -1 })).toThrow(RangeError);
    expect(() => b.receive({} as NativeSocket)).toThrow(TypeError);
  });
});

describe('native()', () => {
  it('closes unreferenced sockets when they are garbage collected', () => {
    const addon = addonCandidates(path.join(__dirname, '..', '..')).find((f) => existsSync(f));
    expect(addon, 'the addon is built (npm test builds the prebuild first)').toBeDefined();
    const script = `
      const b = require(${JSON.stringify(addon)});
      const count = () => require('fs').readdirSync('/proc/self/fd').length;
      const before = count();
      for (let i = 0; i < 200; i++) b.open(16);
      const opened = count() - before;
      setTimeout(() => { gc(); setTimeout(() => { gc(); console.log(JSON.stringify({ opened, left: count() - before })); }, 10); }, 10);
    `;
    const out = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    const { opened, left } = JSON.parse(out.stdout) as { opened: number; left: number };
    expect(opened).toBe(400); // a netlink socket and an eventfd each
    expect(left).toBeLessThan(opened / 2);
  });

  it('fails at first use, not at import, on other platforms', async () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    Object.defineProperty(process, 'platform', { value: 'darwin' });
    try {
      vi.resetModules();
      const fresh = await import('../../src/native');
      expect(fresh.NETLINK_GENERIC).toBe(16);
      expect(() => fresh.native()).toThrow('ipvs: needs Linux; this is darwin');
    } finally {
      Object.defineProperty(process, 'platform', platform);
    }
  });

  it('looks for a local build, then the prebuild of this architecture and C library', () => {
    expect(addonCandidates('/pkg', 'arm64', 'musl')).toEqual(['/pkg/build/Release/ipvs_native.node', '/pkg/prebuilds/linux-arm64/ipvs.musl.node']);
    expect(addonCandidates('/pkg', 'x64', 'glibc')[1]).toBe('/pkg/prebuilds/linux-x64/ipvs.glibc.node');
  });

  it('on a Linux architecture with no prebuild, names the platforms that ship and how to build from source', () => {
    expect(() => loadAddon('/nonexistent', 'riscv64', 'glibc')).toThrow(
      /^ipvs: no prebuilt addon for linux-riscv64 glibc; the package ships linux-x64 glibc, linux-x64 musl, linux-arm64 glibc, linux-arm64 musl\. To build from source: .*npm run build:native/,
    );
  });
});
