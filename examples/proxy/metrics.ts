/**
 * The proxy's metrics in the Prometheus text exposition format (version 0.0.4), served on
 * localhost only. Names follow kube-proxy's where one exists (`sync_proxy_rules_duration_seconds`
 * buckets, `*_total` counters), under the `ipvs_proxy_` prefix.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Upper bounds of the sync latency histogram, in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type ObjectKind = 'service' | 'destination' | 'address' | 'ipset_entry';

export class Metrics {
  private readonly syncs = { ok: 0, error: 0 };
  private readonly reloads = { ok: 0, error: 0 };
  private readonly buckets = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  private latencySum = 0;
  private latencyCount = 0;
  private readonly changes = new Map<string, number>();
  private objects: Record<ObjectKind, number> = { service: 0, destination: 0, address: 0, ipset_entry: 0 };
  private draining = 0;
  private lastSync = 0;
  private configOk = 1;

  /** A finished sync: its result, how long it took, and the changes it applied by kind. */
  recordSync(ok: boolean, seconds: number, changes: Record<string, number> = {}): void {
    this.syncs[ok ? 'ok' : 'error']++;
    this.latencySum += seconds;
    this.latencyCount++;
    LATENCY_BUCKETS.forEach((b, i) => {
      if (seconds <= b) this.buckets[i]!++;
    });
    for (const [k, n] of Object.entries(changes)) if (n) this.changes.set(k, (this.changes.get(k) ?? 0) + n);
    if (ok) this.lastSync = Date.now() / 1000;
  }

  recordReload(ok: boolean): void {
    this.reloads[ok ? 'ok' : 'error']++;
    this.configOk = ok ? 1 : 0;
  }

  /** What the proxy keeps in the kernel now. */
  setObjects(objects: Record<ObjectKind, number>, draining: number): void {
    this.objects = { ...objects };
    this.draining = draining;
  }

  get syncCount(): number {
    return this.syncs.ok + this.syncs.error;
  }

  /** The exposition text. */
  render(): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family('ipvs_proxy_syncs_total', 'counter', 'Syncs of the data plane, by result.');
    out.push(`ipvs_proxy_syncs_total{result="ok"} ${this.syncs.ok}`, `ipvs_proxy_syncs_total{result="error"} ${this.syncs.error}`);
    family('ipvs_proxy_sync_duration_seconds', 'histogram', 'How long a sync took: read the kernel, plan, commit.');
    LATENCY_BUCKETS.forEach((b, i) => out.push(`ipvs_proxy_sync_duration_seconds_bucket{le="${b}"} ${this.buckets[i]}`));
    out.push(`ipvs_proxy_sync_duration_seconds_bucket{le="+Inf"} ${this.latencyCount}`);
    out.push(`ipvs_proxy_sync_duration_seconds_sum ${round(this.latencySum)}`, `ipvs_proxy_sync_duration_seconds_count ${this.latencyCount}`);
    family('ipvs_proxy_last_sync_timestamp_seconds', 'gauge', 'When the last successful sync finished (Unix time).');
    out.push(`ipvs_proxy_last_sync_timestamp_seconds ${round(this.lastSync)}`);
    family('ipvs_proxy_objects', 'gauge', 'Objects the proxy keeps in the kernel, by kind.');
    for (const [k, n] of Object.entries(this.objects)) out.push(`ipvs_proxy_objects{kind="${k}"} ${n}`);
    family('ipvs_proxy_draining_destinations', 'gauge', 'Destinations at weight 0 waiting for their connections to end.');
    out.push(`ipvs_proxy_draining_destinations ${this.draining}`);
    family('ipvs_proxy_changes_total', 'counter', 'Changes applied to the kernel, by kind.');
    for (const [k, n] of [...this.changes].sort()) out.push(`ipvs_proxy_changes_total{kind="${k}"} ${n}`);
    family('ipvs_proxy_config_reloads_total', 'counter', 'Config file loads, by result.');
    out.push(`ipvs_proxy_config_reloads_total{result="ok"} ${this.reloads.ok}`, `ipvs_proxy_config_reloads_total{result="error"} ${this.reloads.error}`);
    family('ipvs_proxy_config_last_reload_successful', 'gauge', '1 if the last config load worked, 0 if the last good config is still in force.');
    out.push(`ipvs_proxy_config_last_reload_successful ${this.configOk}`);
    return `${out.join('\n')}\n`;
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * Serves `GET /metrics` (and `/healthz`) on a loopback address. `listen` is `PORT` or
 * `HOST:PORT`; the host must be a loopback address (the metrics say what the node runs).
 */
export async function serveMetrics(metrics: Metrics, listen: string): Promise<{ server: Server; url: string }> {
  const m = /^(?:(.+):)?(\d+)$/.exec(listen);
  if (!m) throw new Error(`--metrics: expected PORT or HOST:PORT, got '${listen}'`);
  const host = (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '');
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)) throw new Error(`--metrics: serve on a loopback address (127.0.0.1, ::1), not '${host}'`);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render());
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return { server, url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics` };
}
