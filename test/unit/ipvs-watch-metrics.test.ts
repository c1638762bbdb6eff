// Counters over time (watchStats' arithmetic and pacing on a fake reader), /proc/net/ip_vs_stats,
// and the Prometheus exposition of `ipvs exporter`, read back by a real Prometheus text parser.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { statsSample, watchStats, type StatsMemory } from '../../src/snapshot/watch-stats';
import type { IpvsServiceState } from '../../src/snapshot/ipvs-read';
import { parseIpvsTotals } from '../../src/ipvs/totals';
import { zeroStats, type IpvsStats } from '../../src/ipvs/stats';
import { formatIpvsMetrics } from '../../src/cli/prometheus-format';
import { DecodeError } from '../../src/netlink/errors';

interface PromFamily { name: string; type: string; help: string; metrics: { value: string; labels?: Record<string, string> }[] }
const parsePrometheus = createRequire(__filename)('parse-prometheus-text-format') as (text: string) => PromFamily[];

function stats(conns: number, inpkts = 0, inbytes = 0): IpvsStats {
  return { ...zeroStats(), conns: BigInt(conns), inpkts: BigInt(inpkts), inbytes: BigInt(inbytes) };
}

function state(svcConns: number, destConns: number[]): IpvsServiceState[] {
  return [{
    protocol: 'tcp', address: '10.0.0.1', port: 80, family: 'inet', scheduler: 'rr', persistent: 0, netmask: '255.255.255.255',
    onePacket: false, schedFlags: [], flags: 2, stats: stats(svcConns, svcConns * 10, svcConns * 1000),
    destinations: destConns.map((c, i) => ({
      address: `10.9.9.${i + 1}`, port: 80, family: 'inet', forwarding: 'masq', weight: i + 1, upperThreshold: 0, lowerThreshold: 0,
      activeConns: c, inactiveConns: 1, persistentConns: 0, stats: stats(c, c * 10),
    })),
  }];
}

describe('watchStats', () => {
  it('gives null deltas first, then growth and rates per second; a counter that went back starts over', () => {
    const memory: StatsMemory = { services: new Map(), destinations: new Map() };
    const first = statsSample(state(10, [4, 6]), memory, new Date(0), 0);
    expect(first.services[0]!.delta).toBeNull();
    expect(first.services[0]!.destinations[0]!.rate).toBeNull();
    const second = statsSample(state(30, [14, 16]), memory, new Date(2000), 2000);
    expect(second.intervalMs).toBe(2000);
    expect(second.services[0]!.delta).toEqual({ conns: 20n, inpkts: 200n, outpkts: 0n, inbytes: 20000n, outbytes: 0n });
    expect(second.services[0]!.rate).toEqual({ conns: 10, inpkts: 100, outpkts: 0, inbytes: 10000, outbytes: 0 });
    expect(second.services[0]!.destinations.map((d) => d.delta!.conns)).toEqual([10n, 10n]);
    // zeroed (ipvsadm -Z): no negative growth
    const third = statsSample(state(1, [1, 0, 3]), memory, new Date(3000), 1000);
    expect(third.services[0]!.delta).toBeNull();
    expect(third.services[0]!.destinations.map((d) => d.delta)).toEqual([null, null, null]);
  });

  it('reads every interval until aborted, and refuses a bad interval', async () => {
    let reads = 0;
    const read = async () => state(10 * ++reads, [reads]);
    const ac = new AbortController();
    const seen: number[] = [];
    for await (const s of watchStats(read, { intervalMs: 20, signal: ac.signal })) {
      seen.push(Number(s.services[0]!.stats.conns));
      if (seen.length === 3) ac.abort();
    }
    expect(seen).toEqual([10, 20, 30]);
    expect(reads).toBe(3);
    const it = watchStats(read, { intervalMs: 5 });
    await expect(it.next()).rejects.toThrow(RangeError);
    // break ends it too
    for await (const s of watchStats(read, { intervalMs: 10 })) {
      expect(s.services).toHaveLength(1);
      break;
    }
  });

  it('a failed read ends the iteration with its error', async () => {
    let n = 0;
    const read = async () => {
      if (++n === 2) throw new Error('gone');
      return state(1, [1]);
    };
    const got: number[] = [];
    await expect((async () => {
      for await (const s of watchStats(read, { intervalMs: 10 })) got.push(s.services.length);
    })()).rejects.toThrow('gone');
    expect(got).toEqual([1]);
  });
});

describe('/proc/net/ip_vs_stats', () => {
  const text = [
    '   Total Incoming Outgoing         Incoming         Outgoing',
    '   Conns  Packets  Packets            Bytes            Bytes',
    '      1B      1C4        0            16A3C                0',
    '',
    ' Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s',
    '       1        A        0              3E8                0',
    '',
  ].join('\n');
  it('reads the hex totals and rates', () => {
    expect(parseIpvsTotals(text)).toEqual({
      conns: 27n, inpkts: 452n, outpkts: 0n, inbytes: 92732n, outbytes: 0n, cps: 1, inpps: 10, outpps: 0, inbps: 1000, outbps: 0,
    });
    expect(() => parseIpvsTotals('garbage')).toThrow(DecodeError);
  });
});

describe('Prometheus exposition', () => {
  it('is valid text format with node_exporter\'s names and labels', () => {
    const services = [
      { ...state(5, [2, 3])[0]! },
      {
        fwmark: 7, family: 'inet' as const, scheduler: 'sh', persistent: 0, netmask: '255.255.255.255', onePacket: false, schedFlags: [], flags: 2,
        stats: stats(1), destinations: [{ ...state(0, [1])[0]!.destinations[0]!, address: 'fd00::9' }],
      },
    ];
    const text = formatIpvsMetrics(stats(42, 100, 9000), services as never);
    const families = parsePrometheus(text);
    const byName = new Map(families.map((f) => [f.name, f]));
    expect(byName.get('node_ipvs_connections_total')).toMatchObject({ type: 'COUNTER', metrics: [{ value: '42' }] });
    expect(byName.get('node_ipvs_incoming_bytes_total')!.metrics[0]!.value).toBe('9000');
    const active = byName.get('node_ipvs_backend_connections_active')!;
    expect(active.type).toBe('GAUGE');
    expect(active.metrics).toEqual([
      { value: '2', labels: { local_address: '10.0.0.1', local_port: '80', remote_address: '10.9.9.1', remote_port: '80', proto: 'TCP', local_mark: '' } },
      { value: '3', labels: { local_address: '10.0.0.1', local_port: '80', remote_address: '10.9.9.2', remote_port: '80', proto: 'TCP', local_mark: '' } },
      { value: '1', labels: { local_address: '', local_port: '0', remote_address: 'fd00::9', remote_port: '80', proto: 'FWM', local_mark: '00000007' } },
    ]);
    expect(byName.get('node_ipvs_backend_weight')!.metrics.map((m) => m.value)).toEqual(['1', '2', '1']);
    expect(byName.get('ipvs_service_connections_total')!.metrics.map((m) => m.value)).toEqual(['5', '1']);
    expect([...byName.keys()].sort()).toEqual([
      'ipvs_service_connections_total', 'ipvs_service_incoming_bytes_total', 'ipvs_service_incoming_packets_total',
      'ipvs_service_outgoing_bytes_total', 'ipvs_service_outgoing_packets_total',
      'node_ipvs_backend_connections_active', 'node_ipvs_backend_connections_inactive', 'node_ipvs_backend_weight',
      'node_ipvs_connections_total', 'node_ipvs_incoming_bytes_total', 'node_ipvs_incoming_packets_total',
      'node_ipvs_outgoing_bytes_total', 'node_ipvs_outgoing_packets_total',
    ]);
  });
});
