import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../examples/proxy/config';
import { allSetNames, desiredPlane, planSize } from '../../examples/proxy/desired';
import { Metrics } from '../../examples/proxy/metrics';

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

describe('proxy example: metrics', () => {
  it('renders the Prometheus text format', () => {
    const m = new Metrics();
    m.recordReload(true);
    m.recordSync(true, 0.004, { 'service+': 2, 'destination+': 3 });
    m.recordSync(false, 0.2);
    m.setObjects({ service: 2, destination: 3, address: 1, ipset_entry: 4 }, 1);
    const text = m.render();
    expect(text).toContain('# TYPE ipvs_proxy_syncs_total counter\nipvs_proxy_syncs_total{result="ok"} 1\nipvs_proxy_syncs_total{result="error"} 1\n');
    expect(text).toContain('ipvs_proxy_sync_duration_seconds_bucket{le="0.005"} 1\n');
    expect(text).toContain('ipvs_proxy_sync_duration_seconds_bucket{le="0.25"} 2\n');
    expect(text).toContain('ipvs_proxy_sync_duration_seconds_bucket{le="+Inf"} 2\nipvs_proxy_sync_duration_seconds_sum 0.204\nipvs_proxy_sync_duration_seconds_count 2\n');
    expect(text).toContain('ipvs_proxy_objects{kind="ipset_entry"} 4\n');
    expect(text).toContain('ipvs_proxy_changes_total{kind="destination+"} 3\n');
    expect(text).toContain('ipvs_proxy_draining_destinations 1\n');
    // Every sample line is `name{labels} value`, every family has HELP and TYPE.
    for (const line of text.trimEnd().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[a-z_]+="[^"]*"\})? -?[\d.e+-]+)$/);
    }
  });
});
