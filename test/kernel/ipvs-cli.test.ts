// The `ipvs` CLI's IPVS verbs on the real kernel, against ipvsadm in the same namespace: a rules
// file using every scheduler this kernel has, every scheduler flag, every forwarding method and
// tunnel type ipvsadm can write goes through `ipvs restore` and comes back from `ipvsadm -Sn`
// unchanged, and through `ipvsadm -R` to come back from `ipvs save` unchanged; `ipvs list` prints
// what `ipvsadm -Ln` prints in every layout; restore reports failing lines by number.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { useNetns } from './helpers/netns';
import { cli, ipvsadm, withStdin } from './ipvs-helpers';

const netns = useNetns();
let h: Handle;
beforeAll(() => { h = openHandle({ netns: netns().path }); });
afterAll(() => h?.close());

// In ipvsadm's order (it sorts); addresses within 2^31 of each other, so its order is total.
const RULES = `-A -t 10.1.0.1:80 -s rr
-a -t 10.1.0.1:80 -r 10.2.0.1:8080 -m -w 1
-a -t 10.1.0.1:80 -r 10.2.0.2:80 -g -w 2
-a -t 10.1.0.1:80 -r 10.2.0.3:80 -i -w 3 --tun-type ipip
-A -t 10.1.0.2:80 -s wrr
-a -t 10.1.0.2:80 -r 10.2.0.4:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
-a -t 10.1.0.2:80 -r 10.2.0.5:80 -i -w 1 --tun-type gue --tun-port 6081 --tun-csum
-a -t 10.1.0.2:80 -r 10.2.0.6:80 -i -w 1 --tun-type gue --tun-port 6082 --tun-remcsum
-A -t 10.1.0.3:80 -s lc
-a -t 10.1.0.3:80 -r 10.2.0.7:80 -i -w 1 --tun-type gre --tun-nocsum
-a -t 10.1.0.3:80 -r 10.2.0.8:80 -i -w 65535 --tun-type gre --tun-csum
-A -t 10.1.0.4:80 -s wlc -p 300 -M 255.255.255.0
-a -t 10.1.0.4:80 -r [fd00::10]:80 -i -w 1 --tun-type ipip
-A -t 10.1.0.5:80 -s lblc
-A -t 10.1.0.6:80 -s lblcr -b flag-1,flag-2,flag-3
-A -t 10.1.0.7:80 -s dh -b flag-2
-A -t 10.1.0.8:80 -s sh -b sh-fallback,sh-port
-A -t 10.1.0.9:80 -s sed
-A -t 10.1.0.10:80 -s nq
-A -t 10.1.0.11:80 -s fo
-A -t 10.1.0.12:80 -s ovf
-A -t 10.1.0.13:80 -s mh -b mh-fallback,mh-port
-A -t 10.1.0.14:0 -s rr -p 360
-A -u 10.1.0.1:5060 -s sed -p 60 -M 255.255.0.0 --pe sip -o
-a -u 10.1.0.1:5060 -r 10.2.1.1:5060 -m -w 5
-A -u 10.1.0.2:53 -s rr -o
-A --sctp-service 10.1.0.3:9 -s rr
-a --sctp-service 10.1.0.3:9 -r 10.2.2.1:9 -m -w 1
-A -t [fd00::1]:443 -s lc -p 100 -M 64
-a -t [fd00::1]:443 -r [fd00::2]:443 -m -w 1
-a -t [fd00::1]:443 -r [fd00::3]:443 -g -w 1
-a -t [fd00::1]:443 -r 10.2.3.1:443 -i -w 1 --tun-type gre --tun-csum
-A -u [fd00::1]:53 -s wrr
-A -f 1 -s rr
-a -f 1 -r 10.2.4.1:0 -g -w 1
-A -f 2 -6 -s sh -b sh-port
-a -f 2 -6 -r [fd00::4]:0 -g -w 1
-A -f 3 -s wlc -p 30 -o
`;

describe('ipvs restore / save against ipvsadm', () => {
  it('ipvs restore, then ipvsadm -Sn: the same rules', async () => {
    await h.ipvs.flush();
    const r = await cli(netns(), ['restore'], RULES);
    expect(r).toEqual({ code: 0, out: '', err: '' });
    expect(await ipvsadm(netns(), '-Sn')).toBe(RULES);
  });

  it('ipvsadm -R, then ipvs save: the same rules, and ipvs list prints what ipvsadm -Ln prints', async () => {
    await ipvsadm(netns(), '-C');
    const r = await withStdin(netns(), RULES, 'ipvsadm', '-R');
    expect(r.code).toBe(0);
    expect(await cli(netns(), ['save'])).toEqual({ code: 0, out: RULES, err: '' });
    for (const flags of [[], ['--stats'], ['--stats', '--exact'], ['--rate'], ['--thresholds'], ['--persistent-conn'], ['--tun-info'], ['--nosort'],
      ['-t', '10.1.0.1:80'], ['-f', '2', '-6', '--tun-info'], ['--timeout']]) {
      const ours = await cli(netns(), ['list', '-n', ...flags]);
      expect(ours, flags.join(' ')).toEqual({ code: 0, out: await ipvsadm(netns(), '-Ln', ...flags), err: '' });
      // without -n, names where the system has them (here: port names from /etc/services)
      const named = await cli(netns(), ['list', ...flags]);
      expect(named, `no -n: ${flags.join(' ')}`).toEqual({ code: 0, out: await ipvsadm(netns(), '-L', ...flags), err: '' });
    }
    const json = JSON.parse((await cli(netns(), ['list', '--json'])).out) as { scheduler: string; destinations: unknown[] }[];
    expect(json).toHaveLength(22);
    expect(json[0]).toMatchObject({ protocol: 'tcp', address: '10.1.0.1', port: 80, scheduler: 'rr', stats: { conns: 0 } });
    expect(json[0]!.destinations).toHaveLength(3);
  });

  it('thresholds survive with save --thresholds (ipvsadm -S leaves them out, -R reads them)', async () => {
    await h.ipvs.flush();
    const rules = '-A -t 10.1.0.1:80 -s rr\n-a -t 10.1.0.1:80 -r 10.2.0.1:8080 -m -w 1 -x 100 -y 10\n';
    expect((await cli(netns(), ['restore'], rules)).code).toBe(0);
    expect(await ipvsadm(netns(), '-Ln', '--thresholds')).toMatch(/-> 10\.2\.0\.1:8080 +100 +10 /);
    expect((await cli(netns(), ['save'])).out).toBe('-A -t 10.1.0.1:80 -s rr\n-a -t 10.1.0.1:80 -r 10.2.0.1:8080 -m -w 1\n');
    const withThresholds = (await cli(netns(), ['save', '--thresholds'])).out;
    expect(withThresholds).toBe(rules);
    await ipvsadm(netns(), '-C');
    expect((await withStdin(netns(), withThresholds, 'ipvsadm', '-R')).code).toBe(0);
    expect(await h.ipvs.listDestinations({ protocol: 'tcp', address: '10.1.0.1', port: 80 })).toMatchObject([{ upperThreshold: 100, lowerThreshold: 10 }]);
  });

  it('reports each line the kernel refused, with its number and reason, applies the rest, exits 1', async () => {
    await h.ipvs.flush();
    const r = await cli(netns(), ['restore'], [
      'ipvsadm -A -t 10.3.0.1:80 -s rr',
      '-a -t 10.3.0.9:80 -r 10.2.0.1:80 -m',
      '-A -t 10.3.0.1:80 -s rr',
      '-a -t 10.3.0.1:80 -r 10.2.0.1:80 -m   # comment',
      '-d -t 10.3.0.1:80 -r 10.2.0.2:80',
      '--set 1000 0 0',
      '--start-daemon master --mcast-interface lo --syncid 3',
      '--stop-daemon master',
      '-E -t 10.3.0.1:80 -s nosuch',
    ].join('\n'));
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toEqual([
      'ipvs restore: line 2: ipvs.addDestination: service 10.3.0.9:80/tcp not defined (ESRCH)',
      'ipvs restore: line 3: ipvs.addService: service 10.3.0.1:80/tcp already exists (EEXIST)',
      'ipvs restore: line 5: ipvs.deleteDestination: destination 10.2.0.2:80 not found in service 10.3.0.1:80/tcp (ENOENT)',
      "ipvs restore: line 9: ipvs.editService: scheduler 'nosuch' not found: the kernel has no such module or cannot load it (ip_vs_nosuch) (ENOENT)",
      'ipvs restore: 4 of 9 changes failed',
      '',
    ]);
    expect(await ipvsadm(netns(), '-Sn')).toBe('-A -t 10.3.0.1:80 -s rr\n-a -t 10.3.0.1:80 -r 10.2.0.1:80 -m -w 1\n');
    expect((await h.ipvs.getTimeouts()).tcp).toBe(1000);
    expect(await h.ipvs.listDaemons()).toEqual([]);
  });

  it('applies nothing when a line is not understood, and says which', async () => {
    await h.ipvs.flush();
    const r = await cli(netns(), ['restore'], '-A -t 10.3.0.1:80 -s rr\n-a -t 10.3.0.1:80 -r 10.2.0.1:80 -w 2147483648\n\n-Q\n');
    expect(r.code).toBe(1);
    expect(r.err).toBe('ipvs restore: line 2: illegal weight specified\nipvs restore: line 4: invalid option `-Q\'\n'
      + 'ipvs restore: 2 lines not understood; nothing was applied\n');
    expect(await h.ipvs.listServices()).toEqual([]);
  });
});

describe('ipvs flush, zero, timeout, daemon', () => {
  it('do what ipvsadm\'s -C, -Z, --set and --start-daemon/--stop-daemon do', async () => {
    expect((await cli(netns(), ['restore'], '-A -t 10.1.0.1:80 -s rr\n')).code).toBe(0);
    expect(await cli(netns(), ['zero', '-t', '10.1.0.1:80'])).toEqual({ code: 0, out: '', err: '' });
    expect((await cli(netns(), ['zero', '-t', '10.9.9.9:80'])).err).toBe('ipvs: ipvs.zero: service 10.9.9.9:80/tcp not defined (ESRCH)\n');
    expect((await cli(netns(), ['zero'])).code).toBe(0);
    expect((await cli(netns(), ['flush'])).code).toBe(0);
    expect(await ipvsadm(netns(), '-Sn')).toBe('');

    expect((await cli(netns(), ['timeout', '900', '0', '0'])).code).toBe(0);
    const t = await cli(netns(), ['timeout']);
    expect(t.out).toBe(await ipvsadm(netns(), '-L', '--timeout'));
    expect(t.out).toMatch(/^Timeout \(tcp tcpfin udp\): 900 /);

    expect((await cli(netns(), ['daemon', 'start', 'master', '--mcast-interface', 'lo', '--syncid', '7', '--mcast-port', '9000'])).code).toBe(0);
    const d = await cli(netns(), ['daemon']);
    expect(d.out).toBe(await ipvsadm(netns(), '-L', '--daemon'));
    expect(d.out).toMatch(/^master sync daemon \(mcast=lo, syncid=7, .*port=9000/);
    expect((await cli(netns(), ['daemon', 'stop', 'master'])).code).toBe(0);
    expect((await cli(netns(), ['daemon', 'stop', 'master'])).err).toBe('ipvs: ipvs.stopDaemon: no master sync daemon is running (ESRCH)\n');
    expect((await cli(netns(), ['daemon', 'start', 'primary'])).code).toBe(2);
  });
});
