// The rest of IPVS on the real kernel: time-outs, info, zeroing counters, flush, connection-sync
// daemons, and many changes in one exchange with a result each; cross-checked with ipvsadm.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { useNetns } from './helpers/netns';
import { connectTo, ipvsadm, refused, saved } from './ipvs-helpers';

const netns = useNetns();
let h: Handle;
beforeAll(async () => {
  h = openHandle({ netns: netns().path });
  await netns().run('ip', ['addr', 'add', '10.0.0.1/32', 'dev', 'lo']);
});
afterAll(() => h?.close());

const web = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
const dns = { protocol: 'tcp', address: '10.0.0.1', port: 53 } as const;

describe('IPVS time-outs, info, zero, flush', () => {
  it('reads and sets the time-outs; absent ones stay; ipvsadm agrees both ways', async () => {
    const before = await h.ipvs.getTimeouts();
    expect(await ipvsadm(netns(), '-L', '--timeout')).toBe(`Timeout (tcp tcpfin udp): ${before.tcp} ${before.tcpFin} ${before.udp}\n`);
    await h.ipvs.setTimeouts({ tcp: 1000 });
    expect(await ipvsadm(netns(), '-L', '--timeout')).toBe(`Timeout (tcp tcpfin udp): 1000 ${before.tcpFin} ${before.udp}\n`);
    await ipvsadm(netns(), '--set', '0', '60', '45');
    expect(await h.ipvs.getTimeouts()).toEqual({ tcp: 1000, tcpFin: 60, udp: 45 });
    await h.ipvs.setTimeouts(before);
    expect(await h.ipvs.getTimeouts()).toEqual(before);
    await expect(h.ipvs.setTimeouts({ udp: 0 })).rejects.toThrow(RangeError);
    await expect(h.ipvs.setTimeouts({})).rejects.toThrow(TypeError);
  });

  it('reads the version and connection table size ipvsadm prints', async () => {
    const info = await h.ipvs.getInfo();
    expect(info.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await ipvsadm(netns(), '-Ln')).split('\n')[0]).toBe(`IP Virtual Server version ${info.version} (size=${info.connTableSize})`);
  });

  it('zeroes one service\'s counters or all of them; ipvsadm -Z likewise', async () => {
    await h.ipvs.flush();
    for (const s of [web, dns]) {
      await h.ipvs.addService({ ...s, scheduler: 'rr' });
      await h.ipvs.addDestination(s, { address: '10.9.9.1', port: s.port, forwarding: 'tunnel' });
    }
    // packets in, per service and its destination (a retried SYN may reuse a connection entry, so not conns)
    const moved = async () => Object.fromEntries((await h.ipvs.listAll())
      .map((s) => [(s as { port: number }).port, [s.stats.inpkts > 0n, s.destinations[0]!.stats.inpkts > 0n]]));
    // 6.1 folds the per-CPU counters into what it reports every 2 s (estimation_timer): wait for it
    const until = async (want: Record<string, boolean[]>) => {
      for (let i = 0; i < 30 && JSON.stringify(await moved()) !== JSON.stringify(want); i++) await new Promise((r) => setTimeout(r, 200));
      expect(await moved()).toEqual(want);
    };
    await connectTo(netns(), web.address, web.port);
    await connectTo(netns(), dns.address, dns.port);
    await until({ 53: [true, true], 80: [true, true] });
    await h.ipvs.zero(web);
    expect(await moved()).toEqual({ 53: [true, true], 80: [false, false] });
    expect(await ipvsadm(netns(), '-Ln', '--stats')).toMatch(/^TCP {2}10\.0\.0\.1:80 +0 +0 +0 +0 +0$/m);
    await ipvsadm(netns(), '-Z', '-t', '10.0.0.1:53');
    expect(await moved()).toEqual({ 53: [false, false], 80: [false, false] });
    await connectTo(netns(), web.address, web.port);
    await until({ 53: [false, false], 80: [true, true] });
    await h.ipvs.zero();
    expect(await moved()).toEqual({ 53: [false, false], 80: [false, false] });
    await refused(h.ipvs.zero({ fwmark: 99 }), 'ESRCH', 'ipvs.zero', /service fwmark 99 not defined/);
  });

  it('flushes, ipvsadm -C too', async () => {
    await h.ipvs.replaceService({ ...web, scheduler: 'rr' });
    await h.ipvs.flush();
    expect(await saved(netns())).toEqual([]);
    await ipvsadm(netns(), '-A', '-t', '10.0.0.1:80');
    await ipvsadm(netns(), '-C');
    expect(await h.ipvs.listServices()).toEqual([]);
  });
});

describe('IPVS connection-sync daemons', () => {
  it('starts master and backup with every option; ipvsadm lists them; stops them', async () => {
    await h.ipvs.flush();
    await h.ipvs.startDaemon({ state: 'master', interface: 'lo', syncId: 5, syncMaxLen: 1000, group: '224.0.0.99', port: 9000, ttl: 3 });
    await h.ipvs.startDaemon({ state: 'backup', interface: 'lo', syncId: 6, group: 'ff02::99' });
    expect(await ipvsadm(netns(), '-L', '--daemon')).toBe(
      'master sync daemon (mcast=lo, syncid=5, maxlen=1000, group=224.0.0.99, port=9000, ttl=3)\n'
      + 'backup sync daemon (mcast=lo, syncid=6, maxlen=65487, group=ff02::99, port=8848, ttl=1)\n',
    );
    expect(await h.ipvs.listDaemons()).toEqual([
      { state: 'master', interface: 'lo', syncId: 5, syncMaxLen: 1000, group: '224.0.0.99', port: 9000, ttl: 3 },
      { state: 'backup', interface: 'lo', syncId: 6, syncMaxLen: 65487, group: 'ff02::99', port: 8848, ttl: 1 },
    ]);
    await refused(h.ipvs.startDaemon({ state: 'master', interface: 'lo' }), 'EEXIST', 'ipvs.startDaemon', /a master sync daemon is already running/);
    await h.ipvs.stopDaemon('master');
    await ipvsadm(netns(), '--stop-daemon', 'backup');
    expect(await h.ipvs.listDaemons()).toEqual([]);
    await refused(h.ipvs.stopDaemon('backup'), 'ESRCH', 'ipvs.stopDaemon', /no backup sync daemon is running/);
  });

  it('answers a stop right after a start (the kernel sends no ack then: kthread_stop -EINTR)', async () => {
    for (const state of ['master', 'backup', 'master'] as const) {
      await h.ipvs.startDaemon({ state, interface: 'lo' });
      await h.ipvs.stopDaemon(state);
    }
    const results = await h.ipvs.apply([
      { kind: 'startDaemon', daemon: { state: 'backup', interface: 'lo' } }, { kind: 'stopDaemon', state: 'backup' },
    ]);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(await h.ipvs.listDaemons()).toEqual([]);
  });

  it('reads a daemon ipvsadm started with its defaults', async () => {
    await ipvsadm(netns(), '--start-daemon', 'backup', '--mcast-interface', 'lo', '--syncid', '9');
    expect(await h.ipvs.listDaemons()).toMatchObject([{ state: 'backup', interface: 'lo', syncId: 9, group: '224.0.0.81', port: 8848 }]);
    await h.ipvs.stopDaemon('backup');
  });

  it('explains the refusals: no such interface, destinations of the other family', async () => {
    await refused(h.ipvs.startDaemon({ state: 'master', interface: 'nosuch0' }), 'ENODEV', 'ipvs.startDaemon', /no interface named 'nosuch0'/);
    await h.ipvs.addService({ ...web, scheduler: 'rr' });
    await h.ipvs.addDestination(web, { address: 'fd00::5', port: 80, forwarding: 'tunnel' });
    const err = await refused(h.ipvs.startDaemon({ state: 'master', interface: 'lo' }), 'EINVAL', 'ipvs.startDaemon');
    expect(err.message).toMatch(/another address family/);
    expect((await netns().exec('ipvsadm', ['--start-daemon', 'master', '--mcast-interface', 'lo'])).code).not.toBe(0);
    await h.ipvs.flush();
    await expect(h.ipvs.startDaemon({ state: 'master', interface: 'lo', group: '10.0.0.1' })).rejects.toThrow(/multicast/);
  });
});

describe('IPVS changes in one exchange', () => {
  it('returns a result per change, in order, and carries on past a refusal', async () => {
    await h.ipvs.flush();
    const results = await h.ipvs.apply([
      { kind: 'addService', service: { ...web, scheduler: 'rr' } },
      { kind: 'addDestination', service: web, destination: { address: '10.9.9.1', port: 80, forwarding: 'tunnel' } },
      { kind: 'addDestination', service: dns, destination: { address: '10.9.9.1', port: 53, forwarding: 'tunnel' } },
      { kind: 'addService', service: { ...web, scheduler: 'rr' } },
      { kind: 'setTimeouts', timeouts: { udp: 301 } },
      { kind: 'zero' },
      { kind: 'deleteDestination', service: web, destination: { address: '10.9.9.2', port: 80 } },
      { kind: 'addService', service: { ...dns, scheduler: 'wlc' } },
    ]);
    expect(results.map((r) => (r.status === 'ok' ? 'ok' : r.error.code))).toEqual(['ok', 'ok', 'ESRCH', 'EEXIST', 'ok', 'ok', 'ENOENT', 'ok']);
    expect(results[2]!.status === 'error' && results[2]!.error.message).toBe('ipvs.addDestination: service 10.0.0.1:53/tcp not defined (ESRCH)');
    expect((await saved(netns())).sort()).toEqual(['-A -t 10.0.0.1:53 -s wlc', '-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.9.9.1:80 -i -w 1 --tun-type ipip']);
    expect((await h.ipvs.getTimeouts()).udp).toBe(301);
  });

  it('stops at the first refusal when asked; the rest are unknown', async () => {
    await h.ipvs.flush();
    const results = await h.ipvs.apply([
      { kind: 'deleteService', service: web },
      { kind: 'addService', service: { ...web, scheduler: 'rr' } },
    ], { stopOnError: true });
    expect(results.map((r) => r.status)).toEqual(['error', 'unknown']);
    expect(await h.ipvs.listServices()).toEqual([]);
  });
});
