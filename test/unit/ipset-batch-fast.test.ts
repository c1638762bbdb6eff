// The batch's ipset driver (src/batch/ipset.ts, src/batch/ipset-fast.ts) against the op builder:
// whatever entries a batch queues, the messages the driver packs are byte for byte the builder's
// for the same entries (cut at the same places, same line numbers), their operations are the
// builder's, and input errors are the builder's TypeErrors/RangeErrors, before anything is sent.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchIpset, EntryRun, ipsetDriver } from '../../src/batch/ipset';
import { queueInto, type Change } from '../../src/batch/change';
import * as ops from '../../src/ipset/ops';
import { encodeMessages } from '../../src/netlink/message';
import { IpsetEntryError } from '../../src/ipset/errors';
import type { IpsetEntry, IpsetEntryInput } from '../../src/ipset/entry';
import { fastPack, fastShape, fastTextCode, hasMore, type FastArrays } from '../../src/batch/ipset-fast';
import { mulberry32 } from './random';

// The kernel's part of bind (protocol negotiation, type revisions, set headers), answered here.
const known = vi.hoisted(() => new Map<string, { type: string; family?: 'inet' | 'inet6' }>());
vi.mock('../../src/netlink/operation', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/netlink/operation')>();
  const answer = (o: { op: string; message: { attrs?: Record<string, unknown> } }) => {
    if (o.op === 'ipset.protocol') return { status: 'ok', value: { protocol: 7, protocolMin: 6 } };
    if (o.op === 'ipset.typeRevisions') return { status: 'ok', value: { revision: 3, revisionMin: 0 } };
    const s = known.get(o.message.attrs?.setname as string);
    if (o.op === 'ipset.header' && s) return { status: 'ok', value: { name: o.message.attrs!.setname, ...s } };
    return { status: 'error', error: new Error('ENOENT') };
  };
  return {
    ...orig,
    runOne: async (_c: unknown, o: Parameters<typeof answer>[0]) => answer(o).value,
    runOperations: async (_c: unknown, list: Parameters<typeof answer>[0][]) => list.map(answer),
  };
});


const ctx = { connection: () => ({}), exchangeOptions: {} } as unknown as Parameters<typeof ipsetDriver.bind>[0];

const rng = mulberry32;

/** Queues with a BatchIpset as a Batch does; returns the changes. */
function queue(fn: (b: InstanceType<typeof BatchIpset>) => void): Change[] {
  const out: Change[] = [];
  fn(new BatchIpset((c, slots) => queueInto(out, c, slots)));
  return out;
}

/** The entry in slot `i`: one entry run fills consecutive slots, from the first one holding it. */
function entryAt(changes: readonly Change[], i: number): IpsetEntry {
  const run = changes[i] as EntryRun;
  let s = i;
  while (s > 0 && changes[s - 1] === run) s--;
  return run.entry(i - s);
}

/**
 * Packs every entry run of `changes` as the commit engine does (from `start`, message after
 * message) and checks each message against the builder's for the same entries.
 */
async function checkPacked(changes: Change[], setTypes: Record<string, string | undefined>, start = 0): Promise<number> {
  const bound = await ipsetDriver.bind(ctx, changes);
  let messages = 0;
  for (let i = start; i < changes.length;) {
    const packed = bound.pack!(changes, i, changes.length);
    if (packed.length === 0) {
      i++;
      continue;
    }
    // The builder's messages for the same entries (all of one set, kind and flags).
    const j = packed[packed.length - 1]!.first + packed[packed.length - 1]!.count;
    const c = changes[i] as unknown as { kind: 'add' | 'del'; set: string; exist: boolean };
    const entries = changes.slice(i, j).map((_, k) => entryAt(changes, i + k));
    const type = setTypes[c.set];
    const generic = (c.kind === 'add' ? ops.addOps : ops.delOps)(7, c.set, entries, { ...(type && { type }), exist: c.exist, firstIndex: i });
    expect(packed).toHaveLength(generic.length);
    let first = i;
    for (const [k, m] of packed.entries()) {
      const want = generic[k]!;
      const buf = Buffer.alloc(m.size + 8, 0xee);
      m.write(buf, 4, 1000 + messages);
      expect(buf.readUInt32BE(0)).toBe(0xeeeeeeee);
      expect(buf.readUInt32BE(m.size + 4)).toBe(0xeeeeeeee);
      expect(buf.subarray(4, 4 + m.size).toString('hex')).toBe(encodeMessages([want.message], 1000 + messages).toString('hex'));
      expect((m as unknown as { operation: typeof want }).operation.message).toEqual(want.message);
      expect(m.first).toBe(first);
      first += m.count;
      messages++;
    }
    i = j;
  }
  return messages;
}

const ip4 = (r: () => number) => `${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`;

beforeEach(() => known.clear());

describe('batch ipset packing equals the op builder, byte for byte', () => {
  it('kube-proxy\'s shapes: hash:ip,port, hash:ip, hash:net, hash:ip,port,ip, hash:ip,port,net, bitmap:port', async () => {
    const r = rng(1);
    const cases: [string, (k: number) => IpsetEntryInput][] = [
      ['hash:ip,port', (k) => ({ ip: ip4(r), proto: ['tcp', 'udp', 'sctp'][k % 3]!, port: Math.floor(r() * 65536) })],
      ['hash:ip,port', (k) => ({ ip: ip4(r), port: k & 0xffff })],
      ['hash:ip', () => ({ ip: ip4(r) })],
      ['hash:ip', () => ({ ip: ip4(r), proto: 'udp' })],
      ['hash:net', (k) => ({ ip: ip4(r), cidr: k % 33 })],
      ['hash:ip,port,ip', () => ({ ip: ip4(r), proto: 'tcp', port: 80, ip2: ip4(r) })],
      ['hash:ip,port,net', () => ({ ip: ip4(r), proto: 'udp', port: 53, ip2: ip4(r), cidr2: 24 })],
      ['bitmap:port', (k) => ({ port: k })],
      ['hash:ip,port', (k) => `${ip4(r)},${['tcp', 'udp'][k % 2]}:${k}`],
      ['hash:ip', () => ip4(r)],
      ['hash:ip,port', (k) => (k % 3 === 2 ? `${ip4(r)},udp:${k}` : { ip: ip4(r), proto: 'udp', port: k })],
    ];
    for (const [type, make] of cases) {
      for (const n of [1, 2, 3, 2047, 2048, 2049, 5000]) {
        const entries = Array.from({ length: n }, (_, k) => make(k));
        const changes = queue((b) => {
          b.create('S', type, type === 'bitmap:port' ? { range: '0-65535' } : {});
          b.add('S', entries);
        });
        await checkPacked(changes, { S: type });
      }
    }
  });

  it('IPv6, timeouts, comments, counters and skbinfo take the builder\'s path, and still match', async () => {
    const r = rng(2);
    const make: ((k: number) => IpsetEntryInput)[] = [
      (k) => ({ ip: `2001:db8::${k.toString(16)}`, proto: 'tcp', port: 443 }),
      (k) => ({ ip: ip4(r), proto: 'tcp', port: k, timeout: k }),
      (k) => ({ ip: ip4(r), proto: 'tcp', port: 80, comment: `c${k}` }),
      (k) => ({ ip: ip4(r), proto: 'tcp', port: 80, packets: k, bytes: k * 1000 }),
      () => ({ ip: ip4(r), proto: 'tcp', port: 80, skbmark: 1, skbprio: '1:2', skbqueue: 3 }),
      (k) => ({ ip: ip4(r), proto: 6, port: k }),
      (k) => ({ ip: ip4(r), proto: 'icmp', port: k & 0xff }),
      (k) => ({ ip: ip4(r), proto: 'tcp', port: k, timeout: undefined }),
      (k) => ({ ip: ip4(r), proto: 'tcp', port: k, ip2: `2001:db8::${k.toString(16)}` }),
      (k) => ({ ip: ip4(r), proto: 'tcp', port: k, ip2: ip4(r), ip2To: ip4(r) }),
    ];
    for (const [i, f] of make.entries()) {
      const six = i === 0;
      const changes = queue((b) => {
        b.create('S', 'hash:ip,port', { ...(six && { family: 'inet6' }), timeout: 60, comment: true, counters: true, skbinfo: true });
        b.add('S', Array.from({ length: 3000 }, (_, k) => f(k)));
      });
      await checkPacked(changes, { S: 'hash:ip,port' });
    }
  });

  it('mixed shapes, several calls in a row, del and exist, sets known from the kernel or not at all', async () => {
    const r = rng(3);
    known.set('K', { type: 'hash:ip,port', family: 'inet' });
    const a = Array.from({ length: 1500 }, (_, k) => ({ ip: ip4(r), proto: 'tcp', port: k }));
    const b6 = Array.from({ length: 700 }, (_, k) => ({ ip: ip4(r), proto: 'udp', port: k }));
    const mixed: IpsetEntryInput[] = Array.from({ length: 900 }, (_, k) => (k === 450 ? { ip: ip4(r), port: 1, timeout: 5 } : { ip: ip4(r), port: k }));
    const changes = queue((b) => {
      b.add('K', a);
      b.add('K', b6); // same set and flags: packed together with the call before
      b.add('K', a.slice(0, 10), { exist: true });
      b.del('K', a.slice(0, 600));
      b.del('K', b6.slice(0, 5), { exist: true });
      b.add('K', mixed);
      b.add('U', a.slice(0, 50)); // not known to the kernel: no type
      b.add('K', [a[0]!]); // one entry: plain IPSET_ATTR_DATA
      b.flush('K');
      b.add('K', a.slice(0, 3));
      // Two calls packed together, with second addresses and prefix lengths side by side.
      b.add('L', a.slice(0, 700).map((e, k) => ({ ...e, ip2: ip4(r), cidr2: k % 33 })));
      b.add('L', a.slice(0, 900).map((e) => ({ ...e, ip2: ip4(r), cidr2: 32 })));
      b.add('L', a.slice(0, 20).map((e) => ({ ...e, ip2: ip4(r) }))); // another shape: the builder's path
    });
    known.set('L', { type: 'hash:ip,port,net' });
    await checkPacked(changes, { K: 'hash:ip,port', U: undefined, L: 'hash:ip,port,net' });
  });

  it('runs longer than one packing pass, and packing resumed inside a run', async () => {
    const r = rng(4);
    const entries = Array.from({ length: 40000 }, (_, k) => ({ ip: ip4(r), proto: 'tcp', port: k & 0xffff }));
    const changes = queue((b) => {
      b.create('S', 'hash:ip,port');
      b.add('S', entries.slice(0, 20000));
      b.add('S', entries.slice(20000));
    });
    expect(await checkPacked(changes, { S: 'hash:ip,port' })).toBeGreaterThan(20);
    // As the engine does with `continue` after a refused entry: it packs again from the next one.
    await checkPacked(changes, { S: 'hash:ip,port' }, 1 + 12345);
    await checkPacked(changes, { S: 'hash:ip,port' }, 1 + 20000);
  });

  it('what was queued is what is sent, whatever the caller does with its array afterwards', async () => {
    const entries = [{ ip: '10.0.0.1', port: 1 }, { ip: '10.0.0.2', port: 2 }];
    const changes = queue((b) => b.add('S', entries));
    entries[1] = { ip: '10.9.9.9', port: 9 };
    entries.push({ ip: '10.0.0.3', port: 3 });
    expect(changes).toHaveLength(2);
    const bound = await ipsetDriver.bind(ctx, changes);
    const [m] = bound.pack!(changes, 0, changes.length);
    expect((m as unknown as { operation: { message: { attrs: { adt: { ip: unknown }[] } } } }).operation.message.attrs.adt.map((e) => e.ip))
      .toEqual([{ ipv4: '10.0.0.1' }, { ipv4: '10.0.0.2' }]);
  });
});

describe('the fast path writes kube-proxy\'s set shapes itself', () => {
  it('hash:ip, hash:net, hash:ip,port, hash:ip,port,ip and hash:ip,port,net entries, byte for byte the builder\'s', () => {
    const r = rng(9);
    const cases: [string, string, (k: number) => IpsetEntry][] = [
      ['hash:ip', 'ip', () => ({ ip: ip4(r) })],
      ['hash:net', 'ip,cidr', (k) => ({ ip: ip4(r), cidr: k % 33 })],
      ['hash:ip,port', 'ip,port,proto', (k) => ({ ip: ip4(r), proto: 'sctp', port: k })],
      ['hash:ip,port,ip', 'ip,port,proto,ip2', (k) => ({ ip: ip4(r), proto: 'tcp', port: k, ip2: ip4(r) })],
      ['hash:ip,port,net', 'ip,port,proto,ip2,cidr2', (k) => ({ ip: ip4(r), proto: 'udp', port: k, ip2: ip4(r), cidr2: k % 33 })],
      ['hash:net,port', 'ip,cidr,port,proto', (k) => ({ ip: ip4(r), cidr: 24, port: k })],
    ];
    for (const [type, shape, make] of cases) {
      const entries = Array.from({ length: 4000 }, (_, k) => make(k));
      expect(fastShape(entries[0]!)).toBe(shape);
      for (const [cmd, exist] of [['add', false], ['del', true]] as const) {
        const fast = fastPack(cmd, 7, 'KUBE-SET', exist, type, entries, 3);
        expect(fast, type).not.toBeNull();
        const generic = (cmd === 'add' ? ops.addOps : ops.delOps)(7, 'KUBE-SET', entries, { type, exist, firstIndex: 3 });
        expect(fast!).toHaveLength(generic.length);
        fast!.forEach((m, k) => {
          const buf = Buffer.alloc(m.size);
          m.write(buf, 0, 50 + k);
          expect(buf.toString('hex'), `${type} ${cmd} message ${k}`).toBe(encodeMessages([generic[k]!.message], 50 + k).toString('hex'));
        });
      }
    }
    // Left to the builder: prefix lengths out of range, IPv6 second addresses, ranges, cidr2 without ip2.
    for (const e of [{ ip: '10.0.0.1', cidr: 33 }, { ip: '10.0.0.1', cidr: 1.5 }, { ip: '10.0.0.1', ip2: '::1' },
      { ip: '10.0.0.1', ip2: '10.0.0.2', cidr2: -1 }, { ip: '10.0.0.1', cidr2: 8 }, { ip: '10.0.0.1', ip2: 5 as unknown as string }]) {
      expect(fastShape(e), JSON.stringify(e)).toBeUndefined();
    }
  });
});

describe('batch ipset input errors are the builder\'s', () => {
  const bad: [IpsetEntryInput, string][] = [
    [{ ip: '10.0.0.256' }, 'not an IPv4 or IPv6 address'],
    [{ ip: '10.0.0.1', port: 65536 }, 'port must be 0-65535'],
    [{ ip: '10.0.0.1', port: 1.5 }, 'port must be 0-65535'],
    [{ ip: '10.0.0.1', proto: 'nosuch', port: 1 }, 'unknown protocol'],
    [{ ip: '10.0.0.1', cidr: 40 }, 'cidr must be 0-32'],
    [{ ip: '10.0.0.1', port: 1, ip2: '10.0.0.2', cidr2: 33 }, 'cidr2 must be 0-32'],
    [{ ip: '10.0.0.1', port: 1, ip2: '10.0.0.300' }, 'not an IPv4 or IPv6 address'],
    [null as unknown as IpsetEntryInput, 'an entry object or text is required'],
  ];
  it('at queue time, naming the entry', () => {
    for (const [e, msg] of bad) {
      const list = [{ ip: '10.0.0.1', port: 1 }, e];
      expect(() => queue((b) => b.add('S', list)), msg).toThrow(msg);
      expect(() => queue((b) => b.add('S', list)), msg).toThrow('(entry #1)');
      let builder: unknown;
      try { ops.addOps(7, 'S', list as IpsetEntry[]); } catch (err) { builder = err; }
      let batch: unknown;
      try { queue((b) => b.add('S', list)); } catch (err) { batch = err; }
      expect((batch as Error).constructor).toBe((builder as Error).constructor);
    }
  });

  it('at commit for text and for the set\'s family, before anything is sent', async () => {
    known.set('T', { type: 'hash:ip,port', family: 'inet6' });
    const six = queue((b) => b.add('T', [{ ip: '2001:db8::1', port: 1 }, { ip: '10.0.0.1', port: 1 }]));
    await expect(ipsetDriver.bind(ctx, six)).rejects.toThrow("'10.0.0.1' is IPv4, the set is inet6");
    const four = queue((b) => {
      b.create('F', 'hash:ip,port', { family: 'inet' });
      b.add('F', [{ ip: '10.0.0.1', port: 1 }, { ip: '2001:db8::1', port: 1 }]);
    });
    await expect(ipsetDriver.bind(ctx, four)).rejects.toThrow("'2001:db8::1' is IPv6, the set is inet");
    const text = queue((b) => {
      b.create('X', 'hash:ip,port');
      b.add('X', ['10.0.0.1,tcp:80', '10.0.0.1,nosuch:80']);
    });
    await expect(ipsetDriver.bind(ctx, text)).rejects.toThrow("unknown protocol 'nosuch'");
    const untyped = queue((b) => b.add('NOSET', ['10.0.0.1']));
    await expect(ipsetDriver.bind(ctx, untyped)).rejects.toThrow("text entries need the set's type");
  });
});

describe('batch ipset verdicts', () => {
  it('a refused entry: those before it in its message applied, it refused, those after skipped', async () => {
    const entries = Array.from({ length: 10 }, (_, k) => ({ ip: `10.0.0.${k}`, proto: 'tcp', port: 80 }));
    const changes = queue((b) => {
      b.create('S', 'hash:ip,port');
      b.add('S', entries);
    });
    const bound = await ipsetDriver.bind(ctx, changes);
    const [m] = bound.pack!(changes, 1, changes.length);
    // The kernel's refusal: the request echoed with the failing line (entry 4 is line 1 + 4 + 1) in IPSET_ATTR_LINENO.
    const req = Buffer.alloc(m!.size);
    m!.write(req, 0, 7);
    const lineAt = req.indexOf(Buffer.from([8, 0, 9, 0x40])); // IPSET_ATTR_LINENO, NLA_F_NET_BYTEORDER
    req.writeUInt32BE(1 + 4 + 1, lineAt + 4);
    const err = Buffer.alloc(20);
    err.writeUInt32LE(20 + req.length, 0);
    err.writeUInt16LE(2, 4);
    err.writeInt32LE(-4103, 16); // IPSET_ERR_EXIST
    const replies = Buffer.concat([err, req]);
    const errorReply = { len: replies.length, type: 2, flags: 0, seq: 7, pid: 0, offset: 0, payload: 16, end: replies.length };
    const v = bound.unpack!(m!, changes, { seq: 7, status: 'error', errno: -4103, replies: [], interrupted: false, errorReply }, replies);
    expect(v.map((x) => x.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'error', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(v[4]!.error).toBeInstanceOf(IpsetEntryError);
    expect((v[4]!.error as InstanceType<typeof IpsetEntryError>).entryIndex).toBe(5);
    expect(v[4]!.error!.message).toContain('10.0.0.4,tcp:80');
    const ok = bound.unpack!(m!, changes, { seq: 7, status: 'ok', errno: 0, replies: [], interrupted: false }, replies);
    expect(ok.every((x) => x.status === 'ok' && x.error === undefined)).toBe(true);
  });
});

describe('an add or del call is one change filling a slot per entry', () => {
  const entries = Array.from({ length: 5 }, (_, k) => ({ ip: `10.0.0.${k}`, proto: 'tcp', port: 80 + k }));

  it('fills consecutive slots with one object; an empty call queues nothing', () => {
    const changes = queue((b) => {
      expect(b.create('S', 'hash:ip,port')).toBe(0);
      expect(b.add('S', entries)).toBe(1);
      expect(b.add('S', [])).toBe(-1);
      expect(b.del('S', entries[0]!)).toBe(6);
    });
    expect(changes).toHaveLength(7);
    expect(new Set(changes.slice(1, 6)).size).toBe(1);
    expect(changes.slice(1, 6).map((c) => c.op)).toEqual(Array(5).fill('ipset.add'));
    expect(changes[6]!.op).toBe('ipset.del');
  });

  it('the operation of one slot is the builder\'s for its entry, named by its index', async () => {
    const changes = queue((b) => {
      b.create('S', 'hash:ip,port');
      b.add('S', entries);
    });
    const bound = await ipsetDriver.bind(ctx, changes);
    const op = bound.operation(changes[4]!, 4, changes);
    const want = ops.addOps(7, 'S', [entries[3]!], { type: 'hash:ip,port', firstIndex: 4 })[0]!;
    expect(op.message).toEqual(want.message);
  });

  it('packs the same bytes where an undo plan places it, after other changes', async () => {
    const changes = queue((b) => {
      b.create('S', 'hash:ip,port');
      b.add('S', entries);
      b.add('S', entries.slice(0, 2), { exist: true });
    });
    await checkPacked(changes, { S: 'hash:ip,port' });
    const plan = [...queue((b) => b.flush('S')), ...queue((b) => b.flush('S')), ...changes];
    await checkPacked(plan, { S: 'hash:ip,port' });
    await checkPacked(plan, { S: 'hash:ip,port' }, 2 + 1 + 3);
  });

  it('undo compensates each applied slot with its own entry', async () => {
    const changes = queue((b) => {
      b.create('S', 'hash:ip,port');
      b.add('S', entries);
    });
    const bound = await ipsetDriver.bind(ctx, changes);
    const planner = await ipsetDriver.prepareUndo(ctx, bound, changes);
    const applied = [0, 2, 5];
    const comps = planner.compensate(applied.map((i) => changes[i]!), applied);
    expect(comps[0]!.changes!.map((c) => c.op)).toEqual(['ipset.destroy']);
    for (const [x, i] of applied.slice(1).entries()) {
      const undo = comps[x + 1]!.changes!;
      expect(undo.map((c) => c.op)).toEqual(['ipset.del']);
      expect((undo[0] as EntryRun).inputs).toEqual([entries[i - 1]]); // parsed when the undo plan is bound
      expect((undo[0] as EntryRun).exist).toBe(true);
    }
    for (const [x, i] of applied.entries()) expect(ipsetDriver.harmlessUndoError(comps[x]!.changes![0]!, i === 0 ? 'ENOENT' : 'IPSET_ERR_EXIST')).toBe(true);
  });
});

describe('fastTextCode: text entries read in place', () => {
  const TYPES = ['hash:ip', 'hash:net', 'hash:ip,port', 'hash:net,port', 'hash:ip,port,ip', 'hash:ip,port,net', 'hash:mac', 'bitmap:ip'];
  const rand = mulberry32(17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const octet = () => pick(['0', '1', '9', '10', '99', '100', '199', '255', '256', '01', '007', String(Math.floor(rand() * 256))]);
  const quad = () => (rand() < 0.05 ? `${octet()}.${octet()}.${octet()}` : `${octet()}.${octet()}.${octet()}.${octet()}`);
  const addr = () => quad() + (rand() < 0.3 ? `/${pick(['0', '8', '24', '32', '33', '05', '100'])}` : '');
  const portPart = () => `${pick(['tcp', 'udp', 'sctp', 'icmp', 'TCP', 'tcp'])}:${pick(['0', '80', '8080', '65535', '65536', '080', '123456', ''])}`;
  const text = () => {
    let t = addr();
    if (rand() < 0.7) t += `,${portPart()}`;
    if (rand() < 0.4) t += `,${addr()}`;
    if (rand() < 0.05) t += pick([' ', ',', 'x', '-10.0.0.9']);
    return t;
  };

  it('gives what fastCode gives for the parser\'s object, and reads the shapes ipset save writes', async () => {
    const { fastCode, fastTextCode } = await import('../../src/batch/ipset-fast');
    const { parseIpsetEntry } = await import('../../src/index');
    let read = 0;
    for (let n = 0; n < 20000; n++) {
      const type = pick(TYPES), t = text();
      const got = { ip: 0, portProto: 0, ip2: 0, cidrs: 0 }, want = { ip: 0, portProto: 0, ip2: 0, cidrs: 0 };
      const code = fastTextCode(type, t, got);
      if (code === 0) continue;
      read++;
      // a text read in place is one the parser takes, with the same code and values
      const e = parseIpsetEntry(type, t);
      expect(fastCode(e, want), `${type} ${t}`).toBe(code);
      expect(got, `${type} ${t}`).toEqual(want);
    }
    expect(read).toBeGreaterThan(300);
    for (const [type, t] of [['hash:ip', '10.0.0.1'], ['hash:ip,port', '10.0.0.1,tcp:80'], ['hash:net', '10.0.0.0/24'], ['hash:ip,port,net', '10.0.0.1,udp:53,10.1.0.0/16']]) {
      expect(fastTextCode(type, t!, { ip: 0, portProto: 0, ip2: 0, cidrs: 0 }), `${type} ${t}`).not.toBe(0);
    }
  });

  it('a batch given text packs the builder\'s bytes for the parsed entries, and names the parsed entry', async () => {
    const { parseIpsetEntry } = await import('../../src/index');
    known.set('txt', { type: 'hash:ip,port' });
    known.set('txt-net', { type: 'hash:ip,port,net' });
    const texts = Array.from({ length: 3000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1,${i % 3 ? 'tcp' : 'udp'}:${1000 + i}`);
    const nets = texts.map((t, i) => `${t},172.16.${i & 255}.0/${8 + (i % 25)}`);
    const changes = queue((b) => {
      b.add('txt', texts);
      b.add('txt-net', nets);
      b.add('txt', ['10.9.9.9,tcp:80', { ip: '10.9.9.8', proto: 'tcp', port: 81 }, '10.9.9.7,82']);
    });
    expect(await checkPacked(changes, { txt: 'hash:ip,port', 'txt-net': 'hash:ip,port,net' })).toBeGreaterThan(2);
    // each slot's entry, when a refusal or an undo asks for it, is the parser's object for its text
    for (const i of [0, 1, 2999, 3000, 5999]) expect(entryAt(changes, i)).toEqual(parseIpsetEntry(i < 3000 ? 'hash:ip,port' : 'hash:ip,port,net', i < 3000 ? texts[i]! : nets[i - 3000]!));
    expect(entryAt(changes, 6002)).toEqual(parseIpsetEntry('hash:ip,port', '10.9.9.7,82'));
  });

  it('text read by the caller (queueRead) packs the same bytes; read for another type, or not all fast, it is read again', async () => {
    const { parseIpsetEntry } = await import('../../src/index');
    const read = (type: string, texts: string[]) => {
      const n = texts.length;
      const shapes = new Uint8Array(n);
      const values: FastArrays = { ips: new Int32Array(n), portProtos: new Int32Array(n), ip2s: new Int32Array(n), cidrs: new Uint16Array(n) };
      const v = { ip: 0, portProto: 0, ip2: 0, cidrs: 0 };
      texts.forEach((t, k) => {
        shapes[k] = fastTextCode(type, t, v);
        values.ips[k] = v.ip;
        values.portProtos[k] = v.portProto;
        if (hasMore(shapes[k]!)) {
          values.ip2s[k] = v.ip2;
          values.cidrs[k] = v.cidrs;
        }
      });
      return { type, shapes, values };
    };
    known.set('r', { type: 'hash:ip,port' });
    known.set('rn', { type: 'hash:ip,port,net' });
    const texts = Array.from({ length: 2500 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1,${i % 3 ? 'tcp' : 'udp'}:${1000 + i}`);
    const nets = texts.map((t, i) => `${t},172.16.${i & 255}.0/${8 + (i % 25)}`);
    const changes = queue((b) => {
      b.queueRead('add', 'r', texts.length, (k) => texts[k]!, read('hash:ip,port', texts));
      b.queueRead('del', 'rn', nets.length, (k) => nets[k]!, read('hash:ip,port,net', nets), { exist: true });
    });
    expect((changes[0] as EntryRun).read).toBeDefined();
    expect(await checkPacked(changes, { r: 'hash:ip,port', rn: 'hash:ip,port,net' })).toBeGreaterThan(1);
    for (const i of [0, 2499, 2500, 4999]) expect(entryAt(changes, i)).toEqual(parseIpsetEntry(i < 2500 ? 'hash:ip,port' : 'hash:ip,port,net', i < 2500 ? texts[i]! : nets[i - 2500]!));
    // the set turns out to be of another type than the caller read for: the commit reads the text itself
    known.set('other', { type: 'hash:ip,port,ip' });
    const ips = texts.map((t, i) => `${t},172.17.0.${i & 255}`);
    const again = queue((b) => b.queueRead('add', 'other', ips.length, (k) => ips[k]!, read('hash:ip,port', texts)));
    expect(await checkPacked(again, { other: 'hash:ip,port,ip' })).toBeGreaterThan(0);
    // an entry the caller could not read: the read is not used
    const mixed = [...texts.slice(0, 10), '10.0.0.1,80'];
    const notAll = queue((b) => b.queueRead('add', 'r', mixed.length, (k) => mixed[k]!, read('hash:ip,port', mixed)));
    expect((notAll[0] as EntryRun).read).toBeUndefined();
    expect(await checkPacked(notAll, { r: 'hash:ip,port' })).toBeGreaterThan(0);
    // plain objects are read once, when queued, for whatever type the set turns out to have
    known.set('o', { type: 'hash:ip,port,ip' });
    const objects = texts.map((_, i) => ({ ip: `10.1.${(i >> 8) & 255}.${i & 255}`, proto: 'udp', port: i, ip2: `10.2.0.${i & 255}` }));
    const asObjects = queue((b) => {
      b.add('o', objects);
      b.add('o', [...objects.slice(0, 5), '10.3.0.1,tcp:1,10.4.0.1']);
    });
    expect((asObjects[0] as EntryRun).read?.type).toBeUndefined();
    expect((asObjects[0] as EntryRun).read?.shapes.length).toBe(objects.length);
    expect((asObjects[objects.length] as EntryRun).read).toBeUndefined();
    expect((queue((b) => b.add('r', texts))[0] as EntryRun).read).toBeUndefined();
    expect(await checkPacked(asObjects, { o: 'hash:ip,port,ip' })).toBeGreaterThan(0);
  });
});
