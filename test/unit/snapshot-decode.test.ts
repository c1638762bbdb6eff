// The snapshot's one-pass decoders of service and destination dumps must read what the general decoder reads,
// and the /proc/net/ip_vs parser what the kernel prints.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeDestinationDumps, decodeServiceDump } from '../../src/snapshot/ipvs-decode';
import { readHex } from '../../scripts/golden/ipvs-fixture-codec';
import type { GenlFamily } from '../../src/netlink/genl';
import type { IpvsService, IpvsServiceKey } from '../../src/ipvs/service';
import { destinationDumpRequests } from '../../src/snapshot/ipvs-read';
import * as ops from '../../src/ipvs/ops';
import { parseProcIpvs } from '../../src/snapshot/ipvs-proc';
import { encodeMessages, type OutMessage } from '../../src/netlink/message';
import { decodeRecord, type AttrRecord } from '../../src/netlink/attr';
import { parseMessages } from '../../src/netlink/header';
import { ipvsCmd } from '../../src/schema/ipvs';
import { toDestination } from '../../src/ipvs/destination';
import { AF_INET, AF_INET6, NLMSG_DONE, NLM_F_DUMP_INTR, NLM_F_MULTI, NLM_F_DUMP } from '../../src/uapi/netlink';

const FAMILY = 0x24;

function stats(n: number, wide: boolean): AttrRecord {
  const v = (k: number) => (wide ? BigInt(n * 100 + k) : n * 100 + k);
  return {
    conns: v(1), inpkts: v(2), outpkts: v(3), inbytes: BigInt(n * 100 + 4), outbytes: BigInt(n * 100 + 5),
    cps: v(6), inpps: v(7), outpps: v(8), inbps: v(9), outbps: v(10),
  };
}

const dests: [AttrRecord, number][] = [
  [{ addr: '172.16.0.1', port: 8080, fwdMethod: 0, weight: 3, uThresh: 100, lThresh: 10, activeConns: 2, inactConns: 5, persistConns: 0, addrFamily: AF_INET, stats: stats(1, false), stats64: stats(1, true) }, AF_INET],
  [{ addr: '172.16.0.2', port: 80, fwdMethod: 3, weight: 0, uThresh: 0, lThresh: 0, activeConns: 0, inactConns: 0, persistConns: 7, addrFamily: AF_INET }, AF_INET],
  [{ addr: 'fd00::2', port: 53, fwdMethod: 2, weight: 1, uThresh: 0, lThresh: 0, activeConns: 0, inactConns: 0, persistConns: 0, addrFamily: AF_INET6, tunType: 1, tunPort: 6080, tunFlags: 1, stats: stats(2, false) }, AF_INET6],
  [{ addr: '10.1.0.9', port: 1, fwdMethod: 2 | 0x100, weight: 9, uThresh: 0, lThresh: 0, activeConns: 0, inactConns: 0, persistConns: 0, addrFamily: AF_INET, tunType: 2, tunPort: 0, tunFlags: 2 }, AF_INET6],
  // before 4.3: no family of its own (the service's)
  [{ addr: '192.0.2.1', port: 443, fwdMethod: 1, weight: 2, uThresh: 0, lThresh: 0, activeConns: 1, inactConns: 0, persistConns: 0 }, AF_INET],
];

/** Replies of dumps: message k of `groups[k]` destinations, then NLMSG_DONE. */
function replies(first: number, groups: AttrRecord[][], flags: number[] = []): Buffer {
  const parts: Buffer[] = [];
  groups.forEach((g, k) => {
    const msgs: OutMessage[] = g.map((d) => ({ type: FAMILY, flags: NLM_F_MULTI | (flags[k] ?? 0), fixed: Buffer.from([5, 1, 0, 0]), schema: ipvsCmd, attrs: { dest: d } }));
    msgs.push({ type: NLMSG_DONE, flags: NLM_F_MULTI, fixed: Buffer.alloc(4) });
    const b = encodeMessages(msgs, 0);
    // every message of dump k carries its request's seq
    for (const m of parseMessages(b)) b.writeUInt32LE(first + k, m.offset + 8);
    parts.push(b);
  });
  return Buffer.concat(parts);
}

describe('decodeDestinationDumps', () => {
  it('reads what decodeRecord + toDestination read, counters included or not', () => {
    const groups = [dests.slice(0, 2).map(([d]) => d), [], dests.slice(2).map(([d]) => d)];
    const afs = [AF_INET, AF_INET, AF_INET6];
    const buf = replies(500, groups);
    const general = (d: AttrRecord, af: number) => {
      const b = encodeMessages([{ type: FAMILY, flags: 0, fixed: Buffer.from([5, 1, 0, 0]), schema: ipvsCmd, attrs: { dest: d } }], 0);
      const rec = decodeRecord(b, 20, b.length, ipvsCmd, 'ipvs', af);
      return toDestination(rec.dest as AttrRecord, af);
    };
    const withStats = decodeDestinationDumps(buf, 500, afs, FAMILY, true);
    const without = decodeDestinationDumps(buf, 500, afs, FAMILY, false);
    expect(withStats.map((r) => [r.done, r.errno, r.interrupted, r.destinations.length])).toEqual([[true, 0, false, 2], [true, 0, false, 0], [true, 0, false, 3]]);
    groups.forEach((g, k) => g.forEach((d, i) => {
      const expected = general(d, afs[k]!);
      expect(withStats[k]!.destinations[i]).toEqual(expected);
      const { stats: _s, ...rest } = expected;
      expect(without[k]!.destinations[i]).toEqual(rest);
      expect(without[k]!.destinations[i]).not.toHaveProperty('stats');
    }));
  });

  it('notes interrupted dumps, failed dumps, and replies of other requests', () => {
    const buf = Buffer.concat([
      replies(10, [[dests[0]![0]], [dests[1]![0]]], [0, NLM_F_DUMP_INTR]),
      replies(99, [[dests[1]![0]]]), // not ours
    ]);
    const err = encodeMessages([{ type: NLMSG_DONE, flags: NLM_F_MULTI, fixed: Buffer.from([0xfd, 0xff, 0xff, 0xff]) }], 12);
    const r = decodeDestinationDumps(Buffer.concat([buf, err]), 10, [AF_INET, AF_INET, AF_INET], FAMILY, false);
    expect(r.map((x) => [x.done, x.errno, x.interrupted, x.destinations.length])).toEqual([[true, 0, false, 1], [true, 0, true, 1], [true, -3, false, 0]]);
  });
});

describe('parseProcIpvs', () => {
  it('reads services and destinations as ip_vs_info_seq_show prints them', () => {
    const text = [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn',
      'TCP  0A600001:0050 rr ',
      '  -> AC100001:1F90      Masq    1      0          0         ',
      '  -> AC100002:1F90      Route   0      3          12        ',
      'UDP  0A600002:0035 wlc ops ',
      'TCP  [fd00:0000:0000:0000:0000:0000:0000:0001]:01BB sh persistent 30000 FFFFFF00',
      '  -> [fd00:0000:0000:0000:0000:0000:0000:0002]:01BB      Tunnel  7      0          0         ',
      'UDP  [0000:0000:0000:0000:0000:ffff:0a00:0001]:0035 rr ',
      'FWM  00000005 rr ',
      '  -> 7F000001:0000      Local   1      0          0         ',
      '',
    ].join('\n');
    expect(parseProcIpvs(text)).toEqual([
      {
        protocol: 'tcp', address: '10.96.0.1', port: 80, family: 'inet', scheduler: 'rr', onePacket: false,
        destinations: [
          { address: '172.16.0.1', port: 8080, forwarding: 'masq', weight: 1, activeConns: 0, inactiveConns: 0 },
          { address: '172.16.0.2', port: 8080, forwarding: 'route', weight: 0, activeConns: 3, inactiveConns: 12 },
        ],
      },
      { protocol: 'udp', address: '10.96.0.2', port: 53, family: 'inet', scheduler: 'wlc', onePacket: true, destinations: [] },
      {
        protocol: 'tcp', address: 'fd00::1', port: 443, family: 'inet6', scheduler: 'sh', onePacket: false,
        persistent: { jiffies: 30000, netmask: 'FFFFFF00' },
        destinations: [{ address: 'fd00::2', port: 443, forwarding: 'tunnel', weight: 7, activeConns: 0, inactiveConns: 0 }],
      },
      { protocol: 'udp', address: '::ffff:10.0.0.1', port: 53, family: 'inet6', scheduler: 'rr', onePacket: false, destinations: [] },
      {
        fwmark: 5, family: 'inet', scheduler: 'rr', onePacket: false,
        destinations: [{ address: '127.0.0.1', port: 0, forwarding: 'local', weight: 1, activeConns: 0, inactiveConns: 0 }],
      },
    ]);
  });
});

describe('parseProcIpvs, malformed', () => {
  it('refuses an IPv6 address that is not eight groups of four hex digits', () => {
    const head = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n';
    expect(() => parseProcIpvs(`${head}TCP  [fd00::1]:01BB rr \n`)).toThrow(/bad IPv6 address/);
  });
});

describe('decodeServiceDump', () => {
  const golden = (name: string): Buffer => readHex(readFileSync(path.join(__dirname, '..', 'golden', `${name}.hex`), 'utf8'));
  const FAM: GenlFamily = { name: 'IPVS', id: 28, version: 1, hdrsize: 0, maxattr: 0, commands: new Set(), groups: new Map() };
  // the data messages of a dump (a golden capture starts with the request and has no NLMSG_DONE)
  const general = (buf: Buffer): IpvsService[] => {
    const replies = parseMessages(buf).filter((m) => m.type === FAM.id && (m.flags & NLM_F_DUMP) === 0);
    return ops.listServicesOp(FAM).decode!(buf, { seq: 0, status: 'ok', errno: 0, replies, interrupted: false });
  };

  it.each(['ipvs-list-get-service', 'ipvs-old-kernel-get-service'])('reads what the general decoder reads from the kernel: %s', (name) => {
    const buf = golden(name);
    const seq = parseMessages(buf)[0]!.seq;
    const r = decodeServiceDump(buf, seq, FAM.id);
    expect(r.errno).toBe(0);
    expect(r.services.length).toBe(3);
    expect(r.services).toEqual(general(buf));
  });

  it('reads every kind of service the way the general decoder does', () => {
    const services: AttrRecord[] = [
      { af: AF_INET, protocol: 6, addr: '10.96.0.1', port: 80, schedName: 'rr', flags: { flags: 0, mask: 0xffffffff }, timeout: 0, netmask: 0xffffffff, stats: stats(1, false), stats64: stats(1, true) },
      { af: AF_INET, protocol: 17, addr: '10.96.0.2', port: 53, schedName: 'sh', flags: { flags: 0x1 | 0x4 | 0x8 | 0x10, mask: 0xffffffff }, timeout: 300, netmask: 0x0000ffff, peName: 'sip', stats: stats(2, false) },
      { af: AF_INET6, protocol: 132, addr: 'fd00::1', port: 443, schedName: 'wlc', flags: { flags: 0x20, mask: 0xffffffff }, timeout: 0, netmask: 64, stats64: stats(3, true) },
      { af: AF_INET6, fwmark: 7, schedName: 'mh', flags: { flags: 0x1 | 0x8, mask: 0xffffffff }, timeout: 60, netmask: 96 },
      { af: AF_INET, protocol: 6, addr: '192.0.2.9', port: 0, schedName: 'lc', flags: { flags: 0x1, mask: 0xffffffff }, timeout: 10, netmask: 0x00ffffff },
    ];
    const msgs: OutMessage[] = services.map((s) => ({ type: FAM.id, flags: NLM_F_MULTI, fixed: Buffer.from([1, 1, 0, 0]), schema: ipvsCmd, attrs: { service: s } }));
    msgs.push({ type: NLMSG_DONE, flags: NLM_F_MULTI, fixed: Buffer.alloc(4) });
    const buf = encodeMessages(msgs, 40);
    for (const m of parseMessages(buf)) buf.writeUInt32LE(40, m.offset + 8);
    const r = decodeServiceDump(buf, 40, FAM.id);
    expect(r.services).toEqual(general(buf));
    expect(r.services.map((s) => s.schedFlags)).toEqual([[], ['sh-fallback', 'sh-port'], ['flag-3'], ['mh-fallback'], []]);
    expect(r.services[1]).toMatchObject({ netmask: '255.255.0.0', pe: 'sip', persistent: 300 });
  });

  it('notes an interrupted dump, a failed one, and ignores replies to other requests', () => {
    const mk = (seq: number, flags: number, done: Buffer) => {
      const b = encodeMessages([
        { type: FAM.id, flags: NLM_F_MULTI | flags, fixed: Buffer.from([1, 1, 0, 0]), schema: ipvsCmd, attrs: { service: { af: AF_INET, protocol: 6, addr: '10.0.0.1', port: 1, schedName: 'rr' } } },
        { type: NLMSG_DONE, flags: NLM_F_MULTI, fixed: done },
      ], 0);
      for (const m of parseMessages(b)) b.writeUInt32LE(seq, m.offset + 8);
      return b;
    };
    const ok = Buffer.alloc(4);
    expect(decodeServiceDump(Buffer.concat([mk(7, 0, ok), mk(9, 0, ok)]), 9, FAM.id)).toMatchObject({ done: true, errno: 0, interrupted: false });
    expect(decodeServiceDump(mk(9, NLM_F_DUMP_INTR, ok), 9, FAM.id).interrupted).toBe(true);
    expect(decodeServiceDump(mk(9, 0, Buffer.from([0xfb, 0xff, 0xff, 0xff])), 9, FAM.id)).toMatchObject({ done: true, errno: -5 });
    const whole = mk(9, 0, ok);
    expect(decodeServiceDump(whole.subarray(0, whole.readUInt32LE(0)), 9, FAM.id)).toMatchObject({ done: false, services: [{ address: '10.0.0.1' }] });
    expect(() => decodeServiceDump(whole.subarray(0, 40), 9, FAM.id)).toThrow(/out of bounds/);
  });
});

describe('destinationDumpRequests', () => {
  it('writes the op builder\'s destination dump requests, numbered from the first seq', () => {
    const FAM: GenlFamily = { name: 'IPVS', id: 0x25, version: 1, hdrsize: 0, maxattr: 0, commands: new Set(), groups: new Map() };
    const keys: IpvsServiceKey[] = [
      { protocol: 'tcp', address: '10.96.0.1', port: 80 },
      { protocol: 'udp', address: '255.255.255.254', port: 65535 },
      { protocol: 'sctp', address: '0.0.0.0', port: 0 },
      { fwmark: 7, family: 'inet' },
      { fwmark: 0xffffffff, family: 'inet6' },
      { protocol: 'tcp', address: 'fd00::1', port: 443 },
      { protocol: 'udp', address: '::ffff:10.0.0.1', port: 53 },
    ];
    const builder = encodeMessages(keys.map((k) => ops.listDestinationsOp(FAM, k).message), 0xfffffffe);
    expect(destinationDumpRequests(FAM, keys, 0xfffffffe).toString('hex')).toBe(builder.toString('hex'));
    expect(() => destinationDumpRequests(FAM, [{ protocol: 'tcp', address: '10.0.0.256', port: 1 }], 1)).toThrow(TypeError);
  });
});
