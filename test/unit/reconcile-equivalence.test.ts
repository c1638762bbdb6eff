// The fast IPVS diff (services found without building ids, destinations matched in place, changes
// compared without building attributes) and the state reconcile returns must be exactly what the
// plain implementation gave (test/unit/reconcile-reference.ts): the same plan, the same errors, the
// same state, on many generated inputs: IPv4 and IPv6 (canonical or not), fwmark services,
// persistence and scheduler flags, tunnels, thresholds, connections, duplicates, invalid values,
// scopes, kernel order or reversed or shuffled, and chains of reconciles from the last state.
import { describe, expect, it } from 'vitest';
import { diffIpvs, servicePredicate, type DesiredService, type ServiceScope } from '../../src/reconcile/diff';
import { reconcile, type ReconcileHost } from '../../src/reconcile/reconcile';
import type { Batch } from '../../src/batch/batch';
import type { IpvsServiceKey } from '../../src/ipvs/service';
import type { IpvsDestinationOptions } from '../../src/ipvs/destination';
import type { IpvsServiceState } from '../../src/snapshot/ipvs-read';
import type { IpvsDestinationState } from '../../src/snapshot/ipvs-decode';
import type { Snapshot } from '../../src/snapshot/snapshot';
import { IP_VS_SVC_F_HASHED, IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2 } from '../../src/uapi/ip-vs';
import { referenceDiffIpvs, referenceStateAfter } from './reconcile-reference';
import { mulberry32 } from './random';

const random = mulberry32;

const zeroStats = { conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n, cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };

// Pools small enough that equal keys, colliding tails (10.1.100.5 / 10.2.100.5) and other
// spellings of one IPv6 address come up often.
const V4_VIPS = ['10.96.0.1', '10.96.0.2', '10.96.0.10', '10.100.3.4', '192.168.0.1', '10.1.100.5'];
const V6_VIPS = [['fd00::1', 'FD00:0::1'], ['fd00::a', 'fd00:0:0:0:0:0:0:a'], ['2001:db8::5', '2001:DB8::5']];
const V4_RIPS = ['172.16.0.1', '172.16.0.2', '172.16.0.3', '172.16.1.17', '172.16.21.170', '10.1.100.5', '10.2.100.5', '10.244.12.5', '10.244.22.5', '1.2.3.4'];
const V6_RIPS = [['fd00::2', 'fd00:0::2'], ['fd01::1:2', 'FD01::1:2'], ['2001:db8::1', '2001:0db8::1'], ['fd00::ff', 'fd00::FF']];
const SCHEDULERS = ['wlc', 'rr', 'wrr', 'sh', 'mh', 'lc'];

type Rng = () => number;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rng, p: number): boolean => r() < p;

function kernelDestination(r: Rng, address: string, port: number): IpvsDestinationState {
  const v6 = address.includes(':');
  const forwarding = pick(r, ['masq', 'masq', 'route', 'tunnel', 'local', 'bypass'] as const);
  const upper = chance(r, 0.2) ? pick(r, [0, 10, 100]) : 0;
  const d: IpvsDestinationState = {
    address, port, family: v6 ? 'inet6' : 'inet', forwarding, weight: pick(r, [0, 1, 1, 1, 2, 5, 100]),
    upperThreshold: upper, lowerThreshold: upper > 0 && chance(r, 0.5) ? 5 : 0,
    activeConns: chance(r, 0.3) ? pick(r, [1, 7]) : 0, inactiveConns: chance(r, 0.3) ? 2 : 0, persistentConns: 0,
  };
  if (forwarding === 'tunnel') {
    d.tunnelType = pick(r, ['ipip', 'gue', 'gre'] as const);
    if (d.tunnelType === 'gue') d.tunnelPort = pick(r, [5555, 6080]);
    if (d.tunnelType !== 'ipip') d.tunnelChecksum = pick(r, d.tunnelType === 'gue' ? ['nocsum', 'csum', 'remcsum'] as const : ['nocsum', 'csum'] as const);
  }
  return d;
}

function kernelService(r: Rng, key: IpvsServiceKey & { family?: 'inet' | 'inet6' }, family: 'inet' | 'inet6', dests: IpvsDestinationState[]): IpvsServiceState {
  const scheduler = pick(r, SCHEDULERS);
  const persistent = chance(r, 0.2) ? pick(r, [60, 300]) : 0;
  const udpOrMark = 'fwmark' in key || (key as { protocol: string }).protocol === 'udp';
  const onePacket = udpOrMark && chance(r, 0.3);
  let flags = IP_VS_SVC_F_HASHED | (persistent ? IP_VS_SVC_F_PERSISTENT : 0) | (onePacket ? IP_VS_SVC_F_ONEPACKET : 0);
  const schedFlags: IpvsServiceState['schedFlags'] = [];
  if (scheduler === 'sh' && chance(r, 0.5)) { schedFlags.push('sh-fallback'); flags |= IP_VS_SVC_F_SCHED1; }
  if (scheduler === 'mh' && chance(r, 0.5)) { schedFlags.push('mh-port'); flags |= IP_VS_SVC_F_SCHED2; }
  const s = {
    ...key, family, scheduler, persistent,
    netmask: family === 'inet6' ? (persistent && chance(r, 0.5) ? 64 : 128) : (persistent && chance(r, 0.5) ? '255.255.255.0' : '255.255.255.255'),
    onePacket, schedFlags, flags, stats: zeroStats, destinations: dests,
  } as IpvsServiceState;
  if (chance(r, 0.05)) s.pe = 'sip';
  return s;
}

/** A kernel-like state: canonical addresses, unique keys, as a dump lists them. */
function kernelState(r: Rng): IpvsServiceState[] {
  const out: IpvsServiceState[] = [];
  const ids = new Set<string>();
  const count = Math.floor(r() * 7);
  for (let i = 0; i < count; i++) {
    const kind = r();
    let key: IpvsServiceKey & { family?: 'inet' | 'inet6' };
    let family: 'inet' | 'inet6';
    if (kind < 0.6) {
      key = { protocol: pick(r, ['tcp', 'tcp', 'udp', 'sctp'] as const), address: pick(r, V4_VIPS), port: pick(r, [80, 443, 53]) };
      family = 'inet';
    } else if (kind < 0.85) {
      key = { protocol: pick(r, ['tcp', 'udp'] as const), address: pick(r, V6_VIPS)[0]!, port: pick(r, [80, 443]) };
      family = 'inet6';
    } else {
      family = chance(r, 0.3) ? 'inet6' : 'inet';
      key = { fwmark: pick(r, [1, 5, 900]), family };
    }
    const id = JSON.stringify(key);
    if (ids.has(id)) continue;
    ids.add(id);
    const dests: IpvsDestinationState[] = [];
    const seen = new Set<string>();
    const n = chance(r, 0.1) ? 40 : Math.floor(r() * 12);
    for (let k = 0; k < n; k++) {
      const v6 = family === 'inet6' ? !chance(r, 0.1) : chance(r, 0.05);
      const address = n > 12 ? `172.17.${k >> 3}.${(k * 37) % 250}` : v6 ? pick(r, V6_RIPS)[0]! : pick(r, V4_RIPS);
      const port = n > 12 ? 8080 : pick(r, [8080, 8080, 9090, 0]);
      if (seen.has(`${address} ${port}`)) continue;
      seen.add(`${address} ${port}`);
      const d = kernelDestination(r, address, port);
      // only tunnels lead to the other family
      if ((address.includes(':') ? 'inet6' : 'inet') !== family && d.forwarding !== 'tunnel') continue;
      dests.push(d);
    }
    out.push(kernelService(r, key, family, dests));
  }
  return out;
}

function asOptions(r: Rng, d: IpvsDestinationState): IpvsDestinationOptions {
  const o: IpvsDestinationOptions = { address: d.address, port: d.port };
  if (d.forwarding !== 'route' || chance(r, 0.5)) o.forwarding = d.forwarding;
  if (d.weight !== 1 || chance(r, 0.5)) o.weight = d.weight;
  if (d.upperThreshold || chance(r, 0.2)) o.upperThreshold = d.upperThreshold;
  if (d.lowerThreshold || chance(r, 0.2)) o.lowerThreshold = d.lowerThreshold;
  if (d.tunnelType !== undefined && (d.tunnelType !== 'ipip' || chance(r, 0.5))) o.tunnelType = d.tunnelType;
  if (d.tunnelPort !== undefined) o.tunnelPort = d.tunnelPort;
  if (d.tunnelChecksum !== undefined && (d.tunnelChecksum !== 'nocsum' || chance(r, 0.5))) o.tunnelChecksum = d.tunnelChecksum;
  return o;
}

/** Another spelling of the same address (IPv6), or the same text. */
function respell(r: Rng, address: string): string {
  for (const pair of [...V6_VIPS, ...V6_RIPS]) if (pair[0] === address && chance(r, 0.4)) return pair[1]!;
  return address;
}

function shuffle<T>(r: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** A destination edit, valid or not. */
function editDestination(r: Rng, o: IpvsDestinationOptions, bad: number): IpvsDestinationOptions {
  const e = { ...o };
  const what = r();
  if (what < 0.4) e.weight = pick(r, [0, 2, 3, 1000]);
  else if (what < 0.55) e.forwarding = pick(r, ['masq', 'route', 'local', 'bypass', 'tunnel'] as const);
  else if (what < 0.7) { e.upperThreshold = pick(r, [0, 20]); e.lowerThreshold = pick(r, [0, 3]); }
  else if (what < 0.85) {
    e.forwarding = 'tunnel';
    e.tunnelType = pick(r, ['ipip', 'gue', 'gre'] as const);
    delete e.tunnelPort;
    delete e.tunnelChecksum;
    if (e.tunnelType === 'gue') e.tunnelPort = 6080;
    if (e.tunnelType === 'gre' && chance(r, 0.5)) e.tunnelChecksum = 'csum';
  } else if (e.forwarding !== 'tunnel') {
    delete e.tunnelType;
    delete e.tunnelPort;
    delete e.tunnelChecksum;
    e.forwarding = 'masq';
  }
  if (chance(r, bad)) {
    const oops = pick(r, [
      { weight: -1 }, { weight: 1.5 }, { weight: Number.NaN }, { forwarding: 'bogus' }, { upperThreshold: 1, lowerThreshold: 2 },
      { tunnelPort: 80 }, { tunnelChecksum: 'remcsum' }, { port: 70000 }, { port: '80' }, { address: 'not an address' },
    ] as const);
    Object.assign(e, oops);
  }
  return e;
}

/** What a caller might ask for, given what the kernel has. */
function desiredFrom(r: Rng, current: readonly IpvsServiceState[], bad: number): DesiredService[] {
  const out: DesiredService[] = [];
  for (const c of current) {
    if (chance(r, 0.15)) continue; // unlisted: the scope decides
    const key: IpvsServiceKey = 'fwmark' in c && c.fwmark !== undefined
      ? { fwmark: c.fwmark, ...(c.family !== 'inet' || chance(r, 0.5) ? { family: c.family } : {}) }
      : (({ protocol, address, port }) => ({ protocol, address: respell(r, address), port }))(c as IpvsServiceState & { protocol: 'tcp'; address: string; port: number });
    const s: DesiredService = { ...key };
    if (c.scheduler !== 'wlc' || chance(r, 0.5)) s.scheduler = c.scheduler;
    if (c.persistent) s.persistent = c.persistent;
    if (c.persistent && (c.netmask !== 128 && c.netmask !== '255.255.255.255')) s.netmask = chance(r, 0.5) && c.netmask === '255.255.255.0' ? 24 : c.netmask;
    if (c.onePacket) s.onePacket = true;
    if (c.schedFlags.length) s.schedFlags = [...c.schedFlags];
    if (c.pe !== undefined) s.pe = c.pe;
    if (chance(r, 0.1)) s.scheduler = pick(r, SCHEDULERS.filter((x) => x !== 'sh' && x !== 'mh'));
    if (chance(r, 0.05)) s.persistent = pick(r, [0, 120]);
    let dests = c.destinations.map((d) => ({ ...asOptions(r, d), address: respell(r, d.address) }));
    const order = r();
    if (order < 0.25) dests.reverse();
    else if (order < 0.35) shuffle(r, dests);
    dests = dests.flatMap((d) => {
      const what = r();
      if (what < 0.1) return [];
      if (what < 0.3) return [editDestination(r, d, bad)];
      // fields a spread copies into the state: unknown ones, undefined ones, symbols
      if (what < 0.34) return [{ ...d, ...pick(r, [{ note: 'x' }, { tunnelPort: undefined }, { [Symbol.for('tag')]: 1 }, { weight: -0 }]) }];
      return [d];
    });
    if (chance(r, 0.2)) {
      const v6 = c.family === 'inet6';
      dests.push({ address: v6 ? pick(r, V6_RIPS)[1]! : pick(r, V4_RIPS), port: pick(r, [8080, 9090]), forwarding: 'masq' });
    }
    if (chance(r, bad) && dests.length) dests.push({ ...dests[0]!, weight: 7 }); // listed twice
    if (chance(r, bad / 2)) dests.push(null as never);
    if (c.destinations.length > 0 && chance(r, 0.1)) delete (s as { destinations?: unknown }).destinations;
    else s.destinations = dests;
    out.push(s);
  }
  if (chance(r, 0.3)) out.push({ protocol: 'tcp', address: pick(r, V4_VIPS), port: 8443, destinations: [{ address: '172.16.9.9', port: 8443, forwarding: 'masq' }] });
  if (chance(r, 0.1)) out.push({ fwmark: 77, family: 'inet6', scheduler: 'rr', destinations: [{ address: 'fd00::77', port: 0 }] });
  if (chance(r, bad) && out.length) out.push({ ...out[0]! }); // service listed twice
  if (chance(r, bad / 2)) out.push(pick(r, [
    { protocol: 'tcp', address: '10.0.0.1', port: 0 }, { protocol: 'icmp', address: '10.0.0.1', port: 1 }, { protocol: 'tcp', address: 'x', port: 1 },
    { protocol: 'tcp', address: '10.0.0.1 ', port: 80 }, { protocol: 'TCP', address: '10.96.0.1', port: 80 }, { fwmark: 0 },
    { protocol: 'tcp', address: '10.96.0.1', port: 80, destinations: 'none' }, { protocol: 'udp', address: '10.96.0.2', port: 53, onePacket: 'yes' },
  ] as never));
  return shuffle(r, out);
}

/**
 * A state no kernel reports but a caller can hand over as `current`: a service or destination
 * twice, fields missing, odd keys. The diff must treat it as the reference does.
 */
function handMade(r: Rng, state: IpvsServiceState[]): IpvsServiceState[] {
  const out = state.map((s) => ({ ...s, destinations: s.destinations.map((d) => ({ ...d })) }));
  if (!out.length) return out;
  const s = pick(r, out);
  const what = r();
  if (what < 0.2) out.push({ ...s, scheduler: 'rr' });
  else if (what < 0.4 && s.destinations.length) s.destinations.push({ ...s.destinations[0]!, weight: 3 });
  else if (what < 0.5 && s.destinations.length) delete (s.destinations[0] as { forwarding?: unknown }).forwarding;
  else if (what < 0.55 && s.destinations.length) delete (s.destinations[0] as { activeConns?: unknown }).activeConns;
  else if (what < 0.7 && s.destinations.length) s.destinations[0] = { ...s.destinations[0]!, weight: -1 };
  else if ('protocol' in s) {
    Object.assign(s, pick(r, [
      { protocol: 'icmp' }, { port: 70000 }, { address: `${s.address} ` }, { protocol: 'tcp 1.2.3.4' }, { protocol: 'fwmark' },
      { protocol: new String(s.protocol) },
    ]));
  }
  return out;
}

const SCOPES: (ServiceScope | undefined)[] = [
  undefined, { addresses: ['10.96.0.0/12'] }, { addresses: ['10.0.0.0/8', 'fd00::/16'], fwmarks: [[1, 10]] }, { fwmarks: [900] },
  (s) => 'port' in s && s.port === 443,
];

function outcome<T>(f: () => T): { value: T } | { error: string } {
  try {
    return { value: f() };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

/** A handle whose batches always apply. */
const host = {
  batch: () => {
    const nothing = () => undefined;
    const ipvs = { addService: nothing, editService: nothing, deleteService: nothing, addDestination: nothing, editDestination: nothing, deleteDestination: nothing, change: nothing };
    return { ipvs, commit: async () => ({ ok: true, applied: 0, failed: 0, skipped: 0, results: [] }) } as unknown as Batch;
  },
} as unknown as ReconcileHost;

/** The reference reconcile from `read` to `desired`: the plan, and the state after it. */
function referenceReconcile(read: IpvsServiceState[], desired: DesiredService[], scope: ServiceScope | undefined) {
  const plan = referenceDiffIpvs(desired, read, servicePredicate(scope));
  return { plan, state: plan.length ? referenceStateAfter(read, desired, plan) : read };
}

describe('fast IPVS diff', () => {
  it('plans exactly what the reference plans, or fails with the same error, on 4000 generated cases', () => {
    let plans = 0, errors = 0, steps = 0;
    for (let seed = 1; seed <= 4000; seed++) {
      const r = random(seed);
      const kernel = kernelState(r);
      const current = seed % 5 === 0 ? handMade(r, kernel) : kernel;
      const desired = desiredFrom(r, seed % 10 === 0 ? kernel : current, seed % 4 === 0 ? 0.15 : 0);
      const scope = pick(r, SCOPES);
      const want = outcome(() => referenceDiffIpvs(desired, current, servicePredicate(scope)));
      const got = outcome(() => diffIpvs(desired, current, servicePredicate(scope)));
      expect(got, `seed ${seed}`).toStrictEqual(want);
      if ('value' in want) { plans++; steps += want.value.length; } else errors++;
    }
    // the cases cover both outcomes well
    expect(plans).toBeGreaterThan(2000);
    expect(errors).toBeGreaterThan(300);
    expect(steps).toBeGreaterThan(5000);
  });

  it('returns the same plan and state through reconcile, also from the state of the last reconcile', async () => {
    for (let seed = 1; seed <= 1500; seed++) {
      const r = random(seed * 7919);
      const kernel = seed % 5 === 0 ? handMade(r, kernelState(r)) : kernelState(r);
      const scope = pick(r, SCOPES);
      let readRef = kernel;
      let readNew: Snapshot = { readAt: new Date(0), durationMs: 0, ipvs: kernel };
      for (let round = 0; round < 3; round++) {
        const desired = desiredFrom(r, readRef, 0);
        const want = outcome(() => referenceReconcile(readRef, desired, scope));
        let got: { value: { plan: unknown; state: unknown } } | { error: string };
        try {
          const res = await reconcile(host, { ipvs: desired }, { current: readNew, scope: { services: scope } });
          got = { value: { plan: res.plan.ipvs, state: res.state!.ipvs } };
          readNew = res.state!;
        } catch (e) {
          got = { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
        }
        expect(got, `seed ${seed} round ${round}`).toStrictEqual(want);
        if (!('value' in want)) break;
        readRef = want.value.state;
      }
    }
  });

  it('finds edits of destinations listed in the kernel order, reversed or shuffled, and with tails that collide', () => {
    const dests = ['10.1.100.5', '10.2.100.5', '10.3.100.5', '172.16.0.1'].map((address) => ({
      address, port: 80, family: 'inet' as const, forwarding: 'masq' as const, weight: 1, upperThreshold: 0, lowerThreshold: 0,
      activeConns: 0, inactiveConns: 0, persistentConns: 0,
    }));
    const current = [{
      protocol: 'tcp', address: '10.96.0.1', port: 80, family: 'inet', scheduler: 'rr', persistent: 0, netmask: '255.255.255.255',
      onePacket: false, schedFlags: [], flags: IP_VS_SVC_F_HASHED, stats: zeroStats, destinations: dests,
    } as IpvsServiceState];
    const options = dests.map((d) => ({ address: d.address, port: d.port, forwarding: d.forwarding, weight: d.weight }));
    for (const order of [options, [...options].reverse(), [options[2]!, options[0]!, options[3]!, options[1]!]]) {
      const listed = order.map((o) => (o.address === '10.2.100.5' ? { ...o, weight: 9 } : o));
      const desired = [{ protocol: 'tcp' as const, address: '10.96.0.1', port: 80, scheduler: 'rr', destinations: listed }];
      expect(diffIpvs(desired, current, () => false)).toStrictEqual(referenceDiffIpvs(desired, current, () => false));
      expect(diffIpvs(desired, current, () => false)).toHaveLength(1);
    }
    // listed twice, where the kernel has it twice too (a hand-made state): refused all the same
    const twice = [{ ...current[0]!, destinations: [dests[0]!, dests[0]!] }];
    const desired = [{ protocol: 'tcp' as const, address: '10.96.0.1', port: 80, scheduler: 'rr', destinations: [options[0]!, options[0]!] }];
    expect(() => diffIpvs(desired, twice, () => false)).toThrow(/listed twice/);
  });

  it('deletes a service the kernel state has twice once, as the last of the two (a hand-made state)', () => {
    const base = {
      protocol: 'tcp', address: '10.96.0.1', port: 80, family: 'inet', scheduler: 'rr', persistent: 0, netmask: '255.255.255.255',
      onePacket: false, schedFlags: [], flags: IP_VS_SVC_F_HASHED, stats: zeroStats, destinations: [],
    } as unknown as IpvsServiceState;
    const other = { ...base, address: '10.96.0.2' };
    const current = [base, other, { ...base, scheduler: 'wlc', destinations: [{ address: '172.16.0.1', port: 80 }] } as IpvsServiceState];
    const plan = diffIpvs([], current, () => true);
    expect(plan).toStrictEqual(referenceDiffIpvs([], current, () => true));
    expect(plan.map((step) => step.kind === 'deleteService' && step.destinations)).toEqual([1, 0]);
  });
});
