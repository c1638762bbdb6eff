/**
 * `reconcile(desired)`: read what the kernel has, compute the smallest change, commit it in one
 * batch, say what was done; or, with `dryRun`, only say what would be.
 *
 * @module
 */
import type { Batch } from '../batch/batch';
import type { CommitOptions, CommitResult, FailurePolicy } from '../batch/commit';
import { destinationOptions, destinationId, serviceId } from '../batch/ipvs';
import type { Ipset } from '../ipset/ipset';
import type { IpsetSet } from '../ipset/set';
import { toEntryObject } from '../ipset/entry';
import type { IpvsDestination, IpvsDestinationOptions } from '../ipvs/destination';
import type { IpvsServiceKey } from '../ipvs/service';
import { canonicalAddress } from '../netlink/address';
import type { Snapshot, SnapshotOptions } from '../snapshot/snapshot';
import type { IpvsServiceState } from '../snapshot/ipvs-read';
import type { IpvsDestinationState } from '../snapshot/ipvs-decode';
import {
  addressPredicate, diffAddresses, diffSets, planIpvs, quickDestinationId, servicePredicate, setPredicate, type IpvsDiff,
  type AddressPlanStep, type AddressScope, type DesiredLinkAddresses,
  type DesiredService, type DesiredSet, type IpsetPlanStep, type IpvsPlanStep, type ServiceScope, type SetScope,
} from './diff';
import { drainDestinations, type DrainOptions, type DrainResult } from './drain';

/** What the data plane should look like. Parts left out are not looked at. @category Reconcile and snapshots */
export interface DesiredState {
  /** Every service that should exist (among those the scope covers), each with exactly its destinations. */
  ipvs?: readonly DesiredService[];
  /** Sets that should exist, each with exactly its entries. */
  sets?: readonly DesiredSet[];
  /** Links that should carry exactly these addresses (kube-ipvs0 and its cluster IPs). */
  addresses?: readonly DesiredLinkAddresses[];
}

/** What reconcile owns beyond what `desired` lists: only unlisted objects in scope are deleted. @category Reconcile and snapshots */
export interface ReconcileScope {
  /** Unlisted IPVS services that may be deleted (`ipvsadm -D`), with their destinations. */
  services?: ServiceScope;
  /**
   * Unlisted sets that may be destroyed (`ipset destroy NAME`). One still referenced (by a rule or
   * a list:set) is refused with IPSET_ERR_BUSY: a failed change in `commit`.
   */
  sets?: SetScope;
  /** Addresses of listed links that may be deleted when unlisted. */
  addresses?: AddressScope;
}

/** Options of {@link Handle.reconcile}. @category Reconcile and snapshots */
export interface ReconcileOptions {
  /** What unlisted objects reconcile may delete. Default: none (it only adds and edits). */
  scope?: ReconcileScope;
  /** Compute and return the plan; change nothing. */
  dryRun?: boolean;
  /** Failure policy of the commit (see {@link CommitOptions.onError}); default `'stop'`. */
  onError?: FailurePolicy;
  /**
   * Drain destinations that still have connections instead of deleting them at once: weight 0 in
   * the commit, deletion once the connections are gone or the deadline passes (reconcile waits).
   * UDP and SCTP destinations are deleted at once. Default: no drain.
   */
  drain?: DrainOptions | false;
  /**
   * Reconcile against this state instead of reading it (for example the `state` of the previous
   * reconcile, when nothing else changes the kernel). Saves the read: one dump per service.
   */
  current?: Snapshot;
  /** How IPVS state is read (see {@link SnapshotOptions.ipvs}). */
  read?: SnapshotOptions['ipvs'];
  /** Called as the commit goes (see {@link CommitOptions.onProgress}); not called during a dry run or the drain. */
  onProgress?: CommitOptions['onProgress'];
  /**
   * Stops the commit at its next slice boundary (see {@link CommitOptions.signal}): changes not
   * sent are `skipped`. It does not stop the read or the drain (use {@link DrainOptions.signal}).
   */
  signal?: AbortSignal;
}

/** The plan: steps in the order they are committed (links and addresses, then IPVS, then sets). @category Reconcile and snapshots */
export interface ReconcilePlan {
  /** Link and address steps; empty when `desired.addresses` was left out. */
  addresses: AddressPlanStep[];
  /** IPVS service and destination steps; empty when `desired.ipvs` was left out. */
  ipvs: IpvsPlanStep[];
  /** ipset steps; empty when `desired.sets` was left out. */
  sets: IpsetPlanStep[];
}

/** What {@link Handle.reconcile} did, or with `dryRun` would do. @category Reconcile and snapshots */
export interface ReconcileResult {
  /** What was planned, committed or not (with `dryRun`, what would be committed). */
  plan: ReconcilePlan;
  /** Steps in the plan that change something (conflicts excluded). */
  changes: number;
  /** Everything planned was applied (a dry run or an empty plan: true). */
  ok: boolean;
  /** This was a dry run: nothing was committed, and `commit`, `drained` and `state` are absent. */
  dryRun: boolean;
  /** The commit, one result per batch change in plan order (an entry step is one change per entry). */
  commit?: CommitResult;
  /** Destinations drained, when `drain` was asked for and some had connections. */
  drained?: DrainResult;
  /** The state reconciled against (read, or `options.current`). */
  read: Snapshot;
  /**
   * The state after a commit that applied everything: what to pass as `current` next time when
   * nothing else changes the kernel. Absent after a dry run or a failure.
   */
  state?: Snapshot;
}

/** What reconcile needs from a handle. @internal */
export interface ReconcileHost {
  snapshot(options: SnapshotOptions): Promise<Snapshot>;
  batch(): Batch;
  ipset: Ipset;
  listDestinations(service: IpvsServiceKey): Promise<IpvsDestination[]>;
}

async function readState(host: ReconcileHost, desired: DesiredState, options: ReconcileOptions): Promise<Snapshot> {
  const t0 = performance.now();
  const readAt = new Date();
  const snap: Snapshot = desired.ipvs ? await host.snapshot({ ipvs: options.read ?? {} }) : { readAt, durationMs: 0 };
  if (desired.sets) {
    // Headers of every set (to know what exists and what the scope covers), entries of the listed ones.
    const headers = await host.ipset.listAll({ headerOnly: true });
    const listed = new Set(desired.sets.map((s) => s.name));
    snap.sets = await Promise.all(headers.map((h) => (listed.has(h.name) ? host.ipset.list(h.name) : Promise.resolve(h))));
  }
  if (desired.addresses) {
    const a = await host.snapshot({ ipvs: false, addresses: true });
    snap.addresses = a.addresses!;
    snap.links = a.links!;
  }
  snap.readAt = readAt;
  snap.durationMs = performance.now() - t0;
  return snap;
}

function queue(b: Batch, plan: ReconcilePlan, drain: boolean, current: Snapshot): number[] {
  const drained: number[] = [];
  for (const step of plan.addresses) {
    switch (step.kind) {
      case 'addLink': b.links.addDummy(step.link, { up: true }); break;
      case 'addAddress': b.addresses.add(step.link, step.cidr); break;
      case 'deleteAddress': b.addresses.delete(step.link, step.cidr); break;
      case 'conflict': break;
    }
  }

  const dests = new Map<string, Map<string, IpvsDestination>>();
  if (drain) for (const s of current.ipvs ?? []) dests.set(serviceId(s), new Map(s.destinations.map((d) => [destinationId(d), d as IpvsDestination])));
  plan.ipvs.forEach((step, i) => {
    if (step.kind === 'deleteDestination' && drain && step.drain) {
      const cur = dests.get(serviceId(step.service))?.get(destinationId(step.destination));
      if (cur) {
        b.ipvs.editDestination(step.service, { ...destinationOptions(cur), weight: 0 });
        drained.push(i);
        return;
      }
    }
    b.ipvs.change(step);
  });
  for (const step of plan.sets) {
    switch (step.kind) {
      case 'createSet': b.ipset.create(step.name, step.type, step.options); break;
      case 'addEntries': b.ipset.add(step.name, step.entries); break;
      case 'delEntries': b.ipset.del(step.name, step.entries); break;
      case 'destroySet': b.ipset.destroy(step.name); break;
      case 'conflict': break;
    }
  }
  return drained;
}

/** Every option of a destination (IpvsDestinationOptions), as {@link unchanged} compares them. */
const DESTINATION_OPTIONS = [
  'address', 'port', 'forwarding', 'weight', 'upperThreshold', 'lowerThreshold', 'tunnelType', 'tunnelPort', 'tunnelChecksum',
] as const satisfies readonly (keyof IpvsDestinationOptions)[];

/**
 * True when `{ ...defaults, ...cur, ...want, family }` (what {@link serviceAfter} builds) would
 * equal `cur`: `cur` is a plain object with every default field and `family`, and each field of
 * `want` is an option `cur` holds with the same value (none undefined, inherited or a symbol).
 * Then `cur` serves as it is.
 */
function unchanged(cur: IpvsDestinationState, want: IpvsDestinationOptions, family: string): boolean {
  if (cur.family !== family || cur.activeConns === undefined || cur.inactiveConns === undefined || cur.persistentConns === undefined
    || cur.upperThreshold === undefined || cur.lowerThreshold === undefined || cur.weight === undefined || cur.forwarding === undefined
    || Object.getPrototypeOf(cur) !== Object.prototype) {
    return false;
  }
  let options = 0;
  for (let i = 0; i < DESTINATION_OPTIONS.length; i++) {
    const k = DESTINATION_OPTIONS[i]!;
    if (want[k] === undefined) continue;
    if (!Object.is(want[k], cur[k])) return false;
    options++;
  }
  // no other fields (a spread copies own enumerable ones, symbols included)
  let fields = 0;
  for (const k in want) {
    if (!Object.prototype.hasOwnProperty.call(want, k)) return false;
    fields++;
  }
  return fields === options && Object.getOwnPropertySymbols(want).length === 0;
}

/**
 * A listed service the plan touched, as it will be: what was asked for, over what was read.
 * `order` says how its destinations matched the current ones (see {@link IpvsDiff.orders}).
 */
function serviceAfter(want: DesiredService, cur: IpvsServiceState | undefined, order: number): IpvsServiceState {
  const { destinations = [], ...settings } = want;
  const family = 'fwmark' in want ? (want.family ?? 'inet') : (want.address.includes(':') ? 'inet6' : 'inet');
  const curs = cur?.destinations ?? [];
  const n = destinations.length;
  let byId: Map<string, IpvsDestinationState> | undefined;
  if (order === 0) byId = new Map(curs.map((d) => [quickDestinationId(d), d]));
  const dests = new Array<IpvsDestinationState>(n);
  for (let i = 0; i < n; i++) {
    const d = destinations[i]!;
    const c = byId ? byId.get(quickDestinationId(d)) : curs[order > 0 ? i : n - 1 - i];
    const dFamily = d.address.includes(':') ? 'inet6' : 'inet';
    dests[i] = c !== undefined && unchanged(c, d, dFamily) ? c : {
      activeConns: 0, inactiveConns: 0, persistentConns: 0, upperThreshold: 0, lowerThreshold: 0, weight: 1, forwarding: 'route',
      ...(c ?? {}),
      // the kernel's spelling, so that a reconcile from this state matches it (fd00::5:1, not FD00::5:1)
      ...d, address: dFamily === 'inet6' ? canonicalAddress(d.address) : d.address, family: dFamily,
    } as IpvsDestinationState;
  }
  return {
    ...(cur ?? {}),
    scheduler: 'wlc', persistent: 0, netmask: family === 'inet6' ? 128 : '255.255.255.255', onePacket: false, schedFlags: [],
    ...settings,
    ...(family === 'inet6' && 'address' in settings && { address: canonicalAddress(settings.address) }),
    family,
    destinations: dests,
  } as never;
}

/** The state once the plan is applied (as reconcile knows it: what was read, changed by the plan). */
function after(read: Snapshot, desired: DesiredState, plan: ReconcilePlan, ipvs: IpvsDiff | undefined): Snapshot {
  const out: Snapshot = { readAt: new Date(), durationMs: 0 };
  if (read.ipvs) {
    // Services the plan does not touch keep their objects; the others are what was asked for.
    let next: IpvsServiceState[];
    if (!ipvs) next = read.ipvs.slice();
    else {
      next = [];
      const { currentTouched, desiredTouched, matched, orders } = ipvs;
      for (let j = 0; j < read.ipvs.length; j++) if (!currentTouched[j]) next.push(read.ipvs[j]!);
      const wanted = desired.ipvs ?? [];
      for (let i = 0; i < wanted.length; i++) if (desiredTouched[i]) next.push(serviceAfter(wanted[i]!, matched[i], orders[i]!));
    }
    out.ipvs = next;
  }
  if (read.sets && desired.sets) {
    const gone = new Set(plan.sets.filter((s) => s.kind === 'destroySet' || s.kind === 'conflict').map((s) => s.name));
    const conflicts = new Set(plan.sets.filter((s) => s.kind === 'conflict').map((s) => s.name));
    const listed = new Set(desired.sets.map((s) => s.name));
    const sets = read.sets.filter((s) => (!gone.has(s.name) || conflicts.has(s.name)) && (!listed.has(s.name) || conflicts.has(s.name)));
    for (const want of desired.sets) {
      if (conflicts.has(want.name)) continue;
      const cur = read.sets.find((s) => s.name === want.name);
      const entries = want.entries.map((e) => toEntryObject(e, want.type, 'reconcile'));
      sets.push({
        revision: 0, counters: false, comment: false, skbinfo: false, forceadd: false, references: 0, memsize: 0,
        ...cur, ...(want.options ?? {}), name: want.name, type: want.type, elements: entries.length, entries,
      } as IpsetSet);
    }
    out.sets = sets;
  } else if (read.sets) out.sets = read.sets;
  if (read.addresses) {
    // Addresses are read again next time (link indexes of links created here are not known).
    if (plan.addresses.length === 0) {
      out.addresses = read.addresses;
      if (read.links) out.links = read.links;
    }
  }
  return out;
}

/** Reads, diffs, commits. */
export async function reconcile(host: ReconcileHost, desired: DesiredState, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  if (desired === null || typeof desired !== 'object') throw new TypeError('reconcile: desired must be an object');
  const scope = options.scope ?? {};
  const servicesInScope = servicePredicate(scope.services);
  const setsInScope = setPredicate(scope.sets);
  let read = options.current ?? await readState(host, desired, options);
  if (options.current && desired.addresses && !read.addresses) {
    // Link indexes of links created since are not in a derived state: read addresses afresh.
    const a = await host.snapshot({ ipvs: false, addresses: true });
    read = { ...read, addresses: a.addresses!, links: a.links! };
  }
  const addresses = desired.addresses ? diffAddresses(desired.addresses, read.addresses ?? [], read.links ?? [], addressPredicate(scope.addresses)) : [];
  const ipvs = desired.ipvs ? planIpvs(desired.ipvs, read.ipvs ?? [], servicesInScope) : undefined;
  const plan: ReconcilePlan = {
    addresses,
    ipvs: ipvs?.plan ?? [],
    sets: desired.sets ? diffSets(desired.sets, read.sets ?? [], setsInScope) : [],
  };
  const changes = plan.ipvs.length + plan.sets.filter((s) => s.kind !== 'conflict').length
    + plan.addresses.filter((s) => s.kind !== 'conflict').length;
  const dryRun = options.dryRun ?? false;
  if (dryRun || changes === 0) {
    return { plan, changes, ok: true, dryRun, read, ...(!dryRun && { state: read }) };
  }
  const drain = options.drain !== undefined && options.drain !== false;
  const b = host.batch();
  const drainSteps = queue(b, plan, drain, read);
  const commit = await b.commit({
    ...(options.onError && { onError: options.onError }),
    ...(options.onProgress && { onProgress: options.onProgress }),
    ...(options.signal && { signal: options.signal }),
  });
  const result: ReconcileResult = { plan, changes, ok: commit.ok, dryRun, commit, read };
  if (drain && drainSteps.length > 0 && commit.ok) {
    const items = drainSteps.map((i) => {
      const s = plan.ipvs[i] as Extract<IpvsPlanStep, { kind: 'deleteDestination' }>;
      return { service: s.service, destination: s.destination, weightZero: true };
    });
    result.drained = await drainDestinations(host, items, options.drain as DrainOptions);
    result.ok = result.drained.destinations.every((d) => d.outcome !== 'error');
  }
  if (result.ok) result.state = after(read, desired, plan, ipvs);
  return result;
}

export type { DesiredService, DesiredSet, DesiredLinkAddresses, ServiceScope, SetScope, AddressScope, IpvsPlanStep, IpsetPlanStep, AddressPlanStep };
export type { IpsetSet };
