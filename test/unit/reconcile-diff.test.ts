// The reconcile plan is pure: current state + desired state + scope -> the smallest change.
import { describe, expect, it } from 'vitest';
import { addressPredicate, canonicalCidr, diffAddresses, diffIpvs, diffSets, servicePredicate, setPredicate } from '../../src/reconcile/diff';
import type { IpvsServiceState } from '../../src/snapshot/ipvs-read';
import type { IpvsDestinationState } from '../../src/snapshot/ipvs-decode';
import type { IpsetSet } from '../../src/ipset/set';
import { IP_VS_SVC_F_HASHED, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1 } from '../../src/uapi/ip-vs';

const zeroStats = { conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n, cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };

function dest(address: string, port: number, more: Partial<IpvsDestinationState> = {}): IpvsDestinationState {
  return {
    address, port, family: address.includes(':') ? 'inet6' : 'inet', forwarding: 'masq', weight: 1, upperThreshold: 0,
    lowerThreshold: 0, activeConns: 0, inactiveConns: 0, persistentConns: 0, ...more,
  };
}

function service(key: { protocol: 'tcp' | 'udp'; address: string; port: number } | { fwmark: number }, more: Partial<IpvsServiceState> = {}, dests: IpvsDestinationState[] = []): IpvsServiceState {
  const family = 'address' in key && key.address.includes(':') ? 'inet6' : 'inet';
  return {
    ...key, family, scheduler: 'wlc', persistent: 0, netmask: family === 'inet6' ? 128 : '255.255.255.255', onePacket: false,
    schedFlags: [], flags: IP_VS_SVC_F_HASHED, stats: zeroStats, destinations: dests, ...more,
  } as IpvsServiceState;
}

const A = { protocol: 'tcp' as const, address: '10.96.0.1', port: 80 };
const B = { protocol: 'udp' as const, address: '10.96.0.2', port: 53 };
const OUT = { protocol: 'tcp' as const, address: '192.168.0.1', port: 80 };
const none = () => false;

describe('diffIpvs', () => {
  it('adds what is missing, services before their destinations', () => {
    const plan = diffIpvs([
      { ...A, scheduler: 'rr', destinations: [{ address: '172.16.0.1', port: 8080, forwarding: 'masq' }] },
      { ...B, destinations: [] },
    ], [], none);
    expect(plan).toEqual([
      { kind: 'addService', service: { ...A, scheduler: 'rr' } },
      { kind: 'addDestination', service: A, destination: { address: '172.16.0.1', port: 8080, forwarding: 'masq' } },
      { kind: 'addService', service: B },
    ]);
  });

  it('plans nothing when the kernel already matches, defaults and spellings included', () => {
    const current = [
      service(A, { scheduler: 'wlc' }, [dest('172.16.0.1', 8080, { forwarding: 'route', activeConns: 4 })]),
      service({ protocol: 'tcp', address: 'fd00::1', port: 443 }, { scheduler: 'sh', schedFlags: ['sh-fallback'], flags: IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_HASHED }, [dest('fd00::2', 443, { weight: 5 })]),
      service(B, { persistent: 300, netmask: '255.255.255.0', flags: IP_VS_SVC_F_PERSISTENT }),
    ];
    const plan = diffIpvs([
      { ...A, destinations: [{ address: '172.16.0.1', port: 8080 }] }, // wlc and route are the defaults
      { protocol: 'tcp', address: 'fd00:0:0::1', port: 443, scheduler: 'sh', schedFlags: ['flag-1'], destinations: [{ address: 'FD00::2', port: 443, forwarding: 'masq', weight: 5 }] },
      { ...B, persistent: 300, netmask: 24 },
    ], current, none);
    expect(plan).toEqual([]);
  });

  it('edits only the fields that differ', () => {
    const current = [service(A, { scheduler: 'rr' }, [dest('172.16.0.1', 8080, { weight: 2 }), dest('172.16.0.2', 8080)])];
    const plan = diffIpvs([{
      ...A, scheduler: 'wrr', persistent: 60,
      destinations: [{ address: '172.16.0.1', port: 8080, forwarding: 'masq', weight: 3 }, { address: '172.16.0.2', port: 8080, forwarding: 'masq', upperThreshold: 10 }],
    }], current, none);
    expect(plan).toEqual([
      { kind: 'editService', service: { ...A, scheduler: 'wrr', persistent: 60 }, fields: ['scheduler', 'persistent'] },
      { kind: 'editDestination', service: A, destination: { address: '172.16.0.1', port: 8080, forwarding: 'masq', weight: 3 }, fields: ['weight'] },
      { kind: 'editDestination', service: A, destination: { address: '172.16.0.2', port: 8080, forwarding: 'masq', upperThreshold: 10 }, fields: ['upperThreshold'] },
    ]);
  });

  it('deletes unlisted destinations of a listed service, draining TCP ones that have connections', () => {
    const current = [
      service(A, {}, [dest('172.16.0.1', 8080, { activeConns: 1 }), dest('172.16.0.2', 8080), dest('172.16.0.3', 8080, { inactiveConns: 2 })]),
      service(B, {}, [dest('172.16.1.1', 53, { inactiveConns: 9 })]),
    ];
    const plan = diffIpvs([{ ...A, destinations: [{ address: '172.16.0.2', port: 8080, forwarding: 'masq' }] }, { ...B, destinations: [] }], current, none);
    expect(plan).toEqual([
      { kind: 'deleteDestination', service: A, destination: { address: '172.16.0.1', port: 8080 }, drain: true, connections: 1 },
      { kind: 'deleteDestination', service: A, destination: { address: '172.16.0.3', port: 8080 }, drain: true, connections: 2 },
      { kind: 'deleteDestination', service: B, destination: { address: '172.16.1.1', port: 53 }, drain: false, connections: 9 },
    ]);
  });

  it('deletes unlisted services only inside the scope', () => {
    const current = [service(A, {}, [dest('172.16.0.1', 8080)]), service(B), service(OUT), service({ fwmark: 5 }), service({ fwmark: 900 })];
    const byRange = servicePredicate({ addresses: ['10.96.0.0/12'], fwmarks: [[1, 10]] });
    expect(diffIpvs([{ ...B }], current, byRange)).toEqual([
      { kind: 'deleteService', service: A, destinations: 1 },
      { kind: 'deleteService', service: { fwmark: 5, family: 'inet' }, destinations: 0 },
    ]);
    expect(diffIpvs([], current, none)).toEqual([]);
    const byPredicate = servicePredicate((s) => 'port' in s && s.port === 80);
    expect(diffIpvs([], current, byPredicate).map((s) => s.service)).toEqual([A, OUT]);
    const v6 = servicePredicate({ addresses: ['fd00::/64'] });
    expect(v6({ protocol: 'tcp', address: 'fd00::9', port: 1 })).toBe(true);
    expect(v6({ protocol: 'tcp', address: 'fd01::9', port: 1 })).toBe(false);
    expect(v6(A)).toBe(false);
  });

  it('refuses bad input before planning anything', () => {
    expect(() => diffIpvs([A, { ...A, scheduler: 'rr' }], [], none)).toThrow(/listed twice/);
    expect(() => diffIpvs([{ ...A, destinations: [{ address: '10.0.0.1', port: 1 }, { address: '10.0.0.1', port: 1 }] }], [], none)).toThrow(/listed twice/);
    expect(() => diffIpvs([{ ...A, port: 70000 }], [], none)).toThrow(RangeError);
    expect(() => diffIpvs([{ ...A, destinations: [{ address: 'x', port: 1 }] }], [], none)).toThrow(TypeError);
    expect(() => servicePredicate({ addresses: ['10.0.0.0/33'] })).toThrow(/CIDR/);
    expect(() => servicePredicate({ addresses: ['everything'] })).toThrow(/CIDR/);
  });
});

describe('diffSets', () => {
  const header = (name: string, type: string, entries?: IpsetSet['entries']): IpsetSet => ({
    name, type, revision: 1, family: 'inet', counters: false, comment: false, skbinfo: false, forceadd: false, references: 0,
    memsize: 0, elements: entries?.length ?? 0, ...(entries && { entries }),
  });

  it('creates missing sets, adds and deletes entries by element, destroys unlisted sets in scope', () => {
    const current = [
      header('KUBE-CLUSTER-IP', 'hash:ip,port', [{ ip: '10.96.0.1', proto: 'tcp', port: 443 }, { ip: '10.96.0.10', proto: 'udp', port: 53, timeout: 30 }]),
      header('KUBE-OLD', 'hash:ip'),
      header('OTHER', 'hash:ip'),
      header('KUBE-NODE-PORT', 'bitmap:port'),
    ];
    const plan = diffSets([
      { name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', entries: ['10.96.0.10,udp:53', { ip: '10.96.0.2', proto: 'tcp', port: 80 }, '10.96.0.10,udp:53'] },
      { name: 'KUBE-LB', type: 'hash:ip', entries: ['10.0.0.1'] },
      { name: 'KUBE-NODE-PORT', type: 'hash:ip', entries: [] },
    ], current, setPredicate((n) => n.startsWith('KUBE-')));
    expect(plan).toEqual([
      { kind: 'delEntries', name: 'KUBE-CLUSTER-IP', entries: [{ ip: '10.96.0.1', proto: 'tcp', port: 443 }] },
      { kind: 'addEntries', name: 'KUBE-CLUSTER-IP', entries: [{ ip: '10.96.0.2', proto: 'tcp', port: 80 }] },
      { kind: 'createSet', name: 'KUBE-LB', type: 'hash:ip', options: {} },
      { kind: 'addEntries', name: 'KUBE-LB', entries: [{ ip: '10.0.0.1' }] },
      { kind: 'conflict', name: 'KUBE-NODE-PORT', detail: 'set KUBE-NODE-PORT is bitmap:port, wanted hash:ip: left unchanged' },
      { kind: 'destroySet', name: 'KUBE-OLD' },
    ]);
    expect(diffSets([], current, setPredicate(['OTHER']))).toEqual([{ kind: 'destroySet', name: 'OTHER' }]);
    expect(() => diffSets([{ name: 'S', type: 'hash:ip', entries: ['not an address'] }], [], none)).toThrow();
  });
});

describe('diffAddresses', () => {
  const links = [{ ifindex: 1, ifname: 'lo' }, { ifindex: 5, ifname: 'kube-ipvs0' }];
  const current = [
    { ifindex: 1, local: '127.0.0.1', prefixlen: 8 },
    { ifindex: 5, local: '10.96.0.1', prefixlen: 32 },
    { ifindex: 5, local: '10.96.0.2', prefixlen: 32 },
    { ifindex: 5, local: '192.168.9.9', prefixlen: 32 },
    { ifindex: 5, local: 'fe80::1', prefixlen: 64 },
  ];

  it('adds missing addresses, deletes unlisted ones in scope only, creates a link when asked', () => {
    const plan = diffAddresses(
      [{ link: 'kube-ipvs0', addresses: ['10.96.0.1', '10.96.0.3/32', '10.96.0.1/32'] }, { link: 'new0', addresses: ['fd00::0:1/128'], create: true }, { link: 'gone0', addresses: ['10.0.0.1'] }],
      current, links, addressPredicate(['10.96.0.0/12']),
    );
    expect(plan).toEqual([
      { kind: 'addAddress', link: 'kube-ipvs0', cidr: '10.96.0.3/32' },
      { kind: 'deleteAddress', link: 'kube-ipvs0', cidr: '10.96.0.2/32' },
      { kind: 'addLink', link: 'new0' },
      { kind: 'addAddress', link: 'new0', cidr: 'fd00::1/128' },
      { kind: 'conflict', link: 'gone0', detail: 'link gone0 does not exist: its addresses were not added' },
    ]);
    expect(diffAddresses([{ link: 'kube-ipvs0', addresses: [] }], current, links, addressPredicate(undefined))).toEqual([]);
    const all = diffAddresses([{ link: 'kube-ipvs0', addresses: [] }], current, links, addressPredicate((a) => a.link === 'kube-ipvs0'));
    expect(all.map((s) => (s as { cidr: string }).cidr)).toEqual(['10.96.0.1/32', '10.96.0.2/32', '192.168.9.9/32', 'fe80::1/64']);
    expect(() => diffAddresses([{ link: 'x', addresses: ['10.0.0.1/40'] }], [], links, () => false)).toThrow(RangeError);
    expect(canonicalCidr('FD00:0::1')).toBe('fd00::1/128');
    // an IPv4-mapped address as the snapshot decodes the kernel's (formatIPv6)
    expect(canonicalCidr('::FFFF:a00:1/128')).toBe('::ffff:10.0.0.1/128');
  });
});
