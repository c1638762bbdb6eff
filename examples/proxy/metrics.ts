/**
 * The proxy's metrics, kept by `prom-client` in a registry of their own and served on localhost
 * only in the Prometheus text exposition format. Names follow kube-proxy's where one exists
 * (`sync_proxy_rules_duration_seconds` buckets, `*_total` counters), under the `ipvs_proxy_`
 * prefix.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Upper bounds of the sync latency histogram, in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type ObjectKind = 'service' | 'destination' | 'address' | 'ipset_entry';

const OBJECT_KINDS: readonly ObjectKind[] = ['service', 'destination', 'address', 'ipset_entry'];
const RESULTS = ['ok', 'error'] as const;

/** The proxy's counters, gauges and sync latency histogram, and their exposition text. */
export class Metrics {
  /** What `/metrics` serves: this proxy's metrics only (no process-wide default registry). */
  readonly registry = new Registry();
  private readonly syncs = new Counter({ name: 'ipvs_proxy_syncs_total', help: 'Syncs of the data plane, by result.', labelNames: ['result'], registers: [this.registry] });
  private readonly duration = new Histogram({
    name: 'ipvs_proxy_sync_duration_seconds', help: 'How long a sync took: read the kernel, plan, commit.', buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  private readonly lastSync = new Gauge({ name: 'ipvs_proxy_last_sync_timestamp_seconds', help: 'When the last successful sync finished (Unix time).', registers: [this.registry] });
  private readonly objects = new Gauge({ name: 'ipvs_proxy_objects', help: 'Objects the proxy keeps in the kernel, by kind.', labelNames: ['kind'], registers: [this.registry] });
  private readonly draining = new Gauge({ name: 'ipvs_proxy_draining_destinations', help: 'Destinations at weight 0 waiting for their connections to end.', registers: [this.registry] });
  private readonly changes = new Counter({ name: 'ipvs_proxy_changes_total', help: 'Changes applied to the kernel, by kind.', labelNames: ['kind'], registers: [this.registry] });
  private readonly reloads = new Counter({ name: 'ipvs_proxy_config_reloads_total', help: 'Config file loads, by result.', labelNames: ['result'], registers: [this.registry] });
  private readonly configOk = new Gauge({
    name: 'ipvs_proxy_config_last_reload_successful', help: '1 if the last config load worked, 0 if the last good config is still in force.', registers: [this.registry],
  });
  private syncTotal = 0;

  constructor() {
    // Every series from the first scrape on, at zero, so rate() and alerts see them from the start.
    for (const result of RESULTS) {
      this.syncs.inc({ result }, 0);
      this.reloads.inc({ result }, 0);
    }
    this.setObjects({ service: 0, destination: 0, address: 0, ipset_entry: 0 }, 0);
    this.lastSync.set(0);
    this.configOk.set(1);
  }

  /** A finished sync: its result, how long it took, and the changes it applied by kind. */
  recordSync(ok: boolean, seconds: number, changes: Record<string, number> = {}): void {
    this.syncTotal++;
    this.syncs.inc({ result: ok ? 'ok' : 'error' });
    this.duration.observe(seconds);
    for (const [kind, n] of Object.entries(changes)) if (n) this.changes.inc({ kind }, n);
    if (ok) this.lastSync.setToCurrentTime();
  }

  recordReload(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'ok' : 'error' });
    this.configOk.set(ok ? 1 : 0);
  }

  /** What the proxy keeps in the kernel now. */
  setObjects(objects: Record<ObjectKind, number>, draining: number): void {
    for (const kind of OBJECT_KINDS) this.objects.set({ kind }, objects[kind]);
    this.draining.set(draining);
  }

  get syncCount(): number {
    return this.syncTotal;
  }

  /** The exposition text. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
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
      metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
      );
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
