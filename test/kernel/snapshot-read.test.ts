// Snapshots against the real kernel: every service with its destinations (sequential and parallel
// reads, counters on demand), sets with entries, and /proc/net/ip_vs, cross-checked with ipvsadm
// -Sn, the facade and ipset save.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { readProcIpvs } from '../../src/snapshot/ipvs-proc';
import { runRoot, useNetns } from './helpers/netns';

const netns = useNetns();
let h: Handle;

/** `ipvsadm -Sn` lines as "service | destination weight forwarding" facts. */
function facts(save: string): string[] {
  const out: string[] = [];
  for (const line of save.trim().split('\n')) {
    const w = line.split(/\s+/);
    if (w[0] === '-A') out.push(`${w[1]} ${w[2]}`);
    else if (w[0] === '-a') out.push(`${w[1]} ${w[2]} -> ${w[4]} ${w[5]} w${w[w.indexOf('-w') + 1]}`);
  }
  return out.sort();
}

const FLAG: Record<string, string> = { masq: '-m', route: '-g', tunnel: '-i', local: '-m' };
const hostPort = (a: string, p: number) => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

beforeAll(async () => {
  const ns = netns();
  const cmds: string[][] = [
    ['-A', '-t', '10.96.0.1:80', '-s', 'rr'],
    ['-A', '-u', '10.96.0.2:53', '-s', 'wlc', '-p', '60'],
    ['-A', '-t', '[fd00::1]:443', '-s', 'sh', '-b', 'sh-port'],
    ['-A', '-f', '7', '-s', 'rr'],
  ];
  for (let d = 1; d <= 12; d++) cmds.push(['-a', '-t', '10.96.0.1:80', '-r', `172.16.0.${d}:8080`, '-m', '-w', String(d)]);
  cmds.push(['-a', '-u', '10.96.0.2:53', '-r', '172.16.1.1:53', '-g', '-w', '0']);
  cmds.push(['-a', '-t', '[fd00::1]:443', '-r', '[fd00::2]:443', '-i', '-w', '3']);
  cmds.push(['-a', '-f', '7', '-r', '172.16.2.1:0', '-m', '-w', '1', '-x', '50', '-y', '5']);
  // One process each: ipvsadm -R and ipset restore read their commands from stdin.
  const rules = cmds.map((c) => c.join(' ')).join('\n');
  await ns.run('sh', ['-c', `ipvsadm -R <<'EOF'\n${rules}\nEOF`]);
  const sets = ['create SNAP hash:ip,port comment'];
  for (let i = 1; i <= 300; i++) sets.push(`add SNAP 10.0.${i >> 8}.${i & 255},tcp:80 comment e${i}`);
  await ns.run('sh', ['-c', `ipset restore <<'EOF'\n${sets.join('\n')}\nEOF`]);
  h = openHandle({ netns: ns.path });
}, 300_000);
afterAll(() => h?.close());

describe('snapshot', () => {
  it('reads every service with its destinations, as ipvsadm -Sn and the facade do', async () => {
    const snap = await h.snapshot();
    expect(snap.ipvs).toHaveLength(4);
    expect(snap.durationMs).toBeGreaterThan(0);
    const ours = snap.ipvs!.flatMap((s) => {
      const svc = 'fwmark' in s ? `-f ${s.fwmark}` : `${s.protocol === 'tcp' ? '-t' : '-u'} ${hostPort(s.address, s.port)}`;
      return [svc, ...s.destinations.map((d) => `${svc} -> ${hostPort(d.address, d.port)} ${FLAG[d.forwarding]} w${d.weight}`)];
    }).sort();
    expect(ours).toEqual(facts((await netns().run('ipvsadm', ['-Sn'])).stdout));
    for (const s of snap.ipvs!) {
      const { destinations, ...svc } = s;
      const facade = await h.ipvs.listDestinations('fwmark' in s ? { fwmark: s.fwmark } : s);
      expect(destinations).toEqual(facade.map(({ stats: _s, ...d }) => d));
      expect(svc).toMatchObject({ scheduler: expect.any(String), family: expect.stringMatching(/^inet6?$/) });
    }
    const fw = snap.ipvs!.find((s) => 'fwmark' in s)!;
    expect(fw.destinations[0]).toMatchObject({ upperThreshold: 50, lowerThreshold: 5 });
    expect(fw.destinations[0]).not.toHaveProperty('stats');
  });

  it('reads the same over several sockets at once, and counters when asked', async () => {
    const seq = await h.snapshot();
    const par = await h.snapshot({ ipvs: { strategy: 'parallel', sockets: 3 } });
    expect(par.ipvs).toEqual(seq.ipvs);
    const withStats = await h.snapshot({ ipvs: { stats: true } });
    for (const s of withStats.ipvs!) for (const d of s.destinations) expect(typeof d.stats?.conns).toBe('bigint');
  });

  it('reads sets with their entries, as ipset save', async () => {
    const snap = await h.snapshot({ ipvs: false, sets: ['SNAP'] });
    expect(snap.ipvs).toBeUndefined();
    expect(snap.sets).toHaveLength(1);
    expect(snap.sets![0]!.entries).toHaveLength(300);
    const saved = (await netns().run('ipset', ['save', 'SNAP'])).stdout.split('\n').filter((l) => l.startsWith('add ')).length;
    expect(saved).toBe(300);
    expect(snap.sets![0]!.entries!.find((e) => e.ip === '10.0.1.44')).toMatchObject({ proto: 'tcp', port: 80, comment: 'e300' });
  });

  it('reads /proc/net/ip_vs of the namespace (through a process inside it) with the same keys and weights', async () => {
    const sleeper = spawn('ip', ['netns', 'exec', netns().name, 'sleep', '30'], { stdio: 'ignore' });
    try {
      let pid = '';
      for (let i = 0; i < 50 && !pid; i++) {
        pid = (await runRoot('ip', ['netns', 'pids', netns().name])).stdout.trim().split('\n')[0] ?? '';
        if (!pid) await new Promise((r) => setTimeout(r, 100));
      }
      const proc = await readProcIpvs(`/proc/${pid}/net/ip_vs`);
      const snap = await h.snapshot();
      type Row = { fwmark?: number; protocol?: string; address?: string; port?: number; destinations: { address: string; port: number; weight: number }[] };
      const view = (list: readonly Row[]) => list.map((s) => {
        const key = s.fwmark !== undefined ? `f${s.fwmark}` : `${s.protocol} ${s.address} ${s.port}`;
        return `${key}: ${s.destinations.map((d) => `${d.address}:${d.port}/${d.weight}`).sort().join(' ')}`;
      }).sort();
      expect(view(proc as readonly Row[])).toEqual(view(snap.ipvs as readonly Row[]));
      expect(proc.find((s) => 'protocol' in s && s.protocol === 'udp')?.persistent?.jiffies).toBeGreaterThan(0);
    } finally {
      sleeper.kill();
    }
  });
});
