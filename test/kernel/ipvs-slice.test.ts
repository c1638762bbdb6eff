// The first slice through every layer: the library adds a service and a destination in a fresh
// namespace, reads them back, ipvsadm reads the same state, and errors carry their operation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, NetlinkError, type Handle } from '../../src/index';
import { useNetns } from './helpers/netns';

const netns = useNetns();
let h: Handle;
beforeAll(() => { h = openHandle({ netns: netns().path }); });
afterAll(() => h?.close());

const svc = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
const dest = { address: '192.168.1.2', port: 8080 };

describe('IPVS first slice', () => {
  it('resolves the IPVS generic-netlink family', async () => {
    const f = await h.ipvs.family();
    expect(f.name).toBe('IPVS');
    expect(f.id).toBeGreaterThanOrEqual(0x10);
    expect(f.commands.size).toBeGreaterThan(10);
  });

  it('adds a service and a destination, reads them back, and ipvsadm sees the same', async () => {
    await h.ipvs.addService({ ...svc, scheduler: 'rr' });
    await h.ipvs.addDestination(svc, { ...dest, forwarding: 'masq', weight: 3 });

    const services = await h.ipvs.listServices();
    expect(services).toHaveLength(1);
    expect(services[0]).toMatchObject({ ...svc, family: 'inet', scheduler: 'rr', persistent: 0, netmask: '255.255.255.255' });
    expect(await h.ipvs.getService(svc)).toMatchObject({ ...svc, scheduler: 'rr' });
    const dests = await h.ipvs.listDestinations(svc);
    expect(dests).toHaveLength(1);
    expect(dests[0]).toMatchObject({ ...dest, family: 'inet', forwarding: 'masq', weight: 3, activeConns: 0, inactiveConns: 0 });

    const saved = (await netns().run('ipvsadm', ['-Sn'])).stdout.trim().split('\n');
    expect(saved).toEqual(['-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 3']);
    const listed = (await netns().run('ipvsadm', ['-Ln'])).stdout;
    expect(listed).toMatch(/^TCP\s+10\.0\.0\.1:80 rr\s*$/m);
    expect(listed).toMatch(/^\s+->\s+192\.168\.1\.2:8080\s+Masq\s+3\s+0\s+0\s*$/m);
  });

  it('refuses a second add with EEXIST, naming the operation and the service', async () => {
    const err = await h.ipvs.addService({ ...svc, scheduler: 'rr' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ code: 'EEXIST', errno: -17, op: 'ipvs.addService' });
    expect((err as Error).message).toBe('ipvs.addService: service 10.0.0.1:80/tcp already exists (EEXIST)');
    const dupDest = await h.ipvs.addDestination(svc, { ...dest, forwarding: 'masq' }).catch((e: unknown) => e);
    expect(dupDest).toMatchObject({ code: 'EEXIST', op: 'ipvs.addDestination' });
  });

  it('says "not defined" (ESRCH) for a destination of a missing service', async () => {
    const other = { protocol: 'udp', address: '10.0.0.9', port: 53 } as const;
    const err = await h.ipvs.addDestination(other, dest).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ESRCH', op: 'ipvs.addDestination' });
    expect((err as Error).message).toContain('service 10.0.0.9:53/udp not defined');
  });

  it('reads what ipvsadm wrote, IPv6 included', async () => {
    await netns().run('ipvsadm', ['-A', '-u', '[fd00::1]:53', '-s', 'wlc']);
    await netns().run('ipvsadm', ['-a', '-u', '[fd00::1]:53', '-r', '[fd00::2]:5353', '-g', '-w', '7']);
    const v6 = { protocol: 'udp', address: 'fd00::1', port: 53 } as const;
    expect(await h.ipvs.getService(v6)).toMatchObject({ ...v6, family: 'inet6', scheduler: 'wlc', netmask: 128 });
    // direct routing cannot change the port: ipvsadm sends the service's port for a -g destination
    expect(await h.ipvs.listDestinations(v6)).toMatchObject([{ address: 'fd00::2', port: 53, forwarding: 'route', weight: 7, family: 'inet6' }]);
    await h.ipvs.deleteService(v6);
    expect((await netns().run('ipvsadm', ['-Sn'])).stdout).not.toContain('fd00::1');
  });

  it('deletes the service and it is gone for the library and for ipvsadm', async () => {
    await h.ipvs.deleteService(svc);
    expect(await h.ipvs.listServices()).toEqual([]);
    expect((await netns().run('ipvsadm', ['-Sn'])).stdout.trim()).toBe('');
    const again = await h.ipvs.deleteService(svc).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'ESRCH', op: 'ipvs.deleteService' });
  });
});
