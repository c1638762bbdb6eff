// Destinations on the real kernel: every forwarding method, every tunnel type and checksum mode,
// weights up to the kernel's 32-bit limit, thresholds, real servers of the other family behind a
// tunnel, connection counts and 64-bit counters from real traffic; each checked with ipvsadm both
// ways, and the errors whose meaning depends on the call.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { useNetns } from './helpers/netns';
import { cli, connectTo, ipvsadm, refused, saved } from './ipvs-helpers';

const netns = useNetns();
let h: Handle;
beforeAll(async () => {
  h = openHandle({ netns: netns().path });
  await netns().run('ip', ['addr', 'add', '10.0.0.1/32', 'dev', 'lo']);
  await netns().run('ip', ['addr', 'add', '10.0.0.5/32', 'dev', 'lo']);
});
afterAll(() => h?.close());
beforeEach(async () => { await h.ipvs.flush(); });

const svc = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
const svc6 = { protocol: 'tcp', address: 'fd00::1', port: 443 } as const;

describe('IPVS destinations', () => {
  it('every forwarding method and tunnel variant, written by the library, read by ipvsadm', async () => {
    await h.ipvs.addService({ ...svc, scheduler: 'wrr' });
    const results = await h.ipvs.apply([
      { kind: 'addDestination', service: svc, destination: { address: '192.168.1.1', port: 8080, forwarding: 'masq', weight: 3, upperThreshold: 100, lowerThreshold: 10 } },
      { kind: 'addDestination', service: svc, destination: { address: '10.1.1.2', port: 80, forwarding: 'route', weight: 0x7fffffff } },
      { kind: 'addDestination', service: svc, destination: { address: '10.1.1.3', port: 80, forwarding: 'tunnel' } },
      { kind: 'addDestination', service: svc, destination: { address: '10.1.1.4', port: 80, forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'remcsum' } },
      { kind: 'addDestination', service: svc, destination: { address: '10.1.1.5', port: 80, forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 5555 } },
      { kind: 'addDestination', service: svc, destination: { address: '10.1.1.6', port: 80, forwarding: 'tunnel', tunnelType: 'gre', tunnelChecksum: 'csum' } },
      { kind: 'addDestination', service: svc, destination: { address: '10.1.1.7', port: 80, forwarding: 'tunnel', tunnelType: 'gre' } },
      { kind: 'addDestination', service: svc, destination: { address: '10.1.1.8', port: 80, forwarding: 'local', weight: 2 } },
      { kind: 'addDestination', service: svc, destination: { address: 'fd00::5', port: 80, forwarding: 'tunnel', tunnelType: 'ipip' } },
    ]);
    expect(results.map((r) => r.status)).toEqual(Array(9).fill('ok'));
    expect(await saved(netns())).toEqual([
      '-A -t 10.0.0.1:80 -s wrr',
      '-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3',
      // ipvsadm compares an IPv6 destination's first 32 bits with an IPv4 one's address, as signed
      '-a -t 10.0.0.1:80 -r [fd00::5]:80 -i -w 1 --tun-type ipip',
      '-a -t 10.0.0.1:80 -r 10.1.1.2:80 -g -w 2147483647',
      '-a -t 10.0.0.1:80 -r 10.1.1.3:80 -i -w 1 --tun-type ipip',
      '-a -t 10.0.0.1:80 -r 10.1.1.4:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum',
      '-a -t 10.0.0.1:80 -r 10.1.1.5:80 -i -w 1 --tun-type gue --tun-port 5555 --tun-nocsum',
      '-a -t 10.0.0.1:80 -r 10.1.1.6:80 -i -w 1 --tun-type gre --tun-csum',
      '-a -t 10.0.0.1:80 -r 10.1.1.7:80 -i -w 1 --tun-type gre --tun-nocsum',
      '-a -t 10.0.0.1:80 -r 10.1.1.8:80 -g -w 2',
    ]);
    const listing = await ipvsadm(netns(), '-Ln', '--thresholds');
    expect(listing).toMatch(/^ {2}-> 192\.168\.1\.1:8080 +100 +10 +0 +0 +$/m);
    expect(await ipvsadm(netns(), '-Ln')).toMatch(/^ {2}-> 10\.1\.1\.8:80 +Local +2 /m);
    expect(await ipvsadm(netns(), '-Ln', '--tun-info')).toMatch(/^ {2}-> 10\.1\.1\.4:80 +Tunnel +gue:6080:r\+c +1 /m);

    const back = new Map((await h.ipvs.listDestinations(svc)).map((d) => [d.address, d]));
    expect(back.get('10.1.1.8')).toMatchObject({ forwarding: 'local', weight: 2 });
    expect(back.get('10.1.1.2')).toMatchObject({ weight: 0x7fffffff });
    expect(back.get('fd00::5')).toMatchObject({ family: 'inet6', forwarding: 'tunnel', tunnelType: 'ipip' });
  });

  it('bypass: the kernel keeps it, ipvsadm has no name for it (prints glibc\'s "(null)")', async () => {
    await h.ipvs.addService({ ...svc, scheduler: 'rr' });
    await h.ipvs.addDestination(svc, { address: '10.1.1.9', port: 80, forwarding: 'bypass' });
    expect(await h.ipvs.listDestinations(svc)).toMatchObject([{ address: '10.1.1.9', forwarding: 'bypass' }]);
    expect(await saved(netns())).toContain('-a -t 10.0.0.1:80 -r 10.1.1.9:80 (null) -w 1');
    await h.ipvs.addDestination(svc, { address: '10.1.1.8', port: 80, forwarding: 'local' });
    // the CLI prints what ipvsadm prints, "(null)" included
    expect((await cli(netns(), ['save'])).out).toBe(await ipvsadm(netns(), '-Sn'));
    expect((await cli(netns(), ['list', '-n'])).out).toBe(await ipvsadm(netns(), '-Ln'));
  });

  it('reads every variant ipvsadm wrote, with the other family behind tunnels both ways', async () => {
    for (const line of [
      '-A -t 10.0.0.1:80 -s rr', '-A -t [fd00::1]:443 -s rr', '-A -f 4 -s rr',
      '-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 7 -x 50 -y 5',
      '-a -t 10.0.0.1:80 -r 10.1.1.4 -i --tun-type gue --tun-port 6080 --tun-csum',
      '-a -t 10.0.0.1:80 -r 10.1.1.6 -i --tun-type gre --tun-csum',
      '-a -t 10.0.0.1:80 -r [fd00::5]:80 -i',
      '-a -t [fd00::1]:443 -r 10.1.1.1 -i --tun-type gre',
      '-a -t [fd00::1]:443 -r [fd00::2]:443 -g -w 4',
      '-a -f 4 -r 10.1.1.1 -g',
    ]) await ipvsadm(netns(), ...line.split(' '));
    const v4 = new Map((await h.ipvs.listDestinations(svc)).map((d) => [d.address, d]));
    expect(v4.get('192.168.1.1')).toMatchObject({ port: 8080, family: 'inet', forwarding: 'masq', weight: 7, upperThreshold: 50, lowerThreshold: 5 });
    expect(v4.get('10.1.1.4')).toMatchObject({ port: 80, forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'csum' });
    expect(v4.get('10.1.1.6')).toMatchObject({ tunnelType: 'gre', tunnelChecksum: 'csum' });
    expect(v4.get('fd00::5')).toMatchObject({ family: 'inet6', tunnelType: 'ipip' });
    const v6 = new Map((await h.ipvs.listDestinations(svc6)).map((d) => [d.address, d]));
    expect(v6.get('10.1.1.1')).toMatchObject({ family: 'inet', port: 443, tunnelType: 'gre', tunnelChecksum: 'nocsum' });
    expect(v6.get('fd00::2')).toMatchObject({ family: 'inet6', forwarding: 'route', weight: 4 });
    expect(await h.ipvs.listDestinations({ fwmark: 4 })).toMatchObject([{ address: '10.1.1.1', port: 0, forwarding: 'route' }]);
    const all = await h.ipvs.listAll();
    expect(all.map((s) => s.destinations.length).sort()).toEqual([1, 2, 4]);
  });

  it('edits, deletes and replaces; the errors say which of service and destination is missing', async () => {
    await h.ipvs.addService({ ...svc, scheduler: 'rr' });
    const d = { address: '192.168.1.1', port: 8080 };
    await h.ipvs.addDestination(svc, { ...d, forwarding: 'masq' });
    await h.ipvs.editDestination(svc, { ...d, forwarding: 'masq', weight: 9, upperThreshold: 10, lowerThreshold: 2 });
    expect(await h.ipvs.listDestinations(svc)).toMatchObject([{ ...d, weight: 9, upperThreshold: 10, lowerThreshold: 2 }]);
    await ipvsadm(netns(), '-e', '-t', '10.0.0.1:80', '-r', '192.168.1.1:8080', '-m', '-w', '4');
    expect(await h.ipvs.listDestinations(svc)).toMatchObject([{ weight: 4, upperThreshold: 0 }]);

    await refused(h.ipvs.addDestination(svc, { ...d, forwarding: 'masq' }), 'EEXIST', 'ipvs.addDestination',
      /destination 192\.168\.1\.1:8080 already exists in service 10\.0\.0\.1:80\/tcp/);
    await refused(h.ipvs.editDestination(svc, { address: '192.168.1.2', port: 8080, forwarding: 'masq' }), 'ENOENT', 'ipvs.editDestination',
      /destination 192\.168\.1\.2:8080 not found in service 10\.0\.0\.1:80\/tcp/);
    await refused(h.ipvs.deleteDestination(svc, { address: '192.168.1.2', port: 8080 }), 'ENOENT', 'ipvs.deleteDestination', /not found/);
    const other = { protocol: 'udp', address: '10.0.0.9', port: 53 } as const;
    await refused(h.ipvs.addDestination(other, d), 'ESRCH', 'ipvs.addDestination', /service 10\.0\.0\.9:53\/udp not defined/);
    await refused(h.ipvs.editDestination(other, d), 'ESRCH', 'ipvs.editDestination', /not defined/);
    await refused(h.ipvs.deleteDestination(other, d), 'ESRCH', 'ipvs.deleteDestination', /not defined/);

    await h.ipvs.replaceDestination(svc, { ...d, forwarding: 'masq', weight: 6 });
    await h.ipvs.replaceDestination(svc, { address: '192.168.1.3', port: 8080, forwarding: 'masq' });
    expect(await saved(netns())).toEqual([
      '-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 6', '-a -t 10.0.0.1:80 -r 192.168.1.3:8080 -m -w 1',
    ]);
    await h.ipvs.deleteDestination(svc, d);
    await ipvsadm(netns(), '-d', '-t', '10.0.0.1:80', '-r', '192.168.1.3:8080');
    expect(await h.ipvs.listDestinations(svc)).toEqual([]);
  });

  it('refuses bad input before sending anything', async () => {
    await h.ipvs.addService({ ...svc, scheduler: 'rr' });
    const d = { address: '10.1.1.1', port: 80 };
    await expect(h.ipvs.addDestination(svc, { ...d, forwarding: 'masq', lowerThreshold: 5 })).rejects.toThrow(RangeError);
    await expect(h.ipvs.addDestination(svc, { address: 'fd00::9', port: 80, forwarding: 'masq' })).rejects.toThrow(/another address family/);
    await expect(h.ipvs.addDestination(svc, { ...d, forwarding: 'route', tunnelType: 'gre' })).rejects.toThrow(/tunnel options need forwarding 'tunnel'/);
    await expect(h.ipvs.addDestination(svc, { ...d, forwarding: 'tunnel', tunnelType: 'gre', tunnelChecksum: 'remcsum' })).rejects.toThrow(/gue tunnels only/);
    await expect(h.ipvs.addDestination(svc, { ...d, forwarding: 'nat' as never })).rejects.toThrow(/forwarding must be one of/);
    await expect(h.ipvs.addDestination(svc, { ...d, weight: 2 ** 31 })).rejects.toThrow(/weight must be an integer 0-2147483647/);
    expect(await h.ipvs.listDestinations(svc)).toEqual([]);
  });

  it('connection counts and 64-bit counters from real traffic agree with ipvsadm', async () => {
    await h.ipvs.addService({ ...svc, scheduler: 'rr' });
    // a local real server that refuses (an inactive connection) and a tunnel that never answers (active)
    await h.ipvs.addDestination(svc, { address: '127.0.0.1', port: 80, forwarding: 'route' });
    await h.ipvs.addDestination(svc, { address: '10.9.9.1', port: 80, forwarding: 'tunnel' });
    const persistent = { protocol: 'tcp', address: '10.0.0.5', port: 80 } as const;
    await h.ipvs.addService({ ...persistent, scheduler: 'rr', persistent: 300 });
    await h.ipvs.addDestination(persistent, { address: '10.9.9.2', port: 80, forwarding: 'tunnel' });
    await connectTo(netns(), '10.0.0.1', 80, 4);
    await connectTo(netns(), '10.0.0.5', 80, 1);
    // 6.1 folds the per-CPU counters into what it reports every 2 s (estimation_timer)
    await new Promise((r) => setTimeout(r, 2100));

    const all = await h.ipvs.listAll();
    const listing = await ipvsadm(netns(), '-Ln');
    const stats = await ipvsadm(netns(), '-Ln', '--stats', '--exact');
    const pconn = await ipvsadm(netns(), '-Ln', '--persistent-conn');
    const web = all.find((s) => 'address' in s && s.address === '10.0.0.1')!;
    const svcStats = /^TCP {2}10\.0\.0\.1:80 +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)/m.exec(stats)!;
    const st = web.stats;
    expect([st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes].map(String)).toEqual(svcStats.slice(1));
    expect(st.conns).toBeGreaterThanOrEqual(2n);
    expect(web.destinations.reduce((n, d) => n + d.stats.conns, 0n)).toBe(st.conns);
    for (const d of web.destinations) {
      const re = new RegExp(`^ {2}-> ${d.address.replace(/\./g, '\\.')}:80 +\\w+ +1 +(\\d+) +(\\d+)`, 'm');
      const [, active, inactive] = re.exec(listing)!;
      expect([d.activeConns, d.inactiveConns]).toEqual([Number(active), Number(inactive)]);
      expect(d.stats.conns).toBeGreaterThan(0n);
      const s = new RegExp(`^ {2}-> ${d.address.replace(/\./g, '\\.')}:80 +(\\d+) +(\\d+) +(\\d+) +(\\d+) +(\\d+)`, 'm').exec(stats)!;
      expect([d.stats.conns, d.stats.inpkts, d.stats.outpkts, d.stats.inbytes, d.stats.outbytes].map(String)).toEqual(s.slice(1));
    }
    expect(web.destinations.find((d) => d.address === '127.0.0.1')!.inactiveConns).toBeGreaterThan(0);
    expect(web.destinations.find((d) => d.address === '10.9.9.1')!.activeConns).toBeGreaterThan(0);
    const tmpl = all.find((s) => 'address' in s && s.address === '10.0.0.5')!.destinations[0]!;
    expect(tmpl.persistentConns).toBe(1);
    expect(pconn).toMatch(/^ {2}-> 10\.9\.9\.2:80 +1 +1 +/m);
  });
});
