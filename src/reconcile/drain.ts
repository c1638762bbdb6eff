/**
 * Graceful removal of destinations: weight 0 first (no new connections are scheduled to them),
 * then deletion once their active and inactive connections are gone, or when a deadline passes.
 * Destinations of UDP and SCTP services are deleted at once: their inactive count only falls when
 * the connection entries time out (minutes), so waiting would mean waiting for the deadline.
 *
 * A deleted destination is not gone from the kernel at once: it waits in the kernel's trash list
 * (about two minutes on 6.1) while connections may still reference it, and adding the same
 * destination again within that time brings the old one back, counters included.
 *
 * @module
 */
import type { Batch } from '../batch/batch';
import type { CommitResult } from '../batch/commit';
import { destinationId, destinationOptions, serviceId } from '../batch/ipvs';
import type { IpvsDestination, IpvsDestinationKey } from '../ipvs/destination';
import type { IpvsServiceKey } from '../ipvs/service';
import { NetlinkError } from '../netlink/errors';

/** Options of a drain. @category Reconcile and snapshots */
export interface DrainOptions {
  /** Longest wait for connections to end, ms; then the destination is deleted anyway. Default 30,000. */
  timeoutMs?: number;
  /** How often connection counts are read, ms. Default 1,000. */
  pollMs?: number;
  /** Stops waiting: what is still draining is deleted at once. */
  signal?: AbortSignal;
}

/** What became of one drained destination. @category Reconcile and snapshots */
export interface DrainedDestination {
  /** The key of the service it belonged to. */
  service: IpvsServiceKey;
  /** Its key (address and port). */
  destination: IpvsDestinationKey;
  /**
   * `drained`: deleted once its connections were gone; `deadline`: deleted when the time ran out (or
   * on abort) with connections left; `immediate`: UDP/SCTP or no connections, deleted at once;
   * `gone`: someone else deleted it (or its service) first; `error`: see `error`.
   */
  outcome: 'drained' | 'deadline' | 'immediate' | 'gone' | 'error';
  /** Active plus inactive connections when it was deleted. */
  connections: number;
  /** Time from weight 0 to deletion, ms. */
  waitedMs: number;
  /** With `outcome: 'error'`: the kernel's refusal of the deletion (`ipvs.deleteDestination`). */
  error?: NetlinkError;
}

/** What a drain did. @category Reconcile and snapshots */
export interface DrainResult {
  /** One per destination asked for, in the order each was settled (not the order asked). */
  destinations: DrainedDestination[];
}

/** What draining needs from a handle. @internal */
export interface DrainHost {
  batch(): Batch;
  listDestinations(service: IpvsServiceKey): Promise<IpvsDestination[]>;
}

/** A destination to drain and what is known of it. */
export interface DrainItem {
  service: IpvsServiceKey;
  destination: IpvsDestinationKey;
  /** Its weight was already set to 0 (by the caller's own commit). */
  weightZero?: boolean;
}

const drainsSlowly = (s: IpvsServiceKey) => !('protocol' in s) || s.protocol === 'tcp';

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Reads the destinations of `services` (one dump each); a missing service reads as none. */
async function read(host: DrainHost, services: Map<string, IpvsServiceKey>): Promise<Map<string, Map<string, IpvsDestination>>> {
  const out = new Map<string, Map<string, IpvsDestination>>();
  for (const [sid, key] of services) {
    let list: IpvsDestination[] = [];
    try {
      list = await host.listDestinations(key);
    } catch (err) {
      if (!(err instanceof NetlinkError && err.code === 'ESRCH')) throw err;
    }
    out.set(sid, new Map(list.map((d) => [destinationId(d), d])));
  }
  return out;
}

/**
 * Drains destinations: weight 0 for those whose connections can drain (TCP), then deletes each as
 * its connections reach zero or the deadline passes; UDP and SCTP ones, and those with no
 * connections, at once.
 */
export async function drainDestinations(host: DrainHost, items: readonly DrainItem[], options: DrainOptions = {}): Promise<DrainResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pollMs = options.pollMs ?? 1_000;
  if (!(timeoutMs >= 0) || !(pollMs > 0)) throw new RangeError('drain: timeoutMs must be >= 0 and pollMs > 0');
  const services = new Map<string, IpvsServiceKey>();
  for (const it of items) services.set(serviceId(it.service), it.service);
  const started = Date.now();
  const results: DrainedDestination[] = [];
  const pending: (DrainItem & { sid: string; did: string })[] = [];

  let state = await read(host, services);
  const zero = host.batch();
  const immediate: (DrainItem & { connections: number })[] = [];
  for (const it of items) {
    const sid = serviceId(it.service);
    const did = destinationId(it.destination);
    const d = state.get(sid)?.get(did);
    if (!d) {
      results.push({ service: it.service, destination: it.destination, outcome: 'gone', connections: 0, waitedMs: 0 });
      continue;
    }
    const connections = d.activeConns + d.inactiveConns;
    if (!drainsSlowly(it.service) || connections === 0) {
      immediate.push({ ...it, connections });
      continue;
    }
    if (!it.weightZero && d.weight !== 0) zero.ipvs.editDestination(it.service, { ...destinationOptions(d), weight: 0 });
    pending.push({ ...it, sid, did });
  }
  if (zero.length > 0) await zero.commit({ onError: 'continue' });

  const remove = async (list: (DrainItem & { connections: number; outcome: DrainedDestination['outcome'] })[]) => {
    if (list.length === 0) return;
    const b = host.batch();
    for (const it of list) b.ipvs.deleteDestination(it.service, it.destination);
    const r: CommitResult = await b.commit({ onError: 'continue' });
    list.forEach((it, k) => {
      const res = r.results[k]!;
      const waitedMs = Date.now() - started;
      if (res.status === 'ok') results.push({ service: it.service, destination: it.destination, outcome: it.outcome, connections: it.connections, waitedMs });
      else if (res.error && (res.error.code === 'ENOENT' || res.error.code === 'ESRCH')) {
        results.push({ service: it.service, destination: it.destination, outcome: 'gone', connections: 0, waitedMs });
      } else results.push({ service: it.service, destination: it.destination, outcome: 'error', connections: it.connections, waitedMs, ...(res.error && { error: res.error }) });
    });
  };
  await remove(immediate.map((it) => ({ ...it, outcome: 'immediate' as const })));

  while (pending.length > 0) {
    const late = Date.now() - started >= timeoutMs || options.signal?.aborted === true;
    if (!late) {
      await sleep(Math.min(pollMs, Math.max(0, timeoutMs - (Date.now() - started))), options.signal);
      state = await read(host, new Map(pending.map((p) => [p.sid, p.service])));
    }
    const ready: (DrainItem & { connections: number; outcome: DrainedDestination['outcome'] })[] = [];
    const deadline = Date.now() - started >= timeoutMs || options.signal?.aborted === true;
    for (let i = pending.length - 1; i >= 0; i--) {
      const p = pending[i]!;
      const d = state.get(p.sid)?.get(p.did);
      if (!d) {
        results.push({ service: p.service, destination: p.destination, outcome: 'gone', connections: 0, waitedMs: Date.now() - started });
        pending.splice(i, 1);
        continue;
      }
      const connections = d.activeConns + d.inactiveConns;
      if (connections === 0 || deadline) {
        ready.push({ service: p.service, destination: p.destination, connections, outcome: connections === 0 ? 'drained' : 'deadline' });
        pending.splice(i, 1);
      }
    }
    await remove(ready.reverse());
  }
  return { destinations: results };
}
