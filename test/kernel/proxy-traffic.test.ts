// The proxy example carrying real traffic: a client namespace, a namespace of HTTP backends and
// the proxy's own namespace between them (examples/proxy/lab.ts). The proxy runs as its own
// process on a config file, as a user would start it, and is judged by what the client sees and
// by what ipvsadm, ipset and ip read in its namespace.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, startProxy, type ProxyProcess } from '../../examples/proxy/lab';

let lab: Lab;
let dir: string;
let configPath: string;
let proxy: ProxyProcess;

const [B1, B2, B3] = ['10.244.0.11', '10.244.0.12', '10.244.0.13'];

interface Svc {
  name: string;
  ips: string[];
  port: number;
  protocol?: string;
  affinity?: number;
  endpoints: { address: string; port?: number; ready?: boolean }[];
}

/** Writes the config file (YAML); `extra` is appended as is. */
function writeConfig(services: Svc[], extra = ''): void {
  const lines = ['# written by proxy-traffic.test.ts', 'services:'];
  for (const s of services) {
    lines.push(`  - name: ${s.name}`, `    ips: [${s.ips.join(', ')}]`);
    lines.push(`    ports: [{ port: ${s.port}, protocol: ${s.protocol ?? 'tcp'}, targetPort: 8080 }]`);
    if (s.affinity) lines.push(`    sessionAffinity: { timeoutSeconds: ${s.affinity} }`);
    lines.push('    endpoints:');
    for (const e of s.endpoints) lines.push(`      - { address: "${e.address}"${e.port ? `, port: ${e.port}` : ''}${e.ready === false ? ', ready: false' : ''} }`);
  }
  // Write and rename, as config tools do, so the proxy never reads half a file.
  writeFileSync(`${configPath}.tmp`, lines.join('\n') + '\n' + extra);
  renameSync(`${configPath}.tmp`, configPath);
}

const web: Svc = { name: 'default/web', ips: ['10.96.0.10', 'fd00:10:96::10'], port: 80, endpoints: [B1, B2, B3, 'fd00:244::11', 'fd00:244::12'].map((address) => ({ address })) };
const sticky: Svc = { name: 'default/sticky', ips: ['10.96.0.11'], port: 80, affinity: 60, endpoints: [B1, B2, B3].map((address) => ({ address })) };
const dns: Svc = { name: 'kube-system/dns', ips: ['10.96.0.53'], port: 53, protocol: 'udp', endpoints: [{ address: B3, port: 5353 }] };

const node = (cmd: string, args: string[]) => lab.exec(lab.node, cmd, args);
const saved = async () => (await node('ipvsadm', ['-Sn'])).stdout.trim().split('\n').filter(Boolean).sort();
const even = (backends: string[], each: number) => Object.fromEntries(backends.map((b) => [b, each]));

/** Waits for the next sync line, after the proxy's current output, whose reasons include `reason`. */
function nextSync(reason: RegExp, timeoutMs = 20_000): Promise<string> {
  return proxy.waitFor(new RegExp(`^sync \\d+ \\(([^)]*, )?${reason.source}(, [^)]*)?\\): `), timeoutMs);
}

beforeAll(async () => {
  lab = await Lab.create({ prefix: `pt${process.pid % 10000}`, backends: 3 });
  // A tmpfs, where file watching works (in the VM, /tmp is the host's through hostfs, which sends
  // no inotify events: there the proxy would notice edits only at its periodic check).
  dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ipvs-proxy-'));
  configPath = join(dir, 'proxy.yaml');
  writeConfig([web, sticky, dns]);
  proxy = startProxy(['--config', configPath, '--netns', lab.nodePath, '--metrics', '127.0.0.1:0', '--sync-period', '2', '--drain-timeout', '5']);
  await proxy.waitFor(/^sync 1 \(start\): .* ms, /, 60_000);
}, 120_000);

afterAll(async () => {
  await proxy?.stop('SIGKILL');
  await lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the proxy example, on real traffic', () => {
  it('sets the IPVS sysctls kube-proxy sets, in its namespace, and says so', async () => {
    const line = await proxy.waitFor(/^sysctl: /, 20_000, 0);
    expect(line).toMatch(/net\.ipv4\.vs\.conntrack=1 net\.ipv4\.vs\.expire_nodest_conn=1 net\.ipv4\.vs\.expire_quiescent_template=1 as kube-proxy sets them/);
    expect((await node('sysctl', ['-n', 'net.ipv4.vs.conntrack', 'net.ipv4.vs.expire_nodest_conn', 'net.ipv4.vs.expire_quiescent_template'])).stdout).toBe('1\n1\n1\n');
    // the namespace the test runs in is not the proxy's: its values stay the kernel's defaults
    expect((await lab.exec(lab.client, 'sysctl', ['-n', 'net.ipv4.vs.conntrack'])).stdout).toBe('0\n');
  });

  it('programs IPVS, the dummy link and the ipsets as kube-proxy does', async () => {
    expect(await saved()).toEqual([
      '-A -t 10.96.0.10:80 -s rr',
      '-A -t 10.96.0.11:80 -s rr -p 60',
      '-A -t [fd00:10:96::10]:80 -s rr',
      '-A -u 10.96.0.53:53 -s rr',
      ...[B1, B2, B3].flatMap((b) => [`-a -t 10.96.0.10:80 -r ${b}:8080 -m -w 1`, `-a -t 10.96.0.11:80 -r ${b}:8080 -m -w 1`]),
      '-a -t [fd00:10:96::10]:80 -r [fd00:244::11]:8080 -m -w 1',
      '-a -t [fd00:10:96::10]:80 -r [fd00:244::12]:8080 -m -w 1',
      `-a -u 10.96.0.53:53 -r ${B3}:5353 -m -w 1`,
    ].sort());
    const addrs = JSON.parse((await node('ip', ['-j', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout) as { link_type: string; addr_info: { local: string; prefixlen: number }[] }[];
    // (the kernel's own IPv6 link-local address of the link is not the proxy's, and stays)
    expect(addrs[0]!.addr_info.filter((a) => !a.local.startsWith('fe80:')).map((a) => `${a.local}/${a.prefixlen}`).sort())
      .toEqual(['10.96.0.10/32', '10.96.0.11/32', '10.96.0.53/32', 'fd00:10:96::10/128']);
    expect((await node('ip', ['-d', 'link', 'show', 'kube-ipvs0'])).stdout).toMatch(/\bdummy\b/);
    const sets = (await node('ipset', ['save'])).stdout;
    expect(sets).toMatch(/^create KUBE-CLUSTER-IP hash:ip,port family inet /m);
    for (const e of ['10.96.0.10,tcp:80', '10.96.0.11,tcp:80', '10.96.0.53,udp:53']) expect(sets).toContain(`add KUBE-CLUSTER-IP ${e}`);
    expect(sets).toMatch(/^add KUBE-6-CLUSTER-IP fd00:10:96::10,tcp:80$/m);
    for (const ip of ['10.96.0.10', '10.96.0.11', '10.96.0.53']) expect(sets).toContain(`add KUBE-IPVS-IPS ${ip}`);
    expect(sets).toMatch(/^create KUBE-LOOP-BACK hash:ip,port,ip family inet /m);
  });

  it('spreads requests to the virtual IP over every backend as rr says, over IPv4 and IPv6', async () => {
    const v4 = await lab.traffic('10.96.0.10', 80, 30);
    expect(v4.failures, v4.errors.join('; ')).toBe(0);
    expect(v4.counts).toEqual(even([B1, B2, B3], 10));
    const v6 = await lab.traffic('fd00:10:96::10', 80, 10);
    expect(v6.failures, v6.errors.join('; ')).toBe(0);
    expect(v6.counts).toEqual(even(['fd00:244::11', 'fd00:244::12'], 5));
  });

  it('keeps a client on one backend with session affinity', async () => {
    const t = await lab.traffic('10.96.0.11', 80, 9);
    expect(t.failures).toBe(0);
    expect(Object.values(t.counts)).toEqual([9]);
  });

  it('stops sending requests to an endpoint removed from the file, then deletes it once drained', async () => {
    const from = proxy.lines.length;
    writeConfig([{ ...web, endpoints: web.endpoints.filter((e) => e.address !== B3) }, sticky, dns]);
    const line = await nextSync(/config changed/);
    expect(line).toMatch(/destinations .*draining/);
    // Draining: weight 0 now, read before the traffic below (which may outlast the drain under
    // load); gone once its connections end (the earlier tests left some in TIME_WAIT) or
    // --drain-timeout (5 s) passes.
    expect(await saved()).toContain(`-a -t 10.96.0.10:80 -r ${B3}:8080 -m -w 0`);
    const t = await lab.traffic('10.96.0.10', 80, 20);
    expect(t.failures, t.errors.join('; ')).toBe(0);
    expect(t.counts).toEqual(even([B1, B2], 10));
    // (the deletion may come while the traffic runs: look from the edit on)
    await proxy.waitFor(/^sync \d+ \(.*\): .*destinations .*-1/, 20_000, from);
    expect((await saved()).filter((l) => l.startsWith('-a -t 10.96.0.10:80'))).toEqual([B1, B2].map((b) => `-a -t 10.96.0.10:80 -r ${b}:8080 -m -w 1`));
  });

  it('makes a service added to the file answer', async () => {
    const api: Svc = { name: 'default/api', ips: ['10.96.0.20'], port: 8080, endpoints: [{ address: B3 }] };
    writeConfig([{ ...web, endpoints: web.endpoints.filter((e) => e.address !== B3) }, sticky, dns, api]);
    expect(await nextSync(/config changed/)).toMatch(/services \+1/);
    const t = await lab.traffic('10.96.0.20', 8080, 5);
    expect(t.failures, t.errors.join('; ')).toBe(0);
    expect(t.counts).toEqual({ [B3]: 5 });
  });

  it('repairs what is changed behind its back: an address at once, a service on the next tick', async () => {
    // The address comes back through the address event (the sync's reason says so), not a tick;
    // the service through the periodic sync, IPVS having no events.
    await node('ip', ['addr', 'del', '10.96.0.10/32', 'dev', 'kube-ipvs0']);
    expect(await nextSync(/address 10\.96\.0\.10\/32 removed/, 10_000)).toMatch(/addresses \+1$/);
    const w = await lab.traffic('10.96.0.10', 80, 4);
    expect(w.counts).toEqual(even([B1, B2], 2));
    await node('ipvsadm', ['-D', '-t', '10.96.0.20:8080']);
    expect(await proxy.waitFor(/^sync \d+ \((.*, )?periodic(, .*)?\): .*services \+1, destinations \+1$/, 10_000)).toBeTruthy();
    const t = await lab.traffic('10.96.0.20', 8080, 3);
    expect(t.counts).toEqual({ [B3]: 3 });
  });

  it('reports a bad config with the line at fault, and keeps the last good state', async () => {
    writeConfig([web, sticky, dns], '  - name: broken\n    ips: [10.96.0.99]\n    ports: [{ port: 80, protocol: tpc }]\n');
    const bad = await proxy.waitFor(/^config: .*:\d+: /, 10_000);
    const at = readFileSync(configPath, 'utf8').split('\n').findIndex((l) => l.includes('tpc')) + 1;
    expect(bad).toBe(`config: ${configPath}:${at}: services[3].ports[0].protocol: must be tcp, udp or sctp, got 'tpc'; keeping the config loaded at ${/loaded at (\S+)$/.exec(bad)?.[1]}`);
    const t = await lab.traffic('10.96.0.20', 8080, 3);
    expect(t.counts).toEqual({ [B3]: 3 });
    const metrics = await (await fetch(await proxy.metricsUrl())).text();
    expect(metrics).toContain('ipvs_proxy_config_last_reload_successful 0');
  });

  it('serves metrics in the Prometheus text format on localhost', async () => {
    const res = await fetch(await proxy.metricsUrl());
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^ipvs_proxy_syncs_total\{result="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^ipvs_proxy_sync_duration_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^ipvs_proxy_objects\{kind="service"\} 5$/m);
    expect(text).toMatch(/^ipvs_proxy_objects\{kind="address"\} 5$/m);
  });

  it('leaves the data plane as it is on SIGTERM', async () => {
    const before = await saved();
    expect(await proxy.stop('SIGTERM')).toBe(0);
    expect(proxy.lines.at(-1)).toMatch(/^SIGTERM: stopping; the data plane stays as it is$/);
    expect(await saved()).toEqual(before);
    const t = await lab.traffic('10.96.0.20', 8080, 2);
    expect(t.counts).toEqual({ [B3]: 2 });
  });

  it('removes everything it owns on --cleanup, and nothing else', async () => {
    await node('ipvsadm', ['-A', '-t', '192.168.77.1:80', '-s', 'wlc']);
    await node('ip', ['link', 'add', 'other0', 'type', 'dummy']);
    await node('ip', ['addr', 'add', '192.168.77.1/32', 'dev', 'other0']);
    await node('ipset', ['create', 'OTHER', 'hash:ip']);
    const cleanup = startProxy(['--cleanup', '--netns', lab.nodePath]);
    expect(await cleanup.exited, cleanup.lines.join('\n')).toBe(0);
    expect(cleanup.lines.at(-1)).toMatch(/^cleanup in \S+: /);
    expect(await saved()).toEqual(['-A -t 192.168.77.1:80 -s wlc']);
    expect((await node('ip', ['link', 'show', 'kube-ipvs0'])).code).not.toBe(0);
    expect((await node('ip', ['-br', 'addr', 'show', 'dev', 'other0'])).stdout).toContain('192.168.77.1/32');
    expect((await node('ipset', ['list', '-n'])).stdout.trim().split('\n')).toEqual(['OTHER']);
  });
});
