// The proxy's loop against a fake data plane: what triggers a sync, what one log line says, and
// that a bad config file leaves the last good one in force.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeChanges, Proxy, type Dataplane, type SyncReport } from '../../examples/proxy/proxy';
import type { DesiredPlane } from '../../examples/proxy/desired';
import { Metrics } from '../../examples/proxy/metrics';

const config = (endpoints: string[]) => `services:
  - name: web
    ips: [10.96.0.10]
    ports: [{ port: 80 }]
    endpoints: [${endpoints.map((a) => `{ address: ${a} }`).join(', ')}]
`;

class FakeDataplane implements Dataplane {
  planes: DesiredPlane[] = [];
  fail = 0;
  draining = 0;
  drift: ((why: string) => void) | null = null;
  async sync(plane: DesiredPlane): Promise<SyncReport> {
    this.planes.push(plane);
    if (this.fail > 0) {
      this.fail--;
      throw new Error('ipvs.addService: the kernel refused the request (EINVAL)');
    }
    const dests = plane.services.reduce((n, s) => n + s.destinations.length, 0);
    const draining = this.draining > 0 ? this.draining-- : 0;
    return { changes: { 'destination+': dests }, draining, objects: { service: plane.services.length, destination: dests, address: plane.addresses.length, ipset_entry: 0 } };
  }
  watch(onDrift: (why: string) => void): () => void {
    this.drift = onDrift;
    return () => (this.drift = null);
  }
}

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};

let dir: string;
let file: string;
let logs: string[];
let dp: FakeDataplane;
let metrics: Metrics;
let proxy: Proxy;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'proxy-loop-'));
  file = join(dir, 'proxy.yaml');
  logs = [];
  dp = new FakeDataplane();
  metrics = new Metrics();
});
afterEach(async () => {
  await proxy?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function start(opts: { syncPeriodMs?: number } = {}): Promise<void> {
  proxy = new Proxy({ configPath: file, dataplane: dp, metrics, log: (l) => logs.push(l), debounceMs: 5, drainPollMs: 20, syncPeriodMs: opts.syncPeriodMs ?? 60_000 });
  return proxy.start();
}

describe('proxy example: the sync loop', () => {
  it('syncs once at start and logs one line per sync', async () => {
    writeFileSync(file, config(['10.1.0.1', '10.1.0.2']));
    await start();
    expect(dp.planes).toHaveLength(1);
    expect(logs[0]).toBe(`config: loaded ${file}: 1 services, 2 ready endpoints, 1 addresses`);
    expect(logs[1]).toMatch(/^sync 1 \(start\): \d+\.\d ms, destinations \+2$/);
    expect(metrics.syncCount).toBe(1);
  });

  it('follows the file, and keeps the last good config when the file is bad', async () => {
    writeFileSync(file, config(['10.1.0.1']));
    await start();
    writeFileSync(file, config(['10.1.0.1', '10.1.0.999']));
    await until(() => logs.some((l) => l.startsWith('config: ')) && logs.length >= 3);
    expect(logs[2]).toBe(`config: ${file}:5: services[0].endpoints[1].address: must be an IPv4 or IPv6 address, got '10.1.0.999'; keeping the config loaded at ${logs.length && /loaded at (\S+)$/.exec(logs[2]!)![1]}`);
    expect(await metrics.render()).toContain('ipvs_proxy_config_last_reload_successful 0');
    expect(proxy.desired!.services[0]!.destinations).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(dp.planes).toHaveLength(1); // a bad file triggers no sync

    writeFileSync(file, config(['10.1.0.1', '10.1.0.2']));
    await until(() => dp.planes.length === 2);
    await proxy.idle();
    expect(dp.planes[1]!.services[0]!.destinations.map((d) => d.address)).toEqual(['10.1.0.1', '10.1.0.2']);
    expect(logs.at(-1)).toMatch(/^sync 2 \(config changed\): /);
    expect(await metrics.render()).toContain('ipvs_proxy_config_last_reload_successful 1');
  });

  it('syncs when the data plane reports drift, and again while destinations drain', async () => {
    writeFileSync(file, config(['10.1.0.1']));
    await start();
    dp.draining = 2;
    dp.drift!('address 10.96.0.10/32 removed');
    await until(() => dp.planes.length === 4);
    await proxy.idle();
    expect(logs.slice(2)).toEqual([
      expect.stringMatching(/^sync 2 \(address 10\.96\.0\.10\/32 removed\): .* \(2 draining\)$/),
      expect.stringMatching(/^sync 3 \(draining\): .* \(1 draining\)$/),
      expect.stringMatching(/^sync 4 \(draining\): [^(]*$/),
    ]);
  });

  it('retries a failed sync with a growing delay, and a periodic tick repairs', async () => {
    writeFileSync(file, config(['10.1.0.1']));
    dp.fail = 1;
    await start({ syncPeriodMs: 100_000 });
    expect(logs[1]).toMatch(/^sync 1 \(start\): FAILED after \d+\.\d ms: ipvs\.addService: .*\(EINVAL\); retrying in 1\.0 s$/);
    await until(() => dp.planes.length === 2, 3000);
    await proxy.idle();
    expect(logs[2]).toMatch(/^sync 2 \(retry\): /);
    expect(await metrics.render()).toContain('ipvs_proxy_syncs_total{result="error"} 1');
  });

  it('stops syncing after stop()', async () => {
    writeFileSync(file, config(['10.1.0.1']));
    await start({ syncPeriodMs: 30 });
    await proxy.stop();
    const n = dp.planes.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(dp.planes.length).toBe(n);
  });

  it('describes changes compactly', () => {
    const objects = { service: 0, destination: 0, address: 0, ipset_entry: 0 };
    expect(describeChanges({ changes: {}, draining: 0, objects })).toBe('no changes');
    expect(describeChanges({ changes: { 'ipset_entry+': 3, 'destination-': 1, 'service+': 1, 'destination+': 2, 'destination~': 1, 'address+': 0 }, draining: 1, objects }))
      .toBe('services +1, destinations +2 ~1 -1, ipset entries +3 (1 draining)');
  });
});
