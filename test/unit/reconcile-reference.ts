// The IPVS diff and the state after a commit as they were before the fast paths (commit 0847875),
// kept as the reference the fast ones must agree with: every id built as text, every changed
// setting compared through the attribute builders. Not a test file itself.
import { parseAddress } from '../../src/netlink/address';
import { DESIRED_SERVICE_KEYS, describeService, serviceAttrs, serviceKeyAttrs, type IpvsServiceKey, type IpvsServiceOptions } from '../../src/ipvs/service';
import { destinationAttrs, type IpvsDestinationOptions } from '../../src/ipvs/destination';
import { destinationOptions, serviceOptions } from '../../src/batch/ipvs';
import { destinationDifferences, serviceDifferences, type DesiredService, type IpvsPlanStep } from '../../src/reconcile/diff';
import type { IpvsServiceState } from '../../src/snapshot/ipvs-read';
import type { IpvsDestinationState } from '../../src/snapshot/ipvs-decode';

function canonicalV6(a: string): string {
  const b = parseAddress(a);
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(i * 2));
  let best = -1, len = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > len && j - i >= 2) { best = i; len = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  return best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + len).join(':')}`;
}

function canonicalAddress(a: string): string {
  if (!a.includes(':')) return a;
  try {
    return canonicalV6(a);
  } catch {
    return a;
  }
}

function serviceId(s: IpvsServiceKey): string {
  const o = s as { fwmark?: unknown; family?: unknown; protocol?: unknown; address?: unknown; port?: unknown };
  if ('fwmark' in s && o.fwmark !== undefined) return `fwmark ${String(o.fwmark)} ${String(o.family ?? 'inet')}`;
  if (typeof o.address !== 'string' || typeof o.port !== 'number') return `? ${String(o.address)} ${String(o.port)}`;
  return `${String(o.protocol)} ${canonicalAddress(o.address)} ${o.port}`;
}

function destinationId(d: { address: unknown; port: unknown }): string {
  if (typeof d.address !== 'string' || typeof d.port !== 'number') return `? ${String(d.address)} ${String(d.port)}`;
  return `${canonicalAddress(d.address)} ${d.port}`;
}

function sameSettings(s: IpvsServiceOptions, c: IpvsServiceState): boolean {
  return (s.scheduler ?? 'wlc') === c.scheduler && (s.persistent ?? 0) === 0 && c.persistent === 0 && s.netmask === undefined
    && (s.onePacket ?? false) === c.onePacket && (s.schedFlags === undefined || s.schedFlags.length === 0)
    && c.schedFlags.length === 0 && s.pe === c.pe;
}

function sameDestination(d: IpvsDestinationOptions, c: IpvsDestinationState): boolean {
  return (d.forwarding ?? 'route') === c.forwarding && (d.weight ?? 1) === c.weight
    && (d.upperThreshold ?? 0) === c.upperThreshold && (d.lowerThreshold ?? 0) === c.lowerThreshold
    && d.tunnelType === undefined && d.tunnelPort === undefined && d.tunnelChecksum === undefined && c.tunnelType === undefined;
}

function serviceKeyOnly(s: IpvsServiceKey): IpvsServiceKey {
  serviceKeyAttrs(s, 'reconcile');
  return 'fwmark' in s && s.fwmark !== undefined
    ? { fwmark: s.fwmark, ...(s.family !== undefined && { family: s.family }) }
    : { protocol: (s as { protocol: 'tcp' }).protocol, address: (s as { address: string }).address, port: (s as { port: number }).port };
}

/** The plan as diffIpvs made it before. */
export function referenceDiffIpvs(
  desired: readonly DesiredService[], current: readonly IpvsServiceState[], inScope: (s: IpvsServiceKey) => boolean,
): IpvsPlanStep[] {
  const op = 'reconcile';
  const have = new Map<string, IpvsServiceState>();
  for (const c of current) have.set(serviceId(c), c);
  const seen = new Set<string>();
  const plan: IpvsPlanStep[] = [];
  for (const s of desired) {
    if (s === null || typeof s !== 'object') throw new TypeError(`${op}: every desired service must be an object`);
    const sid = serviceId(s);
    if (seen.has(sid)) throw new TypeError(`${op}: service ${describeService(s)} is listed twice`);
    seen.add(sid);
    const { destinations = [], ...service } = s;
    if (!Array.isArray(destinations)) throw new TypeError(`${op}: destinations of ${describeService(s)} must be an array`);
    const cur = have.get(sid);
    let af: number;
    if (!cur) {
      af = serviceAttrs(s, op, DESIRED_SERVICE_KEYS).af as number;
    } else {
      have.delete(sid);
      af = cur.family === 'inet6' ? 10 : 2;
      if (!sameSettings(s, cur)) {
        const fields = serviceDifferences(serviceAttrs(s, op, DESIRED_SERVICE_KEYS), serviceAttrs(serviceOptions(cur), op));
        if (fields.length) plan.push({ kind: 'editService', service, fields });
      }
    }
    const key = serviceKeyOnly(s);
    if (!cur) plan.push({ kind: 'addService', service });
    const curDests = new Map<string, IpvsDestinationState>();
    if (cur) for (const c of cur.destinations) curDests.set(`${c.address} ${c.port}`, c);
    const seenDests = new Set<string>();
    for (const d of destinations) {
      if (d === null || typeof d !== 'object') throw new TypeError(`${op}: destinations of ${describeService(s)} must be objects`);
      const did = destinationId(d);
      if (seenDests.has(did)) throw new TypeError(`${op}: destination ${did} of service ${describeService(s)} is listed twice`);
      seenDests.add(did);
      const c = curDests.get(did);
      if (!c) {
        destinationAttrs(d, op, af);
        plan.push({ kind: 'addDestination', service: key, destination: d });
        continue;
      }
      curDests.delete(did);
      if (sameDestination(d, c)) continue;
      const changed = destinationDifferences(destinationAttrs(d, op, af), destinationAttrs(destinationOptions(c), op));
      if (changed.length) plan.push({ kind: 'editDestination', service: key, destination: d, fields: changed });
    }
    for (const c of curDests.values()) {
      const connections = c.activeConns + c.inactiveConns;
      const drains = !('protocol' in key) || key.protocol === 'tcp';
      plan.push({
        kind: 'deleteDestination', service: key, destination: { address: c.address, port: c.port },
        drain: connections > 0 && drains, connections,
      });
    }
  }
  for (const c of have.values()) {
    const key = serviceKeyOnly(c);
    if (inScope(key)) plan.push({ kind: 'deleteService', service: key, destinations: c.destinations.length });
  }
  return plan;
}

/** The IPVS part of the state after a commit that applied `plan`, as reconcile built it before. */
export function referenceStateAfter(read: readonly IpvsServiceState[], desired: readonly DesiredService[], plan: readonly IpvsPlanStep[]): IpvsServiceState[] {
  const touched = new Set(plan.map((s) => serviceId(s.service)));
  const next = read.filter((s) => !touched.has(serviceId(s)));
  const byId = new Map(read.filter((s) => touched.has(serviceId(s))).map((s) => [serviceId(s), s]));
  for (const want of desired) {
    const id = serviceId(want);
    if (!touched.has(id)) continue;
    const cur = byId.get(id);
    const { destinations = [], ...settings } = want;
    const family = 'fwmark' in want ? (want.family ?? 'inet') : (want.address.includes(':') ? 'inet6' : 'inet');
    const curDests = new Map((cur?.destinations ?? []).map((d) => [destinationId(d), d]));
    next.push({
      ...(cur ?? {}),
      scheduler: 'wlc', persistent: 0, netmask: family === 'inet6' ? 128 : '255.255.255.255', onePacket: false, schedFlags: [],
      ...settings,
      // one change from the original: IPv6 addresses in the kernel's spelling (FD00::5 was kept as
      // given, and a reconcile from that state planned an add the kernel refused with EEXIST)
      ...(family === 'inet6' && 'address' in settings && { address: canonicalAddress(settings.address) }),
      family,
      destinations: destinations.map((d) => ({
        activeConns: 0, inactiveConns: 0, persistentConns: 0, upperThreshold: 0, lowerThreshold: 0, weight: 1, forwarding: 'route',
        ...(curDests.get(destinationId(d)) ?? {}),
        ...d,
        ...(d.address.includes(':') && { address: canonicalAddress(d.address) }),
        family: d.address.includes(':') ? 'inet6' : 'inet',
      })),
    } as never);
  }
  return next;
}
