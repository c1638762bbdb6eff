import { Connection } from './netlink/connection';
import { resolveFamily, type GenlFamily } from './netlink/genl';
import { NETLINK_GENERIC, NETLINK_ROUTE } from './native';
import { NetlinkError } from './netlink/errors';
import type { HandleContext } from './handle-context';
import { Ipvs } from './ipvs/ipvs';
import { Ipset } from './ipset/ipset';
import { Links } from './link/links';
import { Addresses } from './address/addresses';
import { Batch } from './batch/batch';
import { takeSnapshot, type Snapshot, type SnapshotOptions } from './snapshot/snapshot';
import { reconcile, type DesiredState, type ReconcileHost, type ReconcileOptions, type ReconcileResult } from './reconcile/reconcile';
import { checkReconcileInput } from './reconcile/check-desired';
import { drainDestinations, type DrainOptions, type DrainResult } from './reconcile/drain';
import type { IpvsServiceKey } from './ipvs/service';
import type { IpvsDestinationKey } from './ipvs/destination';
import { checkKeys, checkObject, checkOptions, keySet, quote } from './validate';

const HANDLE_KEYS = keySet(['netns', 'timeoutMs', 'rcvbuf']);
const SNAPSHOT_KEYS = keySet(['ipvs', 'sets', 'addresses']);
const IPVS_READ_KEYS = keySet(['strategy', 'sockets', 'stats']);
const DRAIN_KEYS = keySet(['timeoutMs', 'pollMs', 'signal']);

/** Checks the keys of snapshot options (and of their `ipvs` read options). */
function checkSnapshotOptions(o: SnapshotOptions | undefined, op: string): void {
  checkOptions(o, SNAPSHOT_KEYS, op);
  const ipvs = o?.ipvs;
  if (ipvs !== undefined && typeof ipvs !== 'boolean') checkOptions(ipvs, IPVS_READ_KEYS, op, 'ipvs');
}

/** Options of {@link openHandle}. @category Handle */
export interface HandleOptions {
  /**
   * Network namespace to work in, as a path: `/run/netns/NAME` (what `ip netns add` makes) or
   * `/proc/PID/ns/net`. Default: the caller's namespace. Node's own threads never change namespace.
   */
  netns?: string;
  /** Give up on a kernel that stays silent this long (ms). Default 10,000. */
  timeoutMs?: number;
  /** Receive buffer per socket, bytes (SO_RCVBUFFORCE when privileged). Default 4 MiB. */
  rcvbuf?: number;
}

/**
 * One handle per network namespace: IPVS, ipset and link/address operations hang off it.
 * Sockets open on first use and close with {@link Handle.close} (or at garbage collection).
 * @category Handle
 */
export class Handle {
  /** IPVS services and destinations. */
  readonly ipvs: Ipvs;
  /** ipsets: create, add and delete entries in bulk, list, save and restore. */
  readonly ipset: Ipset;
  /** Links: dummy links such as kube-ipvs0, up/down, lookups. */
  readonly links: Links;
  /** Addresses on links, and their change events. */
  readonly addresses: Addresses;
  private readonly connections = new Map<number, Connection>();
  private readonly families = new Map<string, Promise<GenlFamily>>();
  private closed = false;
  /** Sockets facades opened themselves (notification streams), closed with the handle. */
  private readonly tracked = new Set<{ close(): void }>();
  private readonly ctx: HandleContext;

  constructor(
    /** The options the handle was opened with (namespace, time-out, receive buffer). */
    readonly options: HandleOptions = {},
  ) {
    checkObject(options, 'openHandle', 'options');
    checkKeys(options, HANDLE_KEYS, 'openHandle');
    if (options.timeoutMs !== undefined && !(typeof options.timeoutMs === 'number' && options.timeoutMs > 0 && options.timeoutMs <= 2 ** 31 - 1)) {
      throw new RangeError(`openHandle: timeoutMs must be a number of milliseconds, 1 to 2147483647, got ${quote(options.timeoutMs)}`);
    }
    if (options.rcvbuf !== undefined && !(Number.isInteger(options.rcvbuf) && options.rcvbuf > 0 && options.rcvbuf <= 2 ** 31 - 1)) {
      throw new RangeError(`openHandle: rcvbuf must be a number of bytes, 1 to 2147483647, got ${quote(options.rcvbuf)}`);
    }
    if (options.netns !== undefined && (typeof options.netns !== 'string' || options.netns === '')) {
      throw new TypeError('openHandle: netns must be a path such as /run/netns/NAME');
    }
    const ctx: HandleContext = this.ctx = {
      connection: (p) => this.connection(p),
      genlFamily: (name) => this.genlFamily(name),
      exchangeOptions: options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
      netns: options.netns ?? null,
      track: (c) => this.track(c),
    };
    this.ipvs = new Ipvs(ctx, async () => (await this.snapshot({ ipvs: { stats: true } })).ipvs!);
    this.ipset = new Ipset(ctx);
    this.links = new Links(ctx);
    this.addresses = new Addresses(ctx, this.links);
  }

  private connection(protocol: number): Connection {
    if (this.closed) throw new NetlinkError({ code: 'EBADF', errno: -9, op: 'handle', detail: 'the handle is closed' });
    let c = this.connections.get(protocol);
    if (!c) {
      // Strict checking lets the kernel filter route dumps (addresses of one link) itself.
      c = new Connection(protocol, { netns: this.options.netns ?? null, rcvbuf: this.options.rcvbuf ?? 4 << 20, strictCheck: protocol === NETLINK_ROUTE });
      this.connections.set(protocol, c);
    }
    return c;
  }

  private genlFamily(name: string): Promise<GenlFamily> {
    let p = this.families.get(name);
    if (!p) {
      p = resolveFamily(this.connection(NETLINK_GENERIC), name);
      p.catch(() => this.families.delete(name));
      this.families.set(name, p);
    }
    return p;
  }

  /**
   * A new batch: changes across IPVS, ipsets and links/addresses, committed in order with one
   * result per change. Not atomic; see {@link Batch}.
   *
   * @example
   * ```ts
   * import { openHandle } from 'ipvs';
   *
   * const h = openHandle();
   * const b = h.batch();
   * const svc = { protocol: 'tcp', address: '10.96.0.10', port: 80 } as const;
   * b.ipvs.addService({ ...svc, scheduler: 'rr' });          // ipvsadm -A -t 10.96.0.10:80 -s rr
   * b.ipvs.addDestination(svc, { address: '10.244.1.5', port: 8080, forwarding: 'masq' });
   * const r = await b.commit({ onError: 'undo' });
   * console.log(r.ok ? 'applied' : r.firstError?.message);
   * h.close();
   * ```
   */
  batch(): Batch {
    return new Batch(this.ctx);
  }

  private track(c: { close(): void }): () => void {
    if (this.closed) {
      c.close();
      return () => undefined;
    }
    this.tracked.add(c);
    return () => { this.tracked.delete(c); };
  }

  /**
   * Reads the whole state at once: every IPVS service with its destinations (one dump per
   * service, the kernel's floor, in one exchange or spread over several sockets), and the ipsets
   * asked for with their entries. Not an atomic cut: see {@link Snapshot}.
   */
  snapshot(options: SnapshotOptions = {}): Promise<Snapshot> {
    try {
      checkSnapshotOptions(options, 'handle.snapshot');
    } catch (err) {
      return Promise.reject(err);
    }
    const open = (protocol: number) => new Connection(protocol, { netns: this.options.netns ?? null, rcvbuf: this.options.rcvbuf ?? 4 << 20 });
    return takeSnapshot({ ctx: this.ctx, ipset: this.ipset, links: this.links, addresses: this.addresses, open }, options);
  }

  /**
   * Makes the data plane look like `desired`: reads the kernel's state, computes the smallest
   * change (adds what is missing, edits only fields that differ, deletes unlisted objects only
   * inside `options.scope`, never by a flush), commits it in one batch and says what it did. With
   * `dryRun`, returns the plan and changes nothing. Not atomic: see {@link Batch}.
   *
   * @example
   * ```ts
   * import { openHandle } from 'ipvs';
   *
   * const h = openHandle();
   * const r = await h.reconcile(
   *   {
   *     addresses: [{ link: 'kube-ipvs0', addresses: ['10.96.0.10/32'], create: true }],
   *     ipvs: [{
   *       protocol: 'tcp', address: '10.96.0.10', port: 80, scheduler: 'rr',
   *       destinations: [{ address: '10.244.1.5', port: 8080, forwarding: 'masq' }],
   *     }],
   *   },
   *   { scope: { services: { addresses: ['10.96.0.0/12'] } } }, // also delete unlisted services in this range
   * );
   * console.log(r);
   * h.close();
   * ```
   */
  reconcile(desired: DesiredState, options: ReconcileOptions = {}): Promise<ReconcileResult> {
    try {
      checkReconcileInput(desired, options);
    } catch (err) {
      return Promise.reject(err);
    }
    return reconcile(this.reconcileHost(), desired, options);
  }

  /**
   * Removes destinations gracefully: weight 0, then deletion once their connections are gone or
   * `options.timeoutMs` passes; UDP and SCTP destinations at once. See {@link DrainResult}.
   */
  drainDestinations(service: IpvsServiceKey, destinations: readonly IpvsDestinationKey[], options: DrainOptions = {}): Promise<DrainResult> {
    try {
      checkOptions(options, DRAIN_KEYS, 'handle.drainDestinations');
    } catch (err) {
      return Promise.reject(err);
    }
    return drainDestinations(this.reconcileHost(), destinations.map((destination) => ({ service, destination })), options);
  }

  private reconcileHost(): ReconcileHost {
    return {
      snapshot: (o) => this.snapshot(o),
      batch: () => this.batch(),
      ipset: this.ipset,
      listDestinations: (s) => this.ipvs.listDestinations(s),
    };
  }

  /** Closes every socket now; operations in flight end with ECANCELED. Idempotent. */
  close(): void {
    this.closed = true;
    for (const c of [...this.tracked]) c.close();
    this.tracked.clear();
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}

/**
 * Opens a handle, optionally bound to a network namespace.
 *
 * @example
 * ```ts
 * import { openHandle } from 'ipvs';
 *
 * const h = openHandle();                                  // this process's network namespace
 * const lb = openHandle({ netns: '/run/netns/lb' });       // or another (needs CAP_SYS_ADMIN too)
 * try {
 *   console.log(await h.ipvs.listServices(), await lb.ipvs.listServices());
 * } finally {
 *   h.close();
 *   lb.close();
 * }
 * ```
 * @category Handle
 */
export function openHandle(options: HandleOptions = {}): Handle {
  return new Handle(options);
}
