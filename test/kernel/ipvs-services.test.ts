// Virtual services on the real kernel: every key kind, every scheduler the kernel has, persistence,
// one-packet scheduling, scheduler flags and the SIP persistence engine; each checked by ipvsadm
// reading what the library wrote and by the library reading what ipvsadm wrote; and the errors.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openHandle, type Handle, type IpvsServiceOptions } from '../../src/index';
import { useNetns } from './helpers/netns';
import { ipvsadm, refused, saved } from './ipvs-helpers';

const netns = useNetns();
let h: Handle;
beforeAll(() => { h = openHandle({ netns: netns().path }); });
afterAll(() => h?.close());
beforeEach(async () => { await h.ipvs.flush(); });

const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];

describe('IPVS services', () => {
  it('adds a service with each scheduler the kernel has; ipvsadm sees each', async () => {
    const all: IpvsServiceOptions[] = SCHEDULERS.map((scheduler, i) => ({ protocol: 'tcp', address: `10.0.1.${i + 1}`, port: 80, scheduler }));
    const results = await h.ipvs.apply(all.map((service) => ({ kind: 'addService', service })));
    expect(results.map((r) => r.status)).toEqual(all.map(() => 'ok'));
    const rules = await saved(netns());
    for (const [i, s] of SCHEDULERS.entries()) expect(rules).toContain(`-A -t 10.0.1.${i + 1}:80 -s ${s}`);
    const listed = await h.ipvs.listServices();
    expect(listed.map((s) => s.scheduler).sort()).toEqual([...SCHEDULERS].sort());
  });

  it('says plainly when the kernel has no such scheduler (twos on this kernel?) or none by that name', async () => {
    const twos = { protocol: 'tcp', address: '10.0.2.1', port: 80, scheduler: 'twos' } as const;
    const err = await h.ipvs.addService(twos).then(() => undefined, (e: unknown) => e as Error);
    if (err) {
      // ip_vs_twos arrived in Linux 6.7; the VM's 6.1 lacks it
      expect(err).toMatchObject({ code: 'ENOENT', op: 'ipvs.addService' });
      expect(err.message).toBe("ipvs.addService: scheduler 'twos' not found: the kernel has no such module or cannot load it (ip_vs_twos) (ENOENT)");
      const byIpvsadm = await netns().exec('ipvsadm', ['-A', '-t', '10.0.2.1:80', '-s', 'twos']);
      expect(byIpvsadm.stderr).toContain('Scheduler or persistence engine not found');
    } else {
      expect(await saved(netns())).toContain('-A -t 10.0.2.1:80 -s twos');
    }
    await refused(h.ipvs.addService({ ...twos, scheduler: 'nosuch' }), 'ENOENT', 'ipvs.addService', /scheduler 'nosuch' not found/);
    await refused(h.ipvs.addService({ ...twos, scheduler: 'rr', pe: 'nosuch' }), 'ENOENT', 'ipvs.addService', /persistence engine 'nosuch'/);
  });

  it('every key kind and setting, written by the library, read by ipvsadm', async () => {
    await h.ipvs.addService({ protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr' });
    await h.ipvs.addService({ protocol: 'udp', address: '10.0.0.3', port: 5060, scheduler: 'sed', persistent: 60, netmask: 16, pe: 'sip', onePacket: true });
    await h.ipvs.addService({ protocol: 'sctp', address: '10.0.0.4', port: 9, scheduler: 'fo' });
    await h.ipvs.addService({ protocol: 'tcp', address: 'fd00::1', port: 443, scheduler: 'lc', persistent: 100, netmask: 64 });
    await h.ipvs.addService({ protocol: 'tcp', address: '10.0.0.2', port: 0, scheduler: 'dh', persistent: 360 });
    await h.ipvs.addService({ fwmark: 7, scheduler: 'sh', schedFlags: ['sh-fallback', 'sh-port'] });
    await h.ipvs.addService({ fwmark: 3, family: 'inet6', scheduler: 'mh', schedFlags: ['mh-port'], persistent: 120, netmask: 96 });
    await h.ipvs.addService({ fwmark: 9, scheduler: 'wrr', schedFlags: ['flag-3'], onePacket: true });
    expect((await saved(netns())).sort()).toEqual([
      '-A -f 3 -6 -s mh -p 120 -M 96 -b mh-port',
      '-A -f 7 -s sh -b sh-fallback,sh-port',
      '-A -f 9 -s wrr -o -b flag-3',
      '-A --sctp-service 10.0.0.4:9 -s fo',
      '-A -t 10.0.0.1:80 -s rr',
      '-A -t 10.0.0.2:0 -s dh -p 360',
      '-A -t [fd00::1]:443 -s lc -p 100 -M 64',
      '-A -u 10.0.0.3:5060 -s sed -p 60 -M 255.255.0.0 --pe sip -o',
    ].sort());
    const listing = await ipvsadm(netns(), '-Ln');
    expect(listing).toContain('UDP  10.0.0.3:5060 sed persistent 60 mask 255.255.0.0 pe sip ops');
    expect(listing).toContain('FWM  3 IPv6 mh (mh-port) persistent 120 mask 96');
  });

  it('reads every key kind and setting that ipvsadm wrote', async () => {
    for (const line of [
      '-A -t 10.0.0.1:80 -s wrr -p 30 -M 255.255.255.0', '-A -u [2001:db8::1]:53 -s nq -o', '-A --sctp-service 10.0.0.4:9 -s ovf',
      '-A -f 5 -6 -s sh -b sh-port', '-A -f 6 -s lblc -b flag-1,flag-2', '-A -u 10.0.0.3:5060 -s rr -p 60 --pe sip',
    ]) await ipvsadm(netns(), ...line.split(' '));
    const byKey = new Map((await h.ipvs.listServices()).map((s) => ['fwmark' in s ? `f${s.fwmark}` : `${s.protocol} ${s.address}`, s]));
    expect(byKey.get('tcp 10.0.0.1')).toMatchObject({ port: 80, family: 'inet', scheduler: 'wrr', persistent: 30, netmask: '255.255.255.0', onePacket: false, schedFlags: [] });
    expect(byKey.get('udp 2001:db8::1')).toMatchObject({ port: 53, family: 'inet6', scheduler: 'nq', persistent: 0, netmask: 128, onePacket: true });
    expect(byKey.get('sctp 10.0.0.4')).toMatchObject({ port: 9, scheduler: 'ovf' });
    expect(byKey.get('f5')).toMatchObject({ fwmark: 5, family: 'inet6', scheduler: 'sh', schedFlags: ['sh-port'] });
    expect(byKey.get('f6')).toMatchObject({ fwmark: 6, family: 'inet', scheduler: 'lblc', schedFlags: ['flag-1', 'flag-2'] });
    expect(byKey.get('udp 10.0.0.3')).toMatchObject({ scheduler: 'rr', persistent: 60, pe: 'sip' });
    expect(await h.ipvs.getService({ fwmark: 5, family: 'inet6' })).toMatchObject({ scheduler: 'sh' });
    // an IPv4 fwmark 5 is another service
    await refused(h.ipvs.getService({ fwmark: 5 }), 'ESRCH', 'ipvs.getService', /fwmark 5 not defined/);
  });

  it('edits to exactly the settings given (ipvsadm -E), and replaceService is idempotent', async () => {
    const key = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
    await h.ipvs.addService({ ...key, scheduler: 'rr', persistent: 30 });
    await h.ipvs.editService({ ...key, scheduler: 'sh', schedFlags: ['sh-port'] });
    expect(await saved(netns())).toEqual(['-A -t 10.0.0.1:80 -s sh -b sh-port']);
    await ipvsadm(netns(), '-E', '-t', '10.0.0.1:80', '-s', 'lc', '-p', '50');
    expect(await h.ipvs.getService(key)).toMatchObject({ scheduler: 'lc', persistent: 50, schedFlags: [] });

    await h.ipvs.replaceService({ ...key, scheduler: 'wrr' });
    await h.ipvs.replaceService({ ...key, scheduler: 'wrr' });
    await h.ipvs.replaceService({ protocol: 'udp', address: '10.0.0.1', port: 53, scheduler: 'rr' });
    expect((await saved(netns())).sort()).toEqual(['-A -t 10.0.0.1:80 -s wrr', '-A -u 10.0.0.1:53 -s rr']);
  });

  it('deletes, and names the service in each refusal', async () => {
    const key = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
    await h.ipvs.addService({ ...key, scheduler: 'rr' });
    await refused(h.ipvs.addService({ ...key, scheduler: 'rr' }), 'EEXIST', 'ipvs.addService', /service 10\.0\.0\.1:80\/tcp already exists/);
    await h.ipvs.deleteService(key);
    expect(await saved(netns())).toEqual([]);
    await refused(h.ipvs.deleteService(key), 'ESRCH', 'ipvs.deleteService', /service 10\.0\.0\.1:80\/tcp not defined/);
    await refused(h.ipvs.editService({ ...key, scheduler: 'rr' }), 'ESRCH', 'ipvs.editService', /not defined/);
    await refused(h.ipvs.getService({ fwmark: 1 }), 'ESRCH', 'ipvs.getService', /fwmark 1 not defined/);
    await ipvsadm(netns(), '-A', '-f', '11', '-s', 'rr');
    await h.ipvs.deleteService({ fwmark: 11 });
    expect(await h.ipvs.listServices()).toEqual([]);
  });

  it('refuses bad input before sending anything', async () => {
    const key = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
    await expect(h.ipvs.addService({ ...key, port: 70000 })).rejects.toThrow(RangeError);
    await expect(h.ipvs.addService({ ...key, port: 70000 })).rejects.toThrow(/ipvs\.addService: port must be an integer 0-65535/);
    await expect(h.ipvs.addService({ ...key, onePacket: true })).rejects.toThrow(/one-packet scheduling is only for UDP/);
    await expect(h.ipvs.addService({ ...key, scheduler: 'rr', schedFlags: ['sh-port'] })).rejects.toThrow(TypeError);
    await expect(h.ipvs.addService({ protocol: 'tcp', address: 'fd00::1', port: 80, persistent: 10, netmask: 129 })).rejects.toThrow(RangeError);
    await expect(h.ipvs.apply([{ kind: 'addService', service: key }, { kind: 'addService', service: { ...key, address: 'nope' } }])).rejects.toThrow(/change #1: ipvs.addService/);
    expect(await h.ipvs.listServices()).toEqual([]);
  });
});
