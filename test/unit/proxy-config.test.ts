import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../examples/proxy/config';
import { allSetNames, desiredPlane, planSize } from '../../examples/proxy/desired';
import { LATENCY_BUCKETS, Metrics, serveMetrics } from '../../examples/proxy/metrics';

const YAML = `# two services
services:
  - name: default/web
    ips: [10.96.0.10, fd00:10:96::10]
    ports:
      - { port: 80, protocol: tcp, targetPort: 8080 }
      - { port: 443, protocol: TCP, targetPort: 8443 }
    scheduler: wrr
    sessionAffinity: { timeoutSeconds: 600 }
    endpoints:
      - { address: 10.244.1.5 }
      - { address: 10.244.1.6, terminating: true }
      - { address: 10.244.1.7, ready: false }
      - { address: 10.244.1.8, weight: 3, local: true }
      - { address: "fd00:244::5" }
  - name: kube-system/dns
    ips: [10.96.0.53]
    ports:
      - port: 53
        protocol: udp
    sessionAffinity: ClientIP
    endpoints:
      - address: 10.244.2.2
        port: 5353
`;

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, 'p.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('proxy example: config', () => {
  it('reads services, ports, affinity and endpoints with their defaults', () => {
    const c = parseConfig(YAML, 'p.yaml');
    expect(c.services).toHaveLength(2);
    const web = c.services[0]!;
    expect(web).toMatchObject({ name: 'default/web', ips: ['10.96.0.10', 'fd00:10:96::10'], scheduler: 'wrr', affinityTimeout: 600, line: 3 });
    expect(web.ports.map((p) => [p.port, p.protocol, p.targetPort])).toEqual([[80, 'tcp', 8080], [443, 'tcp', 8443]]);
    expect(web.endpoints[0]).toMatchObject({ address: '10.244.1.5', ready: true, terminating: false, weight: 1, local: false, port: undefined });
    expect(c.services[1]).toMatchObject({ scheduler: 'rr', affinityTimeout: 10800 });
    expect(c.services[1]!.endpoints[0]).toMatchObject({ port: 5353, line: 23 });
  });

  it('reads the example config shipped with the proxy', () => {
    const file = join(__dirname, '..', '..', 'examples', 'proxy', 'example.yaml');
    const plane = desiredPlane(parseConfig(readFileSync(file, 'utf8'), file));
    expect(planSize(plane)).toEqual({ services: 7, destinations: 12, addresses: 4, setEntries: 13 });
  });

  it('reads the same config written as JSON', () => {
    const json = JSON.stringify({
      services: [{ name: 'a', ips: ['10.96.0.1'], ports: [{ port: 80 }], endpoints: [{ address: '10.1.0.1', port: 8080 }] }],
    }, null, 2);
    expect(parseConfig(json, 'p.json').services[0]).toMatchObject({ name: 'a', ips: ['10.96.0.1'], scheduler: 'rr', affinityTimeout: 0 });
  });

  it('reports the line and path of every mistake', () => {
    const bad = (find: string, replace: string) => errorOf(YAML.replace(find, replace));
    expect(bad('protocol: udp', 'protocol: udpp').message).toBe("p.yaml:20: services[1].ports[0].protocol: must be tcp, udp or sctp, got 'udpp'");
    expect(bad('port: 80,', 'port: 80000,').message).toContain('p.yaml:6: services[0].ports[0].port: must be an integer 1-65535, got 80000');
    expect(bad('{ address: 10.244.1.7, ready: false }', '{ address: 10.244.1.777 }').message).toContain("p.yaml:13: services[0].endpoints[2].address: must be an IPv4 or IPv6 address, got '10.244.1.777'");
    expect(bad('scheduler: wrr', 'schedular: wrr').message).toBe("p.yaml:8: services[0]: unknown key 'schedular' (did you mean 'scheduler'?); known: name, ips, ports, scheduler, sessionAffinity, endpoints");
    expect(bad('name: kube-system/dns', 'name: default/web').message).toContain("'default/web' is also the name of the service on line 3");
    expect(errorOf(YAML.replace('ips: [10.96.0.53]\n    ports:\n      - port: 53\n        protocol: udp', 'ips: [10.96.0.10]\n    ports:\n      - port: 80')).message).toContain("10.96.0.10:80/tcp is also claimed by 'default/web'");
    expect(bad('sessionAffinity: ClientIP', 'sessionAffinity: Sticky').line).toBe(21);
    expect(bad('port: 5353', 'port: 5353\n        ready: yes').message).toContain("ready: must be true or false, got 'yes'");
    expect(errorOf('services:\n  - name: a\n    ips: [10.0.0.1]\n    ports: [{port: 80}, {port: 81}]\n    endpoints: [{address: 10.1.1.1, port: 1}]\n').message).toContain('only a single-port service');
    expect(errorOf('').message).toContain("the file is empty");
    expect(errorOf('services:\n  - name: a\n    ips: [10.0.0.1\n').line).toBe(3);
  });

  it('reports what the YAML parser refuses at the line at fault', () => {
    const at = (text: string) => {
      const e = errorOf(text);
      return `${e.line}: ${e.reason}`;
    };
    expect(at('services:\n  - name: a\n    name: b\n')).toMatch(/^3: Map keys must be unique/);
    expect(at('services:\n  - name: a\n\t  ips: []\n')).toMatch(/^3: /);
    expect(at('services:\n  - name: "open\n')).toMatch(/^2: Missing closing "quote/);
    expect(at('services:\n  - name: a\n    ports: [{port: 80}\n\n')).toMatch(/^3: /);
    expect(at('services: []\n---\nservices: []\n')).toMatch(/^2: Source contains multiple documents/);
    expect(at('{"services": [,]}')).toMatch(/^1: /);
    expect(errorOf('# only a comment\n').message).toBe("p.yaml:1: the file is empty; it needs 'services:'");
  });

  it('follows YAML 1.2: yes is a string, anchors and aliases work, a null value is absent', () => {
    expect(errorOf(YAML.replace('{ address: 10.244.1.5 }', '{ address: 10.244.1.5, local: yes }')).message).toBe("p.yaml:11: services[0].endpoints[0].local: must be true or false, got 'yes'");
    const c = parseConfig('services:\n  - name: a\n    ips: [10.96.0.1]\n    ports: &p [{ port: 80 }]\n    scheduler:\n  - name: b\n    ips: [10.96.0.2]\n    ports: *p\n', 'p.yaml');
    expect(c.services.map((s) => [s.name, s.scheduler, s.ports.map((p) => p.port)])).toEqual([['a', 'rr', [80]], ['b', 'rr', [80]]]);
  });
});

describe('proxy example: desired data plane', () => {
  it('lays services out as kube-proxy does: per VIP and port, ready endpoints of the same family', () => {
    const plane = desiredPlane(parseConfig(YAML, 'p.yaml'));
    expect(plane.services.map((s) => `${s.protocol} ${s.address}:${s.port} ${s.scheduler} p=${s.persistent} -> ${s.destinations.map((d) => `${d.address}:${d.port}w${d.weight}`).join(' ')}`)).toEqual([
      'tcp 10.96.0.10:80 wrr p=600 -> 10.244.1.5:8080w1 10.244.1.8:8080w3',
      'tcp 10.96.0.10:443 wrr p=600 -> 10.244.1.5:8443w1 10.244.1.8:8443w3',
      'tcp fd00:10:96::10:80 wrr p=600 -> fd00:244::5:8080w1',
      'tcp fd00:10:96::10:443 wrr p=600 -> fd00:244::5:8443w1',
      'udp 10.96.0.53:53 rr p=10800 -> 10.244.2.2:5353w1',
    ]);
    expect(plane.addresses).toEqual(['10.96.0.10/32', 'fd00:10:96::10/128', '10.96.0.53/32']);
    const sets = Object.fromEntries(plane.sets.map((s) => [s.name, `${s.type} ${s.family}: ${s.entries.join(' ')}`]));
    expect(sets).toEqual({
      'KUBE-CLUSTER-IP': 'hash:ip,port inet: 10.96.0.10,tcp:80 10.96.0.10,tcp:443 10.96.0.53,udp:53',
      'KUBE-IPVS-IPS': 'hash:ip inet: 10.96.0.10 10.96.0.53',
      'KUBE-LOOP-BACK': 'hash:ip,port,ip inet: 10.244.1.8,tcp:8080,10.244.1.8 10.244.1.8,tcp:8443,10.244.1.8',
      'KUBE-6-CLUSTER-IP': 'hash:ip,port inet6: fd00:10:96::10,tcp:80 fd00:10:96::10,tcp:443',
      'KUBE-6-IPVS-IPS': 'hash:ip inet6: fd00:10:96::10',
      'KUBE-6-LOOP-BACK': 'hash:ip,port,ip inet6: ',
    });
    expect(allSetNames().sort()).toEqual(Object.keys(sets).sort());
    expect(planSize(plane)).toEqual({ services: 5, destinations: 7, addresses: 3, setEntries: 10 });
  });
});

/**
 * Parses the Prometheus text format (0.0.4) strictly: every line empty (allowed between
 * families), a HELP or TYPE comment, or a sample of a family declared before it.
 */
function parseExposition(text: string): { families: Map<string, string>; samples: { name: string; labels: Record<string, string>; value: number }[] } {
  const families = new Map<string, string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      expect(families.has(type[1]!), `${type[1]} declared twice`).toBe(false);
      families.set(type[1]!, type[2]!);
      continue;
    }
    if (line === '' || /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* \S.*$/.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)$/.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    const [, name, labelText, value] = m!;
    const labels = Object.fromEntries([...(labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    const family = families.has(name!) ? name! : name!.replace(/_(bucket|sum|count)$/, '');
    expect(families.get(family), `${name} has no # TYPE before it`).toBeDefined();
    if (name!.endsWith('_bucket')) expect(labels.le).toMatch(/^(\+Inf|[\d.e+-]+)$/);
    expect(value === '+Inf' || value === '-Inf' || value === 'NaN' || Number.isFinite(Number(value)), `value of ${line}`).toBe(true);
    samples.push({ name: name!, labels, value: Number(value) });
  }
  return { families, samples };
}

describe('proxy example: metrics', () => {
  it('serves its metrics in the Prometheus text format, kept by prom-client', async () => {
    const m = new Metrics();
    m.recordReload(true);
    m.recordSync(true, 0.004, { 'service+': 2, 'destination+': 3 });
    m.recordSync(false, 0.2);
    m.setObjects({ service: 2, destination: 3, address: 1, ipset_entry: 4 }, 1);
    const { families, samples } = parseExposition(await m.render());
    expect(Object.fromEntries(families)).toEqual({
      ipvs_proxy_syncs_total: 'counter',
      ipvs_proxy_sync_duration_seconds: 'histogram',
      ipvs_proxy_last_sync_timestamp_seconds: 'gauge',
      ipvs_proxy_objects: 'gauge',
      ipvs_proxy_draining_destinations: 'gauge',
      ipvs_proxy_changes_total: 'counter',
      ipvs_proxy_config_reloads_total: 'counter',
      ipvs_proxy_config_last_reload_successful: 'gauge',
    });
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
    expect([value('ipvs_proxy_syncs_total', { result: 'ok' }), value('ipvs_proxy_syncs_total', { result: 'error' })]).toEqual([1, 1]);
    expect(value('ipvs_proxy_sync_duration_seconds_bucket', { le: '0.001' })).toBe(0);
    expect(value('ipvs_proxy_sync_duration_seconds_bucket', { le: '0.005' })).toBe(1);
    expect(value('ipvs_proxy_sync_duration_seconds_bucket', { le: '0.25' })).toBe(2);
    expect(value('ipvs_proxy_sync_duration_seconds_bucket', { le: '+Inf' })).toBe(2);
    expect(samples.filter((x) => x.name === 'ipvs_proxy_sync_duration_seconds_bucket').map((x) => x.labels.le)).toEqual([...LATENCY_BUCKETS.map(String), '+Inf']);
    expect(value('ipvs_proxy_sync_duration_seconds_sum')).toBeCloseTo(0.204, 9);
    expect(value('ipvs_proxy_sync_duration_seconds_count')).toBe(2);
    expect(value('ipvs_proxy_last_sync_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(samples.filter((x) => x.name === 'ipvs_proxy_objects').map((x) => `${x.labels.kind}=${x.value}`)).toEqual(['service=2', 'destination=3', 'address=1', 'ipset_entry=4']);
    expect([value('ipvs_proxy_changes_total', { kind: 'service+' }), value('ipvs_proxy_changes_total', { kind: 'destination+' })]).toEqual([2, 3]);
    expect(value('ipvs_proxy_draining_destinations')).toBe(1);
    expect([value('ipvs_proxy_config_reloads_total', { result: 'ok' }), value('ipvs_proxy_config_reloads_total', { result: 'error' })]).toEqual([1, 0]);
    expect(value('ipvs_proxy_config_last_reload_successful')).toBe(1);
    m.recordReload(false);
    expect(await m.render()).toMatch(/^ipvs_proxy_config_last_reload_successful 0$/m);
  });

  it('starts every series at zero, and keeps each Metrics to its own registry', async () => {
    const a = new Metrics();
    const b = new Metrics();
    b.recordSync(true, 0.01);
    const { samples } = parseExposition(await a.render());
    expect(samples.filter((x) => x.name === 'ipvs_proxy_syncs_total').map((x) => `${x.labels.result}=${x.value}`)).toEqual(['ok=0', 'error=0']);
    expect(samples.find((x) => x.name === 'ipvs_proxy_sync_duration_seconds_count')?.value).toBe(0);
    expect(samples.find((x) => x.name === 'ipvs_proxy_config_last_reload_successful')?.value).toBe(1);
    expect(samples.some((x) => x.name === 'ipvs_proxy_changes_total')).toBe(false);
    expect([a.syncCount, b.syncCount]).toEqual([0, 1]);
  });

  it('answers GET /metrics on loopback with the registry content type, and refuses other hosts', async () => {
    const m = new Metrics();
    m.recordSync(true, 0.003);
    const { server, url } = await serveMetrics(m, '127.0.0.1:0');
    try {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(m.registry.contentType);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(parseExposition(await res.text()).samples.find((x) => x.name === 'ipvs_proxy_syncs_total' && x.labels.result === 'ok')?.value).toBe(1);
      expect((await fetch(url.replace('/metrics', '/nothing'))).status).toBe(404);
    } finally {
      server.close();
    }
    await expect(serveMetrics(m, '0.0.0.0:0')).rejects.toThrow(/loopback/);
  });
});
