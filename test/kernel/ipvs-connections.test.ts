// The IPVS connection table on the real kernel: what h.ipvs.listConnections() reads from the
// namespace's /proc/net/ip_vs_conn, and `ipvs list -c` against `ipvsadm -Lnc` in the same
// namespace; thousands of entries (more than one read of the file); namespaces kept apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { useNetns, type Netns } from './helpers/netns';
import { cli, ipvsadm } from './ipvs-helpers';

const netns = useNetns();
const other = useNetns();
let h: Handle;

async function setup(ns: Netns): Promise<void> {
  const e = (args: string[]) => ns.run(args[0]!, args.slice(1));
  await e(['ip', 'link', 'add', 'd0', 'type', 'dummy']);
  await e(['ip', 'addr', 'add', '10.0.0.2/8', 'dev', 'd0']);
  await e(['ip', '-6', 'addr', 'add', 'fd00::2/64', 'dev', 'd0', 'nodad']);
  await e(['ip', 'link', 'set', 'd0', 'up']);
}

/** SYNs to tunnels nobody answers (each a SYN_RECV entry for a minute) and one UDP datagram. */
async function traffic(ns: Netns): Promise<void> {
  const targets = ['10.0.0.1/80', '10.0.0.1/80', '10.0.0.5/443', 'fd00::1/80'];
  const script = `${targets.map((t) => `(echo > /dev/tcp/${t.split('/')[0]}/${t.split('/')[1]}) 2>/dev/null &`).join(' ')} echo hi > /dev/udp/10.0.0.7/53; wait`;
  await ns.exec('timeout', ['1', 'bash', '-c', script]);
}

/** `n` UDP datagrams from as many source ports: `n` connection entries. */
async function udpFlood(ns: Netns, n: number): Promise<void> {
  const js = `const d = require('dgram'); let left = ${n};
    function batch() { const k = Math.min(200, left); if (k === 0) return; let done = 0;
      for (let i = 0; i < k; i++) { const s = d.createSocket('udp4');
        s.send('x', 53, '10.0.0.7', () => { s.close(); if (++done === k) { left -= k; batch(); } }); } }
    batch();`;
  await ns.run(process.execPath, ['-e', js]);
}

beforeAll(async () => {
  await setup(netns());
  h = openHandle({ netns: netns().path });
  await h.ipvs.addService({ protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr' });
  await h.ipvs.addDestination({ protocol: 'tcp', address: '10.0.0.1', port: 80 }, { address: '10.9.9.1', port: 80, forwarding: 'tunnel' });
  await h.ipvs.addService({ protocol: 'tcp', address: '10.0.0.5', port: 443, scheduler: 'rr', persistent: 300 });
  await h.ipvs.addDestination({ protocol: 'tcp', address: '10.0.0.5', port: 443 }, { address: '10.9.9.3', port: 443, forwarding: 'tunnel' });
  await h.ipvs.addService({ protocol: 'udp', address: '10.0.0.7', port: 53, scheduler: 'rr' });
  await h.ipvs.addDestination({ protocol: 'udp', address: '10.0.0.7', port: 53 }, { address: '10.9.9.4', port: 53, forwarding: 'tunnel' });
  await h.ipvs.addService({ protocol: 'tcp', address: 'fd00::1', port: 80, scheduler: 'rr' });
  await h.ipvs.addDestination({ protocol: 'tcp', address: 'fd00::1', port: 80 }, { address: 'fd00::9', port: 80, forwarding: 'tunnel' });
});
afterAll(() => h?.close());

/** Reads ipvsadm, `read`, then ipvsadm again until both ipvsadm reads agree (expiry ticks each second). */
async function sameMoment<T>(ns: Netns, args: string[], read: () => Promise<T>): Promise<[string, T]> {
  for (let attempt = 0; ; attempt++) {
    const before = await ipvsadm(ns, ...args);
    const ours = await read();
    const after = await ipvsadm(ns, ...args);
    if (before === after || attempt === 9) return [after, ours];
  }
}

describe('IPVS connections', () => {
  it('lists connections and persistence templates as /proc/net/ip_vs_conn and ipvsadm -Lnc show them', async () => {
    await traffic(netns());
    const [listing, conns] = await sameMoment(netns(), ['-Lnc'], () => h.ipvs.listConnections());
    const rows = listing.split('\n').slice(2).filter(Boolean);
    expect(conns).toHaveLength(rows.length);
    expect(conns.length).toBeGreaterThanOrEqual(6);
    const tcp = conns.filter((c) => c.protocol === 'tcp' && !c.template);
    expect(tcp.map((c) => `${c.virtualAddress}:${c.virtualPort}`).sort()).toEqual(['10.0.0.1:80', '10.0.0.1:80', '10.0.0.5:443', 'fd00::1:80']);
    for (const c of tcp) expect(c).toMatchObject({ state: 'SYN_RECV', clientAddress: c.family === 'inet' ? '10.0.0.2' : 'fd00::2' });
    expect(conns.filter((c) => c.template)).toEqual([expect.objectContaining({
      protocol: 'tcp', clientAddress: '10.0.0.2', clientPort: 0, virtualAddress: '10.0.0.5', virtualPort: 443, destinationAddress: '10.9.9.3', state: 'NONE',
    })]);
    expect(conns.find((c) => c.protocol === 'udp')).toMatchObject({ state: 'UDP', virtualPort: 53, destinationAddress: '10.9.9.4' });
    for (const c of conns) expect(c.expires).toBeGreaterThan(0);
  });

  it('ipvs list -c prints exactly what ipvsadm -Lnc prints (also --persistent-conn, and --json)', async () => {
    for (const args of [['-Lnc'], ['-Lnc', '--persistent-conn']]) {
      const ours = ['list', '-c', ...args.slice(1)];
      const [theirs, mine] = await sameMoment(netns(), args, () => cli(netns(), ours));
      expect(mine.code).toBe(0);
      expect(mine.out).toBe(theirs);
    }
    const json = await cli(netns(), ['list', '--connection', '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.out) as { virtualAddress: string }[];
    expect(parsed.length).toBeGreaterThanOrEqual(6);
    expect(parsed.some((c) => c.virtualAddress === 'fd00::1')).toBe(true);
  });

  it('reads thousands of entries, more than one read of the file, and keeps namespaces apart', async () => {
    await udpFlood(netns(), 8000);
    const conns = await h.ipvs.listConnections();
    const proc = (await netns().run('cat', ['/proc/net/ip_vs_conn'])).stdout;
    expect(proc.length).toBeGreaterThan(256 * 1024); // the reader's chunk
    const udp = conns.filter((c) => c.protocol === 'udp');
    expect(udp.length).toBeGreaterThan(4000); // fewer than sent: a closed socket's port may serve a later one
    expect(new Set(udp.map((c) => c.clientPort)).size).toBe(udp.length);
    expect(conns.length).toBe(proc.split('\n').filter(Boolean).length - 1);

    const elsewhere = openHandle({ netns: other().path });
    try {
      expect(await elsewhere.ipvs.listConnections()).toEqual([]);
    } finally {
      elsewhere.close();
    }
  });

  it('says plainly when the namespace path does not exist', async () => {
    const lost = openHandle({ netns: '/run/netns/ipvs-no-such-namespace' });
    try {
      await expect(lost.ipvs.listConnections()).rejects.toMatchObject({ name: 'NetlinkError', code: 'ENOENT', op: 'ipvs.listConnections', syscall: 'open' });
    } finally {
      lost.close();
    }
  });
});
