// The snapshot's one-pass decoder of destination dumps must read what the general decoder reads,
// and the /proc/net/ip_vs parser what the kernel prints.
import { describe, expect, it } from 'vitest';
import { decodeDestinationDumps } from '../../src/snapshot/ipvs-decode';
import { parseProcIpvs } from '../../src/snapshot/ipvs-proc';
import { encodeMessages, type OutMessage } from '../../src/netlink/message';
import { decodeRecord, type AttrRecord } from '../../src/netlink/attr';
import { parseMessages } from '../../src/netlink/header';
import { ipvsCmd } from '../../src/schema/ipvs';
import { toDestination } from '../../src/ipvs/destination';
import { AF_INET, AF_INET6, NLMSG_DONE, NLM_F_DUMP_INTR, NLM_F_MULTI } from '../../src/uapi/netlink';

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
      {
        fwmark: 5, family: 'inet', scheduler: 'rr', onePacket: false,
        destinations: [{ address: '127.0.0.1', port: 0, forwarding: 'local', weight: 1, activeConns: 0, inactiveConns: 0 }],
      },
    ]);
  });
});
