/**
 * The proxy's kernel side, on the library's public API:
 *
 * - Everything through `handle.reconcile`: it reads the kernel, computes the smallest change
 *   against the desired state (IPVS services and destinations, kube-proxy's ipsets, the dummy
 *   link's addresses) and commits it in one batch. Its scope is what the proxy owns: services and
 *   addresses inside the owned ranges, and the `KUBE-*` set names; nothing else is ever deleted.
 *   Reconcile creates the dummy link when it is missing.
 * - Address events (`addresses.events`): an address of the proxy's removed behind its back asks
 *   for a sync at once (IPVS has no such notifications: the periodic sync repairs those).
 *
 * Graceful removal without blocking. Reconcile can drain by itself (`drain` option), but it then
 * waits inside the call until the connections are gone; a proxy must keep syncing meanwhile. So
 * the proxy keeps each draining destination in its desired state at weight 0 (no new connections)
 * and drops it once reconcile's read shows no connections left, or `drainTimeoutMs` has passed;
 * the next reconcile then deletes it. Which deletions need draining comes from reconcile's own dry
 * run: its plan marks them (`drain: true`: a TCP destination with connections, of a service that
 * stays).
 */
import { release } from 'node:os';
import { openHandle, type DesiredState, type IpvsServiceKey, type IpvsSysctlsOptions, type ReconcileOptions, type ReconcileResult } from 'ipvs';
import { allSetNames, type DesiredPlane } from './desired';
import { SyncError, type Dataplane, type SyncReport } from './proxy';
import type { OwnedRanges } from './ranges';

type DesiredService = NonNullable<DesiredState['ipvs']>[number];

/** What the proxy owns and where. */
export interface Scope {
  netns: string | undefined;
  link: string;
  ranges: OwnedRanges;
  drainTimeoutMs: number;
}

export interface KernelDataplane extends Dataplane {
  /** Removes everything in scope; resolves with a one-line summary. */
  cleanup(): Promise<string>;
  close(): void;
}

interface Draining {
  service: IpvsServiceKey & { protocol: string; address: string; port: number };
  address: string;
  port: number;
  since: number;
}

const svcId = (s: { protocol: string; address: string; port: number }) => `${s.protocol}/${s.address}/${s.port}`;
const destId = (service: { protocol: string; address: string; port: number }, d: { address: string; port: number }) => `${svcId(service)} ${d.address}/${d.port}`;
const cidrOf = (a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`;

/**
 * The IPVS sysctls kube-proxy's IPVS mode sets (pkg/proxy/ipvs): conntrack entries for IPVS
 * connections (its iptables rules match them), connections to a deleted destination expired at
 * once, persistence templates of a weight-0 destination expired, and on kernels from 4.1 up to 5.9
 * (where port reuse of an expiring connection was rescheduled badly) conn_reuse_mode 0.
 */
export function kubeProxySysctls(release: string): IpvsSysctlsOptions {
  const [major = 0, minor = 0] = release.split(/[.-]/).map(Number);
  const v = major * 1000 + minor;
  return {
    conntrack: 1, expire_nodest_conn: 1, expire_quiescent_template: 1,
    ...(v >= 4001 && v < 5009 && { conn_reuse_mode: 0 }),
  };
}

export function createDataplane(scope: Scope, log: (line: string) => void = () => undefined): KernelDataplane {
  const h = openHandle(scope.netns ? { netns: scope.netns } : {});
  const owned = allSetNames();
  const ranges = scope.ranges.cidrs;
  const reconcileScope: ReconcileOptions['scope'] = { services: { addresses: ranges }, sets: owned, addresses: ranges };
  const draining = new Map<string, Draining>();
  /** Addresses the proxy wants on its link, and the link's index: what address events are matched against. */
  let wanted = new Set<string>();
  let linkIndex = -1;

  function desiredState(plane: DesiredPlane): DesiredState {
    const ipvs: DesiredService[] = plane.services.map((s) => {
      const key = { protocol: s.protocol, address: s.address, port: s.port };
      const ready = new Set(s.destinations.map((d) => `${d.address}/${d.port}`));
      const destinations = s.destinations.map((d) => ({ address: d.address, port: d.port, weight: d.weight, forwarding: 'masq' as const }));
      for (const d of draining.values()) {
        if (svcId(d.service) === svcId(key) && !ready.has(`${d.address}/${d.port}`)) {
          destinations.push({ address: d.address, port: d.port, weight: 0, forwarding: 'masq' });
        }
      }
      return { ...key, scheduler: s.scheduler, ...(s.persistent > 0 && { persistent: s.persistent }), destinations };
    });
    const sets = plane.sets.map((s) => ({ name: s.name, type: s.type, options: { family: s.family }, entries: s.entries }));
    return { ipvs, sets, addresses: [{ link: scope.link, addresses: plane.addresses, create: true }] };
  }

  /** Updates the draining destinations from a dry run's plan and read; true when something changed. */
  function updateDraining(plane: DesiredPlane, dry: ReconcileResult): boolean {
    let changed = false;
    const now = Date.now();
    const ready = new Set(plane.services.flatMap((s) => s.destinations.map((d) => destId(s, d))));
    const conns = new Map<string, number>();
    for (const s of dry.read.ipvs ?? []) {
      if (!('address' in s)) continue;
      for (const d of s.destinations) conns.set(destId(s, d), d.activeConns + d.inactiveConns);
    }
    for (const [id, d] of draining) {
      const left = conns.get(id);
      if (ready.has(id) || left === undefined || left === 0 || now - d.since >= scope.drainTimeoutMs) {
        draining.delete(id); // ready again, deleted by someone else, drained, or out of time
        changed = true;
      }
    }
    for (const step of dry.plan.ipvs) {
      if (step.kind !== 'deleteDestination' || !step.drain || !('address' in step.service)) continue;
      const service = step.service as Draining['service'];
      const id = destId(service, step.destination);
      if (!draining.has(id)) {
        draining.set(id, { service, address: step.destination.address, port: step.destination.port, since: now });
        changed = true;
      }
    }
    return changed;
  }

  function count(result: ReconcileResult, changes: Record<string, number>): void {
    const add = (k: string, n = 1) => (changes[k] = (changes[k] ?? 0) + n);
    for (const s of result.plan.addresses) {
      if (s.kind === 'addLink') add('link+');
      else if (s.kind === 'addAddress') add('address+');
      else if (s.kind === 'deleteAddress') add('address-');
    }
    for (const s of result.plan.ipvs) {
      const noun = s.kind.endsWith('Service') ? 'service' : 'destination';
      add(`${noun}${s.kind.startsWith('add') ? '+' : s.kind.startsWith('edit') ? '~' : '-'}`);
    }
    for (const s of result.plan.sets) {
      if (s.kind === 'createSet') add('ipset+');
      else if (s.kind === 'destroySet') add('ipset-');
      else if (s.kind === 'addEntries') add('ipset_entry+', s.entries.length);
      else if (s.kind === 'delEntries') add('ipset_entry-', s.entries.length);
    }
  }

  return {
    async prepare(): Promise<string> {
      const want = kubeProxySysctls(release());
      const have = await h.ipvs.sysctls();
      const todo = Object.fromEntries(Object.entries(want).filter(([k, v]) => (have as Record<string, unknown>)[k] !== v)) as IpvsSysctlsOptions;
      await h.ipvs.setSysctls(todo);
      const all = Object.entries(want).map(([k, v]) => `net.ipv4.vs.${k}=${v}`).join(' ');
      const changed = Object.keys(todo).length;
      return `sysctl: ${all} as kube-proxy sets them (${changed === 0 ? 'already so' : `${changed} changed`}${'conn_reuse_mode' in want ? '' : '; conn_reuse_mode left alone, this kernel does not need it'})`;
    },

    async sync(plane: DesiredPlane): Promise<SyncReport> {
      const changes: Record<string, number> = {};
      try {
        // A dry run first: its plan says which deletions must drain, and its read is reused below.
        const dry = await h.reconcile(desiredState(plane), { scope: reconcileScope, dryRun: true });
        updateDraining(plane, dry);
        wanted = new Set(plane.addresses);
        linkIndex = dry.read.links?.find((l) => l.ifname === scope.link)?.ifindex ?? -1;
        const desired = desiredState(plane);
        const r = await h.reconcile(desired, { scope: reconcileScope, current: dry.read, onError: 'continue' });
        const conflicts = [...r.plan.sets, ...r.plan.addresses].filter((s) => s.kind === 'conflict');
        if (linkIndex < 0 && r.ok) {
          // Created just now: learn its index for the address events.
          linkIndex = (await h.links.find(scope.link))?.ifindex ?? -1;
        }
        if (!r.ok || conflicts.length) {
          const what = r.commit ? `${r.commit.applied} of ${r.commit.results.length} changes applied` : 'nothing applied';
          const why = r.commit?.firstError?.message ?? conflicts.map((c) => (c as { detail: string }).detail).join('; ');
          throw new SyncError(`reconcile: ${what}; ${why}`, changes);
        }
        // Counted from the plan, all of it applied; a draining destination's weight going to 0 is an edit.
        count(r, changes);
        return {
          changes,
          draining: draining.size,
          objects: {
            service: desired.ipvs!.length,
            destination: desired.ipvs!.reduce((n, s) => n + (s.destinations?.length ?? 0), 0),
            address: plane.addresses.length,
            ipset_entry: plane.sets.reduce((n, s) => n + s.entries.length, 0),
          },
        };
      } catch (e) {
        if (e instanceof SyncError) throw e;
        throw new SyncError((e as Error).message, changes);
      }
    },

    watch(onDrift: (why: string) => void): () => void {
      const ac = new AbortController();
      void (async () => {
        for await (const ev of h.addresses.events({ signal: ac.signal })) {
          if (ev.type === 'overflow') onDrift('address events overflowed');
          else if (ev.type === 'removed' && ev.address.ifindex === linkIndex && wanted.has(cidrOf(ev.address))) {
            onDrift(`address ${cidrOf(ev.address)} removed`);
          }
        }
      })().catch((e: Error) => {
        if (!ac.signal.aborted) log(`address events stopped: ${e.message}; repairs wait for the periodic sync`);
      });
      return () => ac.abort();
    },

    async cleanup(): Promise<string> {
      const r = await h.reconcile({ ipvs: [], sets: [] }, { scope: reconcileScope, onError: 'continue' });
      const services = r.plan.ipvs.filter((s) => s.kind === 'deleteService').length;
      const sets = r.plan.sets.filter((s) => s.kind === 'destroySet').length;
      if (!r.ok) throw new Error(`reconcile: ${r.commit?.firstError?.message ?? 'failed'}`);
      const link = await h.links.ensureGone(scope.link);
      return `services -${services}, ipsets -${sets}, link ${scope.link} ${link ? 'deleted with its addresses' : 'was not there'}`;
    },

    close(): void {
      h.close();
    },
  };
}
