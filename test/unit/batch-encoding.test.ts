// The batch's fast path writes IPVS destination messages itself; it must write exactly what the
// op builders write (and leave everything it does not handle, errors included, to them).
import { describe, expect, it } from 'vitest';
import { BatchIpvs, FastDestChange, parseIPv4, type AnyIpvsChange } from '../../src/batch/ipvs';
import { buildOp } from '../../src/batch/ipvs-fast';
import type { BoundFamily, Change } from '../../src/batch/change';
import * as ops from '../../src/ipvs/ops';
import { encodeMessages } from '../../src/netlink/message';
import type { GenlFamily } from '../../src/netlink/genl';
import { isIPv4 } from 'node:net';

const family: GenlFamily = { name: 'IPVS', id: 0x23, version: 1, hdrsize: 0, maxattr: 0, commands: new Set(), groups: new Map() };
const bound = { genlId: family.id } as BoundFamily;

function queue(fn: (b: BatchIpvs) => void): AnyIpvsChange[] {
  const out: Change[] = [];
  fn(new BatchIpvs((c) => out.push(c) - 1));
  return out as AnyIpvsChange[];
}

function fastBytes(c: AnyIpvsChange, seq: number): Buffer {
  const buf = Buffer.alloc(c.fast!.size);
  c.fast!.write(buf, 0, seq, bound);
  return buf;
}

// A small deterministic generator (no dependency on Math.random).
function rng(seed: number) {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('batch fast path for IPVS destinations', () => {
  it('writes the same bytes as the op builders for many destinations', () => {
    const r = rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    for (let n = 0; n < 400; n++) {
      const svc = pick([
        { protocol: 'tcp', address: `10.${n & 255}.0.1`, port: 80 },
        { protocol: 'udp', address: '10.96.0.10', port: 53 },
        { protocol: 'sctp', address: '192.0.2.1', port: 0 },
        { fwmark: 1 + n },
      ] as const);
      const upper = Math.floor(r() * 3) === 0 ? 0 : Math.floor(r() * 1000);
      const d = {
        address: `192.168.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`,
        port: Math.floor(r() * 65536),
        ...(r() < 0.8 && { forwarding: pick(['masq', 'route', 'local', 'bypass'] as const) }),
        ...(r() < 0.8 && { weight: pick([0, 1, 7, 65535, 0x7fffffff]) }),
        ...(upper > 0 && { upperThreshold: upper, lowerThreshold: Math.floor(r() * upper) }),
      };
      const seq = 1000 + n;
      const [add, edit, del] = queue((b) => {
        b.addDestination(svc, d);
        b.editDestination(svc, d);
        b.deleteDestination(svc, { address: d.address, port: d.port });
      });
      for (const [c, op] of [
        [add!, ops.addDestinationOp(family, svc, d)],
        [edit!, ops.editDestinationOp(family, svc, d)],
        [del!, ops.deleteDestinationOp(family, svc, d)],
      ] as const) {
        expect(c.fast, `${c.op} ${JSON.stringify([svc, d])}`).toBeDefined();
        const want = encodeMessages([op.message], seq).toString('hex');
        expect(fastBytes(c, seq).toString('hex')).toBe(want);
        // what undo and refusals use: the key and destination rebuilt from the values kept
        if (c instanceof FastDestChange) expect(encodeMessages([buildOp(family, c).message], seq).toString('hex')).toBe(want);
        expect(c.generic).toBeUndefined();
      }
    }
  });

  it('addIPv4Destination (numbers, as ipvs restore reads them) writes what addDestination writes, fwmark and IPv6 services too', () => {
    const r = rng(11);
    for (let n = 0; n < 300; n++) {
      const svc = [
        { protocol: 'tcp', address: `10.${n & 255}.0.1`, port: 80 },
        { protocol: 'udp', address: '10.96.0.10', port: 53 },
        { fwmark: 1 + n },
        { protocol: 'tcp', address: 'fd00::1', port: 443 },
      ][n % 4] as { protocol: 'tcp'; address: string; port: number };
      const a = Math.floor(r() * 2 ** 32);
      const quad = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
      const port = Math.floor(r() * 65536), weight = Math.floor(r() * 65536);
      const forwarding = r() < 0.5 ? 'masq' as const : 'route' as const;
      if (svc.address === 'fd00::1') {
        // an IPv4 real server of an IPv6 service: the builder's refusal, either way
        const refusal = (fn: (b: BatchIpvs) => void) => { try { queue(fn); } catch (err) { return (err as Error).message; } return 'queued'; };
        const why = refusal((b) => b.addDestination(svc, { address: quad, port, forwarding, weight }));
        expect(why).toMatch(/another address family/);
        expect(refusal((b) => b.addIPv4Destination(svc, a, port, forwarding, weight))).toBe(why);
        continue;
      }
      const [fast, plain] = queue((b) => {
        b.addIPv4Destination(svc, a, port, forwarding, weight);
        b.addDestination(svc, { address: quad, port, forwarding, weight, upperThreshold: 0, lowerThreshold: 0 });
      });
      const want = encodeMessages([ops.addDestinationOp(family, svc, { address: quad, port, forwarding, weight }).message], 5).toString('hex');
      const bytes = (c: AnyIpvsChange) => (c.fast ? fastBytes(c, 5) : encodeMessages([c.generic!.message], 5)).toString('hex');
      expect(bytes(fast!), JSON.stringify([svc, quad])).toBe(want);
      expect(bytes(plain!)).toBe(want);
    }
  });

  it('writes every byte of its message over a dirty buffer, at any offset, for any family id', () => {
    // a commit reuses one scratch buffer: nothing may be left from the message written there before
    const svc = { protocol: 'tcp', address: '10.96.1.2', port: 443 } as const;
    const dests = [
      { address: '172.16.0.1', port: 8080, forwarding: 'masq', weight: 1 },
      { address: '255.255.255.255', port: 65535, forwarding: 'bypass', weight: 0x7fffffff, upperThreshold: 0xffff, lowerThreshold: 1 },
      { address: '0.0.0.1', port: 0, forwarding: 'route', weight: 0 },
    ] as const;
    const changes = queue((b) => {
      b.addService({ ...svc, scheduler: 'wrr' });
      for (const d of dests) {
        b.addDestination(svc, d);
        b.editDestination(svc, { ...d, weight: 9 });
        b.deleteDestination(svc, d);
      }
    });
    for (const genlId of [0x23, 0x1234, 0x23]) {
      const f = { ...family, id: genlId };
      const want = changes.map((c, k) => encodeMessages([buildOp(f, c).message], 7 + k));
      for (const fill of [0x00, 0xaa, 0xff]) {
        const buf = Buffer.alloc(3 + want.reduce((a, w) => a + w.length, 0), fill);
        let off = 3;
        changes.forEach((c, k) => {
          c.fast!.write(buf, off, 7 + k, { genlId } as BoundFamily);
          off += c.fast!.size;
        });
        expect(buf.subarray(0, 3).every((x) => x === fill)).toBe(true);
        expect(buf.subarray(3).toString('hex')).toBe(Buffer.concat(want).toString('hex'));
      }
    }
  });

  it('writes the same bytes as the op builders for services of every kind of setting', () => {
    const keys = [
      { protocol: 'tcp', address: '10.0.0.1', port: 80 },
      { protocol: 'udp', address: '10.0.0.2', port: 53 },
      { protocol: 'tcp', address: 'fd00::1', port: 443 },
      { fwmark: 7 },
      { fwmark: 8, family: 'inet6' },
    ] as const;
    const settings = [
      {},
      { scheduler: 'rr' },
      { scheduler: 'sh', schedFlags: ['sh-fallback', 'sh-port'] },
      { scheduler: 'wlc', persistent: 300 },
      { scheduler: 'wlc', persistent: 300, netmask: 24 },
      { scheduler: 'wlc', persistent: 300, netmask: '255.255.0.0' },
      { scheduler: 'rr', pe: 'sip', persistent: 60 },
    ];
    let seq = 1;
    for (const k of keys) {
      for (const st of settings) {
        const s = { ...k, ...st } as never;
        let expected: string[];
        try {
          expected = [ops.addServiceOp(family, s), ops.editServiceOp(family, s), ops.deleteServiceOp(family, s)]
            .map((op, i) => encodeMessages([op.message], seq + i).toString('hex'));
        } catch {
          expect(() => queue((b) => b.addService(s))).toThrow();
          continue;
        }
        const cs = queue((b) => {
          b.addService(s);
          b.editService(s);
          b.deleteService(s);
        });
        cs.forEach((c, i) => {
          expect(c.fast, `${c.op} ${JSON.stringify(s)}`).toBeDefined();
          expect(fastBytes(c, seq + i).toString('hex'), `${c.op} ${JSON.stringify(s)}`).toBe(expected[i]);
        });
        seq += 3;
      }
    }
  });

  it('checks every service with the builders, even one whose settings it has seen', () => {
    const ok = { protocol: 'udp', address: '10.0.0.1', port: 53, onePacket: true } as const;
    const bad = { protocol: 'tcp', address: '10.0.0.1', port: 80, onePacket: true } as const;
    const zero = { protocol: 'tcp', address: '10.0.0.1', port: 0 } as const;
    queue((b) => b.addService(ok));
    for (const s of [bad, zero]) {
      let builderError: unknown;
      try {
        ops.addServiceOp(family, s);
      } catch (e) {
        builderError = e;
      }
      expect(builderError).toBeInstanceOf(Error);
      expect(() => queue((b) => {
        b.addService(ok);
        b.addService(s);
      })).toThrow(builderError as Error);
    }
  });

  it('leaves IPv6, tunnels and invalid input to the builders, which throw their own errors', () => {
    const v4 = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
    const v6 = { protocol: 'tcp', address: 'fd00::1', port: 80 } as const;
    const [a, b] = queue((q) => {
      q.addDestination(v6, { address: 'fd00::2', port: 80 });
      q.addDestination(v4, { address: '10.0.0.2', port: 80, forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080 });
    });
    expect(a!.fast).toBeUndefined();
    expect(a!.generic?.message).toEqual(ops.addDestinationOp({ ...family, id: 0 }, v6, { address: 'fd00::2', port: 80 }).message);
    expect(b!.fast).toBeUndefined();
    const bad: [unknown, unknown][] = [
      [v4, { address: '10.0.0.256', port: 80 }],
      [v4, { address: '010.0.0.1', port: 80 }],
      [v4, { address: '10.0.0.2', port: 70000 }],
      [v4, { address: '10.0.0.2', port: 80, weight: -1 }],
      [v4, { address: '10.0.0.2', port: 80, weight: 1.5 }],
      [v4, { address: '10.0.0.2', port: 80, forwarding: 'nat' }],
      [v4, { address: '10.0.0.2', port: 80, upperThreshold: 1, lowerThreshold: 2 }],
      [v4, { address: '10.0.0.2', port: 80, tunnelPort: 5 }],
      [v6, { address: '10.0.0.2', port: 80 }],
      [{ protocol: 'tcp', address: '10.0.0.1', port: '80' }, { address: '10.0.0.2', port: 80 }],
      [{ protocol: 'icmp', address: '10.0.0.1', port: 80 }, { address: '10.0.0.2', port: 80 }],
      [v4, null],
    ];
    for (const [svc, d] of bad) {
      let builderError: unknown;
      try {
        ops.addDestinationOp(family, svc as never, d as never);
      } catch (e) {
        builderError = e;
      }
      let batchError: unknown;
      try {
        queue((q) => q.addDestination(svc as never, d as never));
      } catch (e) {
        batchError = e;
      }
      expect(batchError, JSON.stringify([svc, d])).toEqual(builderError);
      expect(batchError).toBeInstanceOf(Error);
    }
  });

  it('parses exactly the dotted quads net.isIPv4 accepts', () => {
    const cases = ['0.0.0.0', '255.255.255.255', '1.2.3.4', '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3',
      '1.2.3.4 ', ' 1.2.3.4', '1.2.3.04', '1.2.3.a', '', '::1', '1.2.3.4/32', '199.249.2.0', '9.99.199.255', '00.0.0.0'];
    for (const s of cases) {
      const v = parseIPv4(s);
      expect(v >= 0, s).toBe(isIPv4(s));
      if (v >= 0) expect([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.')).toBe(s);
    }
  });
});

describe('batch fast path for ipset entries', () => {
  it('writes the bulk messages the builder writes, cut where it cuts them', async () => {
    const { fastPack, fastShape } = await import('../../src/batch/ipset-fast');
    const ipsetOps = await import('../../src/ipset/ops');
    const shapes = [
      (k: number) => ({ ip: `172.16.${(k >> 8) & 255}.${k & 255}`, proto: 'tcp', port: 8080 }),
      (k: number) => ({ ip: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`, port: k & 0xffff }),
      (k: number) => ({ ip: `192.168.${(k >> 8) & 255}.${k & 255}` }),
      (k: number) => ({ ip: `192.168.${(k >> 8) & 255}.${k & 255}`, proto: 'udp' }),
    ];
    for (const [i, shape] of shapes.entries()) {
      for (const [cmd, exist, count, type] of [['add', false, 5000, 'hash:ip,port'], ['del', true, 3, undefined], ['add', true, 2, 'hash:ip']] as const) {
        const entries = Array.from({ length: count }, (_, k) => shape(k + i));
        const first = 17;
        const fast = fastPack(cmd, 7, 'KUBE-SET', exist, type, entries, first)!;
        expect(fast, `shape ${i}`).not.toBeNull();
        const generic = (cmd === 'add' ? ipsetOps.addOps : ipsetOps.delOps)(7, 'KUBE-SET', entries, { ...(type && { type }), exist, firstIndex: first });
        expect(fast.map((m) => m.count).reduce((a, b) => a + b)).toBe(count);
        expect(fast).toHaveLength(generic.length);
        fast.forEach((m, k) => {
          const buf = Buffer.alloc(m.size);
          m.write(buf, 0, 900 + k);
          expect(buf.toString('hex'), `shape ${i} ${cmd} message ${k}`).toBe(encodeMessages([generic[k]!.message], 900 + k).toString('hex'));
          expect(m.operation.message).toEqual(generic[k]!.message);
        });
      }
    }
    // Not for the fast path: one entry, other fields, other families, protocol numbers, mixed shapes.
    expect(fastPack('add', 7, 'S', false, undefined, [{ ip: '10.0.0.1' }], 0)).toBeNull();
    expect(fastShape({ ip: '10.0.0.1', timeout: 5 })).toBeUndefined();
    expect(fastShape({ ip: 'fd00::1' })).toBeUndefined();
    expect(fastShape({ ip: '10.0.0.1', proto: 6, port: 1 })).toBeUndefined();
    expect(fastShape({ ip: '10.0.0.1', port: 70000 })).toBeUndefined();
    expect(fastPack('add', 7, 'S', false, undefined, [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', port: 1 }], 0)).toBeNull();
  });
});
