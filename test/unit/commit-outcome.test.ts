// The shape of a commit's outcome when the exchange is cut short, against a fake transport (no
// sockets): the handle closed before anything is sent, from onProgress between slices, while a
// slice is in flight, or while a slice waits its turn on the socket; a time-out; refusals. Every
// change gets one result, `skipped`/`unknown` ones a reason, and the commit resolves, with
// `closed`/`aborted` and `firstError` saying why. The kernel side of the same contract is proved
// in test/kernel/stress-close.test.ts.
import { describe, expect, it } from 'vitest';
import { Batch } from '../../src/batch/batch';
import type { HandleContext } from '../../src/handle-context';
import type { Connection, Exchange } from '../../src/netlink/connection';
import { NetlinkError } from '../../src/netlink/errors';
import type { GenlFamily } from '../../src/netlink/genl';
import type { NativeError } from '../../src/native';
import { NLMSG_ERROR } from '../../src/uapi/netlink';

const family: GenlFamily = { name: 'IPVS', id: 0x23, version: 1, hdrsize: 0, maxattr: 0, commands: new Set(), groups: new Map() };

/** What the fake kernel does with one exchange: how many of its messages are sent and acknowledged, and the error. */
interface Cut {
  sent: number;
  done: number;
  error: NativeError;
}

/**
 * A handle whose one socket is a fake kernel: it processes the messages it is sent in order (the
 * n-th message it ever sees is change n of these batches), refuses those `refuse` names with
 * EEXIST, and records what it applied. `onExchange` may cut an exchange short.
 */
class FakeHandle {
  closed = false;
  exchanges = 0;
  readonly applied = new Set<number>();
  private seen = 0;
  private seq = 1000;
  onExchange?: (n: number, count: number) => Cut | undefined;
  /** Makes the next exchange wait for this promise before it is served (as a socket's queue does). */
  gate?: Promise<void>;

  constructor(readonly refuse: (k: number) => boolean = () => false) {}

  readonly ctx: HandleContext = {
    connection: () => {
      if (this.closed) throw new NetlinkError({ code: 'EBADF', errno: -9, op: 'handle', detail: 'the handle is closed' });
      return this.conn as unknown as Connection;
    },
    genlFamily: async () => {
      await Promise.resolve();
      if (this.closed) throw new NetlinkError({ code: 'EBADF', errno: -9, op: 'handle', detail: 'the handle is closed' });
      return family;
    },
    exchangeOptions: {},
    netns: null,
    track: () => () => undefined,
  };

  close(): void {
    this.closed = true;
  }

  private readonly conn = {
    exchangeEncoded: async (count: number, encode: (firstSeq: number) => Buffer): Promise<Exchange> => {
      if (this.gate) await this.gate;
      if (this.closed) throw new NetlinkError({ code: 'EBADF', errno: -9, op: 'netlink', detail: 'the handle is closed' });
      const first = this.seq;
      this.seq += count + 1;
      const request = encode(first);
      const offsets: number[] = [];
      for (let off = 0; off < request.length; off += request.readUInt32LE(off)) offsets.push(off);
      expect(offsets).toHaveLength(count);
      const cut = this.onExchange?.(this.exchanges, count);
      this.exchanges++;
      const sent = cut?.sent ?? count, done = cut?.done ?? count;
      const replies: Buffer[] = [];
      for (let m = 0; m < sent; m++) {
        const k = this.seen++;
        if (!this.refuse(k)) {
          this.applied.add(k);
          continue;
        }
        // NLMSG_ERROR, capped: the errno and the request's header
        const r = Buffer.alloc(36);
        r.writeUInt32LE(36, 0);
        r.writeUInt16LE(NLMSG_ERROR, 4);
        r.writeUInt32LE(first + m, 8);
        r.writeInt32LE(-17, 16);
        request.copy(r, 20, offsets[m]!, offsets[m]! + 16);
        replies.push(r);
      }
      const bytes = (n: number) => (n >= count ? request.length : offsets[n]!);
      return { request, replies: Buffer.concat(replies), outcomes: [], sentBytes: bytes(sent), doneBytes: bytes(done), error: cut?.error ?? null };
    },
  };
}

const svc = { protocol: 'tcp' as const, address: '10.96.0.1', port: 80 };
function batchOf(h: FakeHandle, n: number): Batch {
  const b = new Batch(h.ctx);
  b.ipvs.addService({ ...svc, scheduler: 'rr' });
  for (let k = 1; k < n; k++) b.ipvs.addDestination(svc, { address: `172.16.${k >> 8 & 255}.${k & 255}`, port: 8080 + (k >> 16), forwarding: 'masq' });
  return b;
}

const ECANCELED_CLOSE: NativeError = { code: 'ECANCELED', errno: -125, syscall: 'close' };
const N = 30_000; // about three slices of a megabyte

/** Every change has one result; ok ones were applied, skipped ones not; counts add up. */
function checkConsistent(h: FakeHandle, r: Awaited<ReturnType<Batch['commit']>>): void {
  expect(r.results).toHaveLength(N);
  expect(r.applied + r.failed + r.skipped + r.unknown).toBe(N);
  const wrong: string[] = [];
  r.results.forEach((x, i) => {
    if (x.index !== i) wrong.push(`${i}: index ${x.index}`);
    if (x.status === 'ok' && !h.applied.has(i)) wrong.push(`${i}: ok but not applied`);
    if (x.status === 'skipped' && h.applied.has(i)) wrong.push(`${i}: skipped but applied`);
    if ((x.status === 'skipped' || x.status === 'unknown') !== (x.reason !== undefined)) wrong.push(`${i}: ${x.status} with reason ${x.reason}`);
  });
  expect(wrong.slice(0, 5)).toEqual([]);
}

describe('commit outcome', () => {
  it('says ok for every change of a complete commit, with no reason, closed and aborted false', async () => {
    const h = new FakeHandle();
    const r = await batchOf(h, N).commit();
    expect(r).toMatchObject({ ok: true, applied: N, failed: 0, skipped: 0, unknown: 0, aborted: false, closed: false, firstError: undefined });
    expect(h.exchanges).toBeGreaterThanOrEqual(3);
    checkConsistent(h, r);
    // closed after the end: the outcome does not change
    h.close();
    expect(r.results.every((x) => x.status === 'ok')).toBe(true);
  });

  it('reports each refusal at its index with errno, code and op, and goes on with continue', async () => {
    const refused = (k: number) => k > 0 && k % 7 === 3;
    const h = new FakeHandle(refused);
    const r = await batchOf(h, N).commit({ onError: 'continue' });
    const expected = Array.from({ length: N }, (_, k) => k).filter(refused);
    expect(r.failed).toBe(expected.length);
    expect(r.applied).toBe(N - expected.length);
    const wrong = expected.filter((k) => {
      const x = r.results[k]!;
      return x.status !== 'error' || x.error?.code !== 'EEXIST' || x.error.errno !== -17 || x.error.index !== k || x.error.op !== 'ipvs.addDestination';
    });
    expect(wrong).toEqual([]);
    expect(r.results[3]!.error).toMatchObject({ code: 'EEXIST', errno: -17, index: 3, op: 'ipvs.addDestination' });
    expect(r.firstError).toBe(r.results[3]!.error);
    checkConsistent(h, r);
  });

  it('skips what follows a refusal with stop, reason stopped; the rest of that slice was applied', async () => {
    const h = new FakeHandle((k) => k === 12_345);
    const r = await batchOf(h, N).commit();
    expect(r.results[12_345]!.status).toBe('error');
    expect(r.firstError).toBe(r.results[12_345]!.error);
    const firstSkipped = r.results.findIndex((x) => x.status === 'skipped');
    expect(firstSkipped).toBeGreaterThan(12_345);
    expect(r.results.slice(firstSkipped).every((x) => x.status === 'skipped' && x.reason === 'stopped')).toBe(true);
    expect(r.closed).toBe(false);
    checkConsistent(h, r);
  });

  it('resolves with every change skipped, reason closed, when the handle was closed before the commit', async () => {
    const h = new FakeHandle();
    const b = batchOf(h, N);
    h.close();
    const r = await b.commit();
    expect(r).toMatchObject({ ok: false, applied: 0, skipped: N, unknown: 0, closed: true, aborted: false });
    expect(r.firstError).toMatchObject({ code: 'EBADF', op: 'batch.commit' });
    expect(r.results.every((x) => x.status === 'skipped' && x.reason === 'closed')).toBe(true);
    expect(h.exchanges).toBe(0);
  });

  it('resolves the same when closed right after commit() is called, before the family is resolved', async () => {
    const h = new FakeHandle();
    const p = batchOf(h, N).commit();
    h.close();
    const r = await p;
    expect(r).toMatchObject({ applied: 0, skipped: N, closed: true });
    expect(h.applied.size).toBe(0);
  });

  it('closed from onProgress between slices: the slices done stay ok, the rest is skipped with reason closed', async () => {
    const h = new FakeHandle((k) => k === 100);
    let calls = 0, doneAtClose = 0;
    const r = await batchOf(h, N).commit({
      onError: 'continue',
      onProgress: (p) => {
        if (++calls === 1) {
          doneAtClose = p.done;
          h.close();
        }
      },
    });
    expect(calls).toBe(1);
    expect(doneAtClose).toBeGreaterThan(1000);
    expect(r).toMatchObject({ ok: false, closed: true, aborted: false, applied: doneAtClose - 1, failed: 1, skipped: N - doneAtClose, unknown: 0 });
    // the refusal comes first; it is the first error
    expect(r.firstError).toBe(r.results[100]!.error);
    expect(r.results[doneAtClose]).toMatchObject({ status: 'skipped', reason: 'closed' });
    expect(r.results.slice(doneAtClose).every((x) => x.status === 'skipped' && x.reason === 'closed')).toBe(true);
    checkConsistent(h, r);
  });

  it('without a refusal, a close between slices still sets firstError (ECANCELED)', async () => {
    const h = new FakeHandle();
    const r = await batchOf(h, N).commit({ onProgress: () => h.close() });
    expect(r.closed).toBe(true);
    expect(r.firstError).toMatchObject({ code: 'ECANCELED', op: 'batch.commit' });
    expect(r.firstError!.message).toMatch(/closed during the commit/);
  });

  it('closed while a slice is in flight: acknowledged ok, sent but unanswered unknown, unsent skipped, all with reason closed', async () => {
    const h = new FakeHandle();
    let start = 0;
    h.onExchange = (n, count) => {
      if (n === 0) {
        start = count;
        return undefined;
      }
      if (n !== 1) return undefined;
      h.close();
      return { sent: Math.floor(count / 2), done: Math.floor(count / 4), error: ECANCELED_CLOSE };
    };
    const r = await batchOf(h, N).commit();
    const second = N - start; // at least the second slice's worth
    expect(second).toBeGreaterThan(0);
    expect(r.closed).toBe(true);
    expect(r.unknown).toBeGreaterThan(0);
    expect(r.applied).toBeGreaterThan(start);
    const unknowns = r.results.filter((x) => x.status === 'unknown');
    expect(unknowns.every((x) => x.reason === 'closed' && x.error?.code === 'ECANCELED')).toBe(true);
    expect(r.results.filter((x) => x.status === 'skipped').every((x) => x.reason === 'closed')).toBe(true);
    expect(r.skipped).toBeGreaterThan(0);
    // in order: ok, then unknown, then skipped
    const order = r.results.map((x) => x.status).filter((s, i, a) => i === 0 || a[i - 1] !== s);
    expect(order).toEqual(['ok', 'unknown', 'skipped']);
    expect(r.firstError).toBe(unknowns[0]!.error);
    checkConsistent(h, r);
  });

  it('closed while a slice waits its turn on the socket: nothing of it was sent, so it is skipped', async () => {
    const h = new FakeHandle();
    let release!: () => void;
    let calls = 0;
    const r = await batchOf(h, N).commit({
      onProgress: () => {
        if (++calls > 1) return;
        h.gate = new Promise<void>((res) => { release = res; });
        setTimeout(() => { h.close(); release(); }, 10);
      },
    });
    expect(r.closed).toBe(true);
    expect(r.unknown).toBe(0);
    expect(r.results.slice(r.applied).every((x) => x.status === 'skipped' && x.reason === 'closed')).toBe(true);
    checkConsistent(h, r);
  });

  it('a time-out makes the unanswered changes unknown and the rest skipped, reason timeout', async () => {
    const h = new FakeHandle();
    h.onExchange = (n, count) => (n === 0 ? { sent: count, done: 10, error: { code: 'ETIMEDOUT', errno: -110, syscall: 'poll' } } : undefined);
    const r = await batchOf(h, N).commit();
    expect(r).toMatchObject({ closed: false, aborted: false, applied: 10 });
    expect(r.results[10]).toMatchObject({ status: 'unknown', reason: 'timeout' });
    expect(r.results[N - 1]).toMatchObject({ status: 'skipped', reason: 'timeout' });
    expect(r.firstError).toMatchObject({ code: 'ETIMEDOUT' });
    checkConsistent(h, r);
  });

  it('an abort between slices skips the rest with reason aborted', async () => {
    const h = new FakeHandle();
    const ac = new AbortController();
    const r = await batchOf(h, N).commit({ signal: ac.signal, onProgress: () => ac.abort() });
    expect(r).toMatchObject({ aborted: true, closed: false, firstError: undefined });
    expect(r.results.slice(r.applied).every((x) => x.status === 'skipped' && x.reason === 'aborted')).toBe(true);
  });

  it('rejects input errors before anything is sent', async () => {
    const h = new FakeHandle();
    await expect(batchOf(h, 10).commit({ onError: 'sometimes' as never })).rejects.toThrow(TypeError);
    await expect(batchOf(h, 10).commit({ onProgress: 5 as never })).rejects.toThrow(TypeError);
    expect(h.exchanges).toBe(0);
  });
});
