/**
 * A minimal kube-proxy in IPVS mode, on the `ipvs` library. From the repository, after npm install:
 *
 *   npx tsx examples/proxy/main.ts --config examples/proxy/example.yaml
 *
 * Run `--help` for the options and examples/proxy/README.md for the whole story.
 */
import { ConfigError, type ProxyConfig } from './config';
import { createDataplane } from './dataplane';
import { Metrics, serveMetrics } from './metrics';
import { Proxy } from './proxy';
import { OwnedRanges } from './ranges';

const USAGE = `usage: proxy --config FILE [options]
       proxy --cleanup [options]

Keeps IPVS services, the virtual IPs on a dummy link and kube-proxy's ipsets in line with FILE
(YAML or JSON: services and their endpoints), which it watches.

  --config FILE          desired services and endpoints
  --netns NAME|PATH      work in this network namespace (NAME means /run/netns/NAME)
  --link NAME            dummy link holding the virtual IPs (default kube-ipvs0)
  --service-cidr CIDR    virtual IPs this proxy owns; repeatable (default 10.96.0.0/12 and
                         fd00:10:96::/108). Config IPs must be inside; IPVS services inside are
                         the proxy's to change and delete, services outside are never touched
  --metrics [HOST:]PORT  Prometheus metrics on a loopback address (default 127.0.0.1:10249;
                         port 0 picks a free one; "off" for none)
  --sync-period SECONDS  full resync, repairing changes made behind the proxy's back (default 30)
  --drain-timeout SECONDS  longest wait for a removed endpoint's connections to end (default 60)
  --cleanup              remove everything this proxy owns (the services in its ranges, the dummy
                         link and its addresses, its ipsets) and exit
SIGTERM and SIGINT stop the proxy and leave the data plane as it is.
`;

export interface Options {
  config?: string;
  netns?: string;
  link: string;
  ranges: OwnedRanges;
  metrics: string | null;
  syncPeriodMs: number;
  drainTimeoutMs: number;
  cleanup: boolean;
}

class UsageError extends Error {}

export function parseArgs(argv: string[]): Options {
  const o: Options = { link: 'kube-ipvs0', ranges: new OwnedRanges(), metrics: '127.0.0.1:10249', syncPeriodMs: 30_000, drainTimeoutMs: 60_000, cleanup: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const seconds = (v: string, flag: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag}: expected a number of seconds, got '${v}'`);
    return Math.round(n * 1000);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--config': o.config = value(++i, a); break;
      case '--netns': { const v = value(++i, a); o.netns = v.includes('/') ? v : `/run/netns/${v}`; break; }
      case '--link': o.link = value(++i, a); break;
      case '--service-cidr':
        try {
          o.ranges.add(value(++i, a));
        } catch (e) {
          throw new UsageError(`--service-cidr: ${(e as Error).message}`);
        }
        break;
      case '--metrics': { const v = value(++i, a); o.metrics = v === 'off' ? null : v; break; }
      case '--sync-period': o.syncPeriodMs = seconds(value(++i, a), a); break;
      case '--drain-timeout': o.drainTimeoutMs = seconds(value(++i, a), a); break;
      case '--cleanup': o.cleanup = true; break;
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0); break;
      default: throw new UsageError(`unknown argument '${a}'`);
    }
  }
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(o.link)) throw new UsageError(`--link: '${o.link}' is not a link name (1-15 letters, digits, . _ -)`);
  if (o.ranges.cidrs.length === 0) o.ranges = new OwnedRanges(['10.96.0.0/12', 'fd00:10:96::/108']);
  if (!o.cleanup && !o.config) throw new UsageError('--config is required (or --cleanup)');
  return o;
}

/** Refuses a config that names a virtual IP outside the owned ranges (the proxy could not clean it up). */
export function ownedRangesCheck(ranges: OwnedRanges) {
  return (config: ProxyConfig, file: string): void => {
    config.services.forEach((s, i) => {
      s.ips.forEach((ip, j) => {
        if (!ranges.has(ip)) {
          throw new ConfigError(file, s.ipLines[j]!, `services[${i}].ips[${j}]: ${ip} is outside the ranges this proxy owns (--service-cidr ${ranges})`);
        }
      });
    });
  };
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

async function main(argv: string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`proxy: ${e.message}\n${USAGE}`);
    return 2;
  }
  const scope = { netns: opts.netns, link: opts.link, ranges: opts.ranges, drainTimeoutMs: opts.drainTimeoutMs };
  const dataplane = createDataplane(scope, log);
  const where = opts.netns ? ` in ${opts.netns}` : '';

  if (opts.cleanup) {
    const t0 = Date.now();
    try {
      const r = await dataplane.cleanup();
      log(`cleanup${where}: ${r}, ${Date.now() - t0} ms`);
      return 0;
    } catch (e) {
      log(`cleanup${where} FAILED: ${(e as Error).message}`);
      return 1;
    } finally {
      dataplane.close();
    }
  }

  const metrics = new Metrics();
  const proxy = new Proxy({
    configPath: opts.config!, dataplane, metrics, log, syncPeriodMs: opts.syncPeriodMs, validate: ownedRangesCheck(opts.ranges),
  });
  let server: Awaited<ReturnType<typeof serveMetrics>>['server'] | null = null;
  if (opts.metrics !== null) {
    const m = await serveMetrics(metrics, opts.metrics);
    server = m.server;
    log(`metrics on ${m.url}`);
  }
  log(`proxy${where}: link ${opts.link}, owning ${opts.ranges}, resync every ${opts.syncPeriodMs / 1000} s`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping; the data plane stays as it is`);
    void proxy.stop().then(() => {
      server?.close();
      dataplane.close();
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await proxy.start();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`proxy: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
