/**
 * From the config to the data plane the proxy wants, the way kube-proxy's IPVS mode lays it out:
 *
 * - one IPVS virtual service per virtual IP, port and protocol, with the service's scheduler and,
 *   for ClientIP affinity, persistence with its timeout (`ipvsadm -p`);
 * - one masquerading destination per ready, non-terminating endpoint of the same address family
 *   (IPVS NAT cannot cross families). Endpoints that stop being ready, start terminating or leave
 *   the file are simply absent here: reconcile drains them (weight 0, then delete once their
 *   connections are gone), which is kube-proxy's graceful termination;
 * - every virtual IP bound as a /32 or /128 on the dummy link (default `kube-ipvs0`), so the host
 *   accepts packets for it;
 * - kube-proxy's ipsets, per family (IPv6 names carry `KUBE-6-`, as kube-proxy's own do):
 *   `KUBE-CLUSTER-IP` (hash:ip,port) every virtual IP and port, `KUBE-IPVS-IPS` (hash:ip) every
 *   address on the dummy link, `KUBE-LOOP-BACK` (hash:ip,port,ip) every local endpoint, for the
 *   hairpin masquerade rule.
 *
 * Pure: no I/O, so it is unit-tested on its own.
 */
import { isIPv6 } from 'node:net';
import type { ProxyConfig, Protocol } from './config';

export type Family = 'inet' | 'inet6';

export interface DesiredDestination {
  address: string;
  port: number;
  weight: number;
}

export interface DesiredService {
  /** The config service it comes from (for logs). */
  name: string;
  protocol: Protocol;
  address: string;
  port: number;
  scheduler: string;
  /** Persistence timeout in seconds; 0: none. */
  persistent: number;
  destinations: DesiredDestination[];
}

export type SetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip';

export interface DesiredSet {
  name: string;
  type: SetType;
  family: Family;
  comment: string;
  /** Entries in `ipset save` text: `10.96.0.10`, `10.96.0.10,tcp:80`, `10.244.0.5,tcp:8080,10.244.0.5`. */
  entries: string[];
}

export interface DesiredPlane {
  services: DesiredService[];
  /** Addresses for the dummy link, with prefix: `10.96.0.10/32`, `fd00::10/128`. */
  addresses: string[];
  sets: DesiredSet[];
}

export const familyOf = (ip: string): Family => (isIPv6(ip) ? 'inet6' : 'inet');

/** kube-proxy's set names (pkg/proxy/ipvs/ipset.go); IPv6 gets `KUBE-6-`. */
export function setName(base: 'CLUSTER-IP' | 'IPVS-IPS' | 'LOOP-BACK', family: Family): string {
  return `KUBE-${family === 'inet6' ? '6-' : ''}${base}`;
}

const SETS: { base: 'CLUSTER-IP' | 'IPVS-IPS' | 'LOOP-BACK'; type: SetType; comment: string }[] = [
  { base: 'CLUSTER-IP', type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  { base: 'IPVS-IPS', type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
  { base: 'LOOP-BACK', type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
];

/** Every set the proxy may keep: both families, whether or not the config uses them now. */
export function allSetNames(): string[] {
  return (['inet', 'inet6'] as const).flatMap((f) => SETS.map((s) => setName(s.base, f)));
}

/** The data plane for a config. Deterministic: same config, same plane, same order. */
export function desiredPlane(config: ProxyConfig): DesiredPlane {
  const services: DesiredService[] = [];
  const addresses = new Set<string>();
  const entries: Record<Family, Record<string, Set<string>>> = {
    inet: { 'CLUSTER-IP': new Set(), 'IPVS-IPS': new Set(), 'LOOP-BACK': new Set() },
    inet6: { 'CLUSTER-IP': new Set(), 'IPVS-IPS': new Set(), 'LOOP-BACK': new Set() },
  };
  for (const s of config.services) {
    for (const ip of s.ips) {
      const family = familyOf(ip);
      addresses.add(`${ip}/${family === 'inet6' ? 128 : 32}`);
      entries[family]['IPVS-IPS']!.add(ip);
      for (const p of s.ports) {
        entries[family]['CLUSTER-IP']!.add(`${ip},${p.protocol}:${p.port}`);
        const destinations: DesiredDestination[] = [];
        for (const e of s.endpoints) {
          if (familyOf(e.address) !== family) continue;
          const port = e.port ?? p.targetPort;
          if (e.local) entries[family]['LOOP-BACK']!.add(`${e.address},${p.protocol}:${port},${e.address}`);
          if (!e.ready || e.terminating) continue;
          destinations.push({ address: e.address, port, weight: e.weight });
        }
        services.push({
          name: s.name, protocol: p.protocol, address: ip, port: p.port, scheduler: s.scheduler,
          persistent: s.affinityTimeout, destinations,
        });
      }
    }
  }
  const sets: DesiredSet[] = [];
  for (const family of ['inet', 'inet6'] as const) {
    for (const def of SETS) {
      sets.push({ name: setName(def.base, family), type: def.type, family, comment: def.comment, entries: [...entries[family][def.base]!] });
    }
  }
  return { services, addresses: [...addresses], sets };
}

/** Counts for metrics and logs. */
export function planSize(p: DesiredPlane): { services: number; destinations: number; addresses: number; setEntries: number } {
  return {
    services: p.services.length,
    destinations: p.services.reduce((n, s) => n + s.destinations.length, 0),
    addresses: p.addresses.length,
    setEntries: p.sets.reduce((n, s) => n + s.entries.length, 0),
  };
}
