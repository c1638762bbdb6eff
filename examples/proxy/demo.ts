/**
 * `npm run demo`: the proxy example doing its job on real traffic, narrated. Runs as root on a
 * kernel with IPVS (scripts/demo.mjs boots the project's VM for it when this machine has none):
 * builds the lab (examples/proxy/lab.ts), starts the proxy on a config, sends requests, edits the
 * config under it, breaks things behind its back, and shows what the kernel holds after each step,
 * read back through the library.
 */
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIpsetEntry, openHandle, type Handle } from 'ipvs';
import { Lab, startProxy, type ProxyProcess, type Traffic } from './lab';

const color = process.stdout.isTTY || process.env.FORCE_COLOR ? (c: number) => (s: string) => `\x1b[${c}m${s}\x1b[0m` : () => (s: string) => s;
const bold = color(1);
const dim = color(2);
const cyan = color(36);
const green = color(32);
const out = (s = '') => process.stdout.write(`${s}\n`);
const step = (n: number, title: string) => out(`\n${bold(`${n}. ${title}`)}`);

const B = ['10.244.0.11', '10.244.0.12', '10.244.0.13'];

function config(services: { name: string; ip: string; port: number; endpoints: string[]; affinity?: number }[]): string {
  const lines = ['services:'];
  for (const s of services) {
    lines.push(`  - name: ${s.name}`, `    ips: [${s.ip}]`, `    ports: [{ port: ${s.port}, protocol: tcp, targetPort: 8080 }]`);
    if (s.affinity) lines.push(`    sessionAffinity: { timeoutSeconds: ${s.affinity} }`);
    lines.push(`    endpoints: [${s.endpoints.map((e) => `{ address: ${e} }`).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the config the way config tools should: a new file renamed over the old one. */
function save(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

function showConfig(text: string): void {
  for (const l of text.trimEnd().split('\n')) out(dim(`   | ${l}`));
}

/** The kernel's state in the proxy's namespace, read with the library. */
async function showKernel(h: Handle): Promise<void> {
  out(`   ${cyan('IPVS')} (ipvsadm -Ln layout)`);
  const services = (await h.ipvs.listAll()).filter((s) => 'address' in s);
  if (services.length === 0) out('     (no services)');
  for (const s of services) {
    if (!('address' in s)) continue;
    const host = s.address.includes(':') ? `[${s.address}]` : s.address;
    out(`     ${s.protocol.toUpperCase()}  ${host}:${s.port} ${s.scheduler}${s.persistent ? ` persistent ${s.persistent}` : ''}`);
    for (const d of [...s.destinations].sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }))) {
      out(`       -> ${`${d.address}:${d.port}`.padEnd(22)} ${d.forwarding === 'masq' ? 'Masq' : d.forwarding}  weight ${d.weight}  active ${d.activeConns}  inactive ${d.inactiveConns}`);
    }
  }
  const link = await h.links.find('kube-ipvs0');
  const addrs = link ? (await h.addresses.list(link.ifindex)).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`) : [];
  out(`   ${cyan('kube-ipvs0')} ${link ? `(dummy, ${link.flags.includes('UP') ? 'up' : 'down'}): ${addrs.join('  ') || 'no addresses'}` : '(no such link)'}`);
  out(`   ${cyan('ipsets')}`);
  const sets = await h.ipset.listAll();
  if (sets.length === 0) out('     (no sets)');
  for (const set of sets) {
    const entries = (set.entries ?? []).map((e) => formatIpsetEntry(set.type, e)).sort();
    out(`     ${set.name.padEnd(18)} ${set.type.padEnd(16)} ${entries.join('  ') || '(empty)'}`);
  }
}

function showTraffic(label: string, t: Traffic, backends: string[]): void {
  const total = Object.values(t.counts).reduce((a, b) => a + b, 0) + t.failures;
  out(`   ${label}: ${total} requests, ${t.failures} failed`);
  for (const b of backends) {
    const n = t.counts[b] ?? 0;
    out(`     ${b.padEnd(14)} ${green('█'.repeat(n))}${n ? ' ' : ''}${n}`);
  }
}

async function main(): Promise<number> {
  out(bold('ipvs demo: a minimal kube-proxy (examples/proxy) carrying real traffic'));
  const lab = await Lab.create({ prefix: 'demo', backends: 3 });
  // tmpfs: file watching works there (the VM's /tmp is hostfs, which sends no inotify events).
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ipvs-demo-'));
  const file = join(dir, 'proxy.yaml');
  let proxy: ProxyProcess | null = null;
  const h = openHandle({ netns: lab.nodePath });
  try {
    out(dim(`   lab: client ${'10.0.1.2'} -> node (the proxy's namespace, ${lab.node}) -> HTTP backends ${B.join(', ')} :8080`));

    step(1, 'Start the proxy on a config with two services');
    const web = { name: 'default/web', ip: '10.96.0.10', port: 80, endpoints: B };
    const sticky = { name: 'default/sticky', ip: '10.96.0.11', port: 80, endpoints: B, affinity: 300 };
    let text = config([web, sticky]);
    save(file, text);
    showConfig(text);
    proxy = startProxy(['--config', file, '--netns', lab.nodePath, '--metrics', '127.0.0.1:0', '--sync-period', '2', '--drain-timeout', '3'], (l) => out(`   ${dim('[proxy]')} ${l}`));
    await proxy.waitFor(/^sync 1 /, 60_000);
    await showKernel(h);

    step(2, 'Requests from the client to the virtual IPs');
    showTraffic('10.96.0.10:80 (rr)', await lab.traffic('10.96.0.10', 80, 30), B);
    showTraffic('10.96.0.11:80 (rr, session affinity 300 s)', await lab.traffic('10.96.0.11', 80, 9), B);

    step(3, `Remove endpoint ${B[2]} from the file`);
    text = config([{ ...web, endpoints: B.slice(0, 2) }, sticky]);
    save(file, text);
    await proxy.waitFor(/^sync \d+ \([^)]*config changed/);
    showTraffic('10.96.0.10:80', await lab.traffic('10.96.0.10', 80, 20), B);
    out(dim('   it drains: weight 0 at once (no new connections), deleted when its connections end or --drain-timeout passes'));
    await proxy.waitFor(/destinations .*-1/, 20_000);

    step(4, 'Add a service');
    const api = { name: 'default/api', ip: '10.96.0.20', port: 8080, endpoints: [B[2]!] };
    text = config([{ ...web, endpoints: B.slice(0, 2) }, sticky, api]);
    save(file, text);
    await proxy.waitFor(/^sync \d+ \([^)]*config changed/);
    showTraffic('10.96.0.20:8080', await lab.traffic('10.96.0.20', 8080, 5), B);

    step(5, 'Break things behind its back: delete a virtual IP with ip and a service with ipvsadm');
    await lab.exec(lab.node, 'ip', ['addr', 'del', '10.96.0.10/32', 'dev', 'kube-ipvs0']);
    await lab.exec(lab.node, 'ipvsadm', ['-D', '-t', '10.96.0.20:8080']);
    await proxy.waitFor(/services \+1/, 15_000);
    showTraffic('10.96.0.10:80', await lab.traffic('10.96.0.10', 80, 4), B);
    showTraffic('10.96.0.20:8080', await lab.traffic('10.96.0.20', 8080, 2), B);

    step(6, 'A config with a mistake: reported with its line; the last good state stays');
    save(file, text.replace('protocol: tcp, targetPort: 8080 }]\n    endpoints: [{ address: 10.244.0.13 }]', 'protocol: tpc, targetPort: 8080 }]\n    endpoints: [{ address: 10.244.0.13 }]'));
    await proxy.waitFor(/^config: .*:\d+: /);
    showTraffic('10.96.0.20:8080', await lab.traffic('10.96.0.20', 8080, 2), B);

    step(7, 'Metrics (Prometheus text format, on localhost)');
    const metrics = await (await fetch(await proxy.metricsUrl())).text();
    for (const l of metrics.split('\n')) {
      if (/^ipvs_proxy_(syncs_total|sync_duration_seconds_(sum|count)|objects|config_last)/.test(l)) out(`   ${l}`);
    }

    step(8, 'SIGTERM: the proxy stops, the data plane stays');
    await proxy.stop('SIGTERM');
    showTraffic('10.96.0.10:80', await lab.traffic('10.96.0.10', 80, 4), B);

    step(9, 'proxy --cleanup: removes what it owns, and nothing else');
    await lab.exec(lab.node, 'ipvsadm', ['-A', '-t', '192.168.77.1:80', '-s', 'wlc']);
    out(dim("   (someone else's service, outside the proxy's ranges: ipvsadm -A -t 192.168.77.1:80)"));
    const cleanup = startProxy(['--cleanup', '--netns', lab.nodePath], (l) => out(`   ${dim('[proxy]')} ${l}`));
    await cleanup.exited;
    await showKernel(h);
    out(`\n${bold('done.')} The proxy is examples/proxy/main.ts; run it yourself with --help.`);
    return 0;
  } finally {
    await proxy?.stop('SIGKILL');
    h.close();
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`demo: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
