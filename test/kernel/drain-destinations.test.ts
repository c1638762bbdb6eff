// Graceful drain with real connections: a client inside the namespace holds a TCP connection
// through an IPVS service to a local server; the destination goes to weight 0 at once and is
// deleted only when its connections are gone (or at the deadline). UDP destinations go at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { netnsForTest, type Netns } from './helpers/netns';

const VIP = { protocol: 'tcp' as const, address: '10.96.0.1', port: 80 };
const BACKEND = { address: '10.1.0.2', port: 8080 };
const OTHER = { address: '10.1.0.3', port: 8080 };

let handles: Handle[] = [];
let children: ChildProcess[] = [];
afterEach(() => {
  for (const h of handles) h.close();
  for (const c of children) c.kill('SIGKILL');
  handles = [];
  children = [];
});

function bg(ns: Netns, script: string): ChildProcess {
  const c = spawn('ip', ['netns', 'exec', ns.name, 'python3', '-c', script], { stdio: 'ignore' });
  children.push(c);
  return c;
}

const SERVER = `
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('10.1.0.2', 8080)); s.listen(16)
held = []
while True:
    c, _ = s.accept(); held.append(c)
`;
// Closing with a reset: IPVS keeps a reset connection as inactive for 10 s (CLOSE), against a minute
// or two for the FIN states, and only the established and FIN timeouts can be shortened.
const client = (seconds: number) => `
import socket, struct, time
c = socket.create_connection(('10.96.0.1', 80), timeout=5)
time.sleep(${seconds})
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
c.close()
`;

async function setup(): Promise<{ ns: Netns; h: Handle }> {
  const ns = await netnsForTest();
  await ns.run('ip', ['addr', 'add', '10.96.0.1/32', 'dev', 'lo']);
  await ns.run('ip', ['addr', 'add', '10.1.0.2/32', 'dev', 'lo']);
  await ns.run('ip', ['addr', 'add', '10.1.0.3/32', 'dev', 'lo']);
  // Closed connections leave the inactive count after 1 s instead of 2 min (tcp, tcpfin, udp).
  await ns.run('ipvsadm', ['--set', '900', '1', '300']);
  const h = openHandle({ netns: ns.path });
  handles.push(h);
  await h.ipvs.addService({ ...VIP, scheduler: 'rr' });
  await h.ipvs.addDestination(VIP, { ...BACKEND, forwarding: 'masq', weight: 1 });
  bg(ns, SERVER);
  return { ns, h };
}

async function connections(h: Handle): Promise<number> {
  const [d] = (await h.ipvs.listDestinations(VIP)).filter((x) => x.address === BACKEND.address);
  return d ? d.activeConns + d.inactiveConns : -1;
}

async function until(what: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('drain', () => {
  it('sets weight 0 at once and deletes when the connections are gone', async () => {
    const { ns, h } = await setup();
    await new Promise((r) => setTimeout(r, 500)); // server listening
    bg(ns, client(1.5));
    await until(async () => (await connections(h)) > 0);
    const draining = h.drainDestinations(VIP, [BACKEND, OTHER], { timeoutMs: 30_000, pollMs: 250 });
    await until(async () => (await h.ipvs.listDestinations(VIP)).find((d) => d.address === BACKEND.address)?.weight === 0);
    expect((await ns.run('ipvsadm', ['-Sn'])).stdout).toContain('-r 10.1.0.2:8080 -m -w 0');
    const r = await draining;
    const backend = r.destinations.find((d) => d.destination.address === BACKEND.address)!;
    expect(backend).toMatchObject({ outcome: 'drained', connections: 0 });
    expect(backend.waitedMs).toBeGreaterThan(500);
    expect(r.destinations.find((d) => d.destination.address === OTHER.address)).toMatchObject({ outcome: 'gone' });
    expect((await ns.run('ipvsadm', ['-Sn'])).stdout).not.toContain('10.1.0.2');
  });

  it('deletes at the deadline when connections stay, and UDP destinations at once', async () => {
    const { ns, h } = await setup();
    const udp = { protocol: 'udp' as const, address: '10.96.0.1', port: 53 };
    await h.ipvs.addService({ ...udp, scheduler: 'rr' });
    await h.ipvs.addDestination(udp, { address: '10.1.0.2', port: 53, forwarding: 'masq' });
    await new Promise((r) => setTimeout(r, 500));
    bg(ns, client(60));
    await until(async () => (await connections(h)) > 0);
    const t0 = Date.now();
    const [tcp, u] = await Promise.all([
      h.drainDestinations(VIP, [BACKEND], { timeoutMs: 1500, pollMs: 200 }),
      h.drainDestinations(udp, [{ address: '10.1.0.2', port: 53 }], { timeoutMs: 1500 }),
    ]);
    expect(tcp.destinations[0]).toMatchObject({ outcome: 'deadline' });
    expect(tcp.destinations[0]!.connections).toBeGreaterThan(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(u.destinations[0]).toMatchObject({ outcome: 'immediate' });
    expect((await ns.run('ipvsadm', ['-Sn'])).stdout).not.toContain('10.1.0.2');
  });

  it('reconcile drains a removed destination that has connections', async () => {
    const { ns, h } = await setup();
    await new Promise((r) => setTimeout(r, 500));
    bg(ns, client(1));
    await until(async () => (await connections(h)) > 0);
    const r = await h.reconcile(
      { ipvs: [{ ...VIP, scheduler: 'rr', destinations: [{ ...OTHER, forwarding: 'masq' }] }] },
      { drain: { timeoutMs: 30_000, pollMs: 250 } },
    );
    expect(r.ok).toBe(true);
    expect(r.plan.ipvs).toContainEqual(expect.objectContaining({ kind: 'deleteDestination', drain: true }));
    expect(r.drained!.destinations).toEqual([expect.objectContaining({ outcome: 'drained' })]);
    const saved = (await ns.run('ipvsadm', ['-Sn'])).stdout;
    expect(saved).toContain('10.1.0.3:8080');
    expect(saved).not.toContain('10.1.0.2');
  });
});
