// Counters over time on the real kernel: h.ipvs.watchStats() deltas against ipvsadm -Ln --stats
// --exact, h.ipvs.getStats() against /proc/net/ip_vs_stats, `ipvs exporter` scraped and parsed
// by a Prometheus text parser and checked against ipvsadm, and `ipvs list --rate --watch`.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { DEFAULT_LISTEN, startExporter } from '../../src/cli/exporter-command';
import { useNetns } from './helpers/netns';
import { cli, connectTo, ipvsadm } from './ipvs-helpers';

interface PromFamily { name: string; type: string; metrics: { value: string; labels?: Record<string, string> }[] }
const parsePrometheus = createRequire(__filename)('parse-prometheus-text-format') as (text: string) => PromFamily[];

const netns = useNetns();
let h: Handle;
const web = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
// 6.1 folds the per-CPU counters into what it reports every 2 s (estimation_timer)
const settle = () => new Promise((r) => setTimeout(r, 2200));

beforeAll(async () => {
  await netns().run('ip', ['addr', 'add', '10.0.0.2/8', 'dev', 'lo']);
  h = openHandle({ netns: netns().path });
  await h.ipvs.addService({ ...web, scheduler: 'rr' });
  await h.ipvs.addDestination(web, { address: '10.9.9.1', port: 80, forwarding: 'tunnel', weight: 3 });
  await h.ipvs.addDestination(web, { address: '127.0.0.1', port: 80, forwarding: 'route' });
});
afterAll(() => h?.close());

/** Conns of the service and each destination, from `ipvsadm -Ln --stats --exact`. */
async function ipvsadmConns(): Promise<Map<string, bigint>> {
  const out = await ipvsadm(netns(), '-Ln', '--stats', '--exact');
  const m = new Map<string, bigint>();
  for (const line of out.split('\n')) {
    const r = /^(?:TCP {2}| {2}-> )(\S+) +(\d+)/.exec(line);
    if (r) m.set(r[1]!, BigInt(r[2]!));
  }
  return m;
}

async function procTotals(): Promise<bigint[]> {
  const text = (await netns().run('cat', ['/proc/net/ip_vs_stats'])).stdout;
  return text.split('\n')[2]!.trim().split(/\s+/).map((x) => BigInt(`0x${x}`));
}

describe('IPVS counters over time', () => {
  it('watchStats gives what grew between reads, as ipvsadm --stats --exact saw it', async () => {
    await connectTo(netns(), '10.0.0.1', 80, 3);
    await settle();
    const samples = [];
    for await (const s of h.ipvs.watchStats({ intervalMs: 2500 })) {
      samples.push({ s, ipvsadm: await ipvsadmConns() });
      if (samples.length === 2) break;
      await connectTo(netns(), '10.0.0.1', 80, 4);
      // on a loaded machine the connection attempts may land late: read on only once ipvsadm sees them
      const before = samples[0]!.ipvsadm.get('10.0.0.1:80')!;
      for (let i = 0; i < 100 && (await ipvsadmConns()).get('10.0.0.1:80')! < before + 4n; i++) await new Promise((r) => setTimeout(r, 200));
    }
    const [a, b] = samples as [typeof samples[0], typeof samples[0]];
    expect(a.s.services[0]!.delta).toBeNull();
    expect(a.s.services[0]!.stats.conns).toBe(a.ipvsadm.get('10.0.0.1:80'));
    expect(b.s.services[0]!.stats.conns).toBe(b.ipvsadm.get('10.0.0.1:80'));
    expect(b.s.intervalMs).toBeGreaterThanOrEqual(2400);
    const delta = b.s.services[0]!.delta!;
    expect(delta.conns).toBe(b.ipvsadm.get('10.0.0.1:80')! - a.ipvsadm.get('10.0.0.1:80')!);
    expect(delta.conns).toBe(4n);
    expect(b.s.services[0]!.rate!.conns).toBeCloseTo(4 / (b.s.intervalMs / 1000), 6);
    for (const d of b.s.services[0]!.destinations) {
      const key = `${d.address}:${d.port}`;
      expect(d.stats.conns).toBe(b.ipvsadm.get(key));
      expect(d.delta!.conns).toBe(b.ipvsadm.get(key)! - a.ipvsadm.get(key)!);
    }
  });

  it('getStats reads the namespace totals /proc/net/ip_vs_stats shows', async () => {
    await settle();
    const t = await h.ipvs.getStats();
    const [conns, inpkts, outpkts, inbytes, outbytes] = await procTotals();
    expect([t.conns, t.inpkts, t.outpkts, t.inbytes, t.outbytes]).toEqual([conns, inpkts, outpkts, inbytes, outbytes]);
    expect(t.conns).toBeGreaterThanOrEqual(7n);
  });

  it('ipvs exporter serves node_exporter\'s metrics, on loopback by default', async () => {
    expect(DEFAULT_LISTEN.startsWith('127.0.0.1:')).toBe(true);
    const exporter = await startExporter(netns().path, '127.0.0.1', 0);
    try {
      const base = `http://127.0.0.1:${exporter.port}`;
      // connections change state while we look: take a scrape that ipvsadm agrees with before and after
      let families = new Map<string, PromFamily>();
      let listing = '';
      for (let attempt = 0; attempt < 10; attempt++) {
        const before = await ipvsadm(netns(), '-Ln');
        const res = await fetch(`${base}/metrics`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        families = new Map(parsePrometheus(await res.text()).map((f) => [f.name, f]));
        listing = await ipvsadm(netns(), '-Ln');
        if (listing === before) break;
      }
      for (const addr of ['10.9.9.1', '127.0.0.1']) {
        const [, weight, active, inactive] = new RegExp(`-> ${addr.replace(/\./g, '\\.')}:80 +\\w+ +(\\d+) +(\\d+) +(\\d+)`).exec(listing)!;
        const labels = { local_address: '10.0.0.1', local_port: '80', remote_address: addr, remote_port: '80', proto: 'TCP', local_mark: '' };
        expect(families.get('node_ipvs_backend_weight')!.metrics).toContainEqual({ value: weight, labels });
        expect(families.get('node_ipvs_backend_connections_active')!.metrics).toContainEqual({ value: active, labels });
        expect(families.get('node_ipvs_backend_connections_inactive')!.metrics).toContainEqual({ value: inactive, labels });
      }
      const [conns] = await procTotals();
      expect(families.get('node_ipvs_connections_total')).toMatchObject({ type: 'COUNTER', metrics: [{ value: String(conns) }] });
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await exporter.close();
    }
  });

  it('ipvs list --rate --watch refreshes the ipvsadm -Ln --rate listing', async () => {
    const r = await cli(netns(), ['list', '--rate', '-n', '--watch', '0.3', '--count', '2']);
    expect(r.code).toBe(0);
    const theirs = await ipvsadm(netns(), '-Ln', '--rate');
    const shape = (t: string) => t.replace(/\d+/g, 'N').replace(/ +/g, ' ');
    const listings = r.out.split(/\n(?=IP Virtual Server)/);
    expect(listings).toHaveLength(2);
    for (const l of listings) expect(shape(l.endsWith('\n') ? l : `${l}\n`)).toBe(shape(theirs));
    expect((await cli(netns(), ['list', '--count', '2'])).code).toBe(2);
  });
});
