import type { HandleContext } from '../handle-context';
import type { GenlFamily } from '../netlink/genl';
import type { NetlinkError } from '../netlink/errors';
import { runOne, runOperations, type Operation } from '../netlink/operation';
import { IPVS_GENL_NAME } from '../uapi/ip-vs';
import { NETLINK_GENERIC } from '../native';
import * as ops from './ops';
import { serviceKey, type IpvsService, type IpvsServiceKey, type IpvsServiceOptions } from './service';
import type { IpvsDestination, IpvsDestinationKey, IpvsDestinationOptions } from './destination';
import type { IpvsDaemon, IpvsDaemonOptions, IpvsDaemonState } from './daemon';
import type { IpvsInfo, IpvsTimeouts, IpvsTimeoutsOptions } from './config';
import { CHECK_FAMILY, changeOp, type IpvsChange, type IpvsChangeResult } from './change';
import { ConnectionTableParser, type IpvsConnection } from './connections';
import {
  IPVS_SYSCTLS, formatSysctl, isKnownSysctl, parseSysctl, rawSysctlText, IPVS_SYSCTL_DIR,
  type IpvsSysctls, type IpvsSysctlsOptions,
} from './sysctl';
import { listDir, procNetPath, readLines, readText, writeText } from '../procfs/netns-file';
import { readIpvsGroups, type IpvsServiceState } from '../snapshot/ipvs-read';
import type { IpvsDestinationState } from '../snapshot/ipvs-decode';
import { watchStats, type IpvsStatsSample, type IpvsWatchStatsOptions } from '../snapshot/watch-stats';
import { parseIpvsTotals } from './totals';
import { checkOptions, closest, keySet, quote } from '../validate';

const APPLY_KEYS = keySet(['stopOnError', 'signal']);
const WATCH_KEYS = keySet(['intervalMs', 'signal']);
import type { IpvsStats } from './stats';

/** A service together with its destinations, as {@link Ipvs.listAll} returns them. @category IPVS */
export type IpvsServiceEntry = IpvsService & {
  /** The service's destinations (real servers), in the kernel's order. */
  destinations: IpvsDestination[];
};

/** Options of {@link Ipvs.apply}. @category IPVS */
export interface IpvsApplyOptions {
  /**
   * Send nothing more once the kernel has refused a change (the rest report `unknown`). The kernel
   * works through every message of a send, so this sends one change per system call: much slower
   * for large lists. Default false: carry on past refusals.
   */
  stopOnError?: boolean;
  /** Cancels the exchange; changes whose fate is not known report `unknown`. */
  signal?: AbortSignal;
}

/**
 * IPVS virtual services, destinations, time-outs and sync daemons, over the kernel's "IPVS"
 * generic-netlink family. Obtain it from a handle: `openHandle().ipvs`.
 *
 * Errors are {@link NetlinkError}s whose code keeps its meaning per operation (ESRCH on a
 * destination call: no such service; ENOENT: no such destination, or on a service call an
 * unknown scheduler); invalid input throws TypeError or RangeError before anything is sent.
 * @category IPVS
 */
export class Ipvs {
  /** @internal */
  constructor(
    private readonly ctx: HandleContext,
    // every service with destinations and their counters: the snapshot path, which lives above this layer
    private readonly readState?: () => Promise<IpvsServiceState[]>,
  ) {}

  /**
   * The IPVS generic-netlink family, looked up once per handle (CTRL_CMD_GETFAMILY).
   * Throws NetlinkError ENOENT with advice when the kernel has no IPVS (load `ip_vs`).
   */
  family(): Promise<GenlFamily> {
    return this.ctx.genlFamily(IPVS_GENL_NAME);
  }

  private async run<T>(build: (f: GenlFamily) => Operation<T>): Promise<T> {
    // input is checked before anything reaches the kernel, the family lookup included
    build(CHECK_FAMILY);
    const f = await this.family();
    return runOne(this.ctx.connection(NETLINK_GENERIC), build(f), this.ctx.exchangeOptions);
  }

  /**
   * Adds a virtual service. Equivalent to `ipvsadm -A -t VIP:PORT -s SCHED [-p T] [-M MASK] [-o] [-b FLAGS] [--pe sip]`.
   * Errors: EEXIST the service exists; ENOENT the scheduler (or persistence engine) is unknown to the
   * kernel or its module cannot be loaded; EPERM needs CAP_NET_ADMIN.
   *
   * @example
   * ```ts
   * import { openHandle, NetlinkError } from 'ipvs';
   *
   * const h = openHandle();
   * try {
   *   await h.ipvs.addService({ protocol: 'tcp', address: '10.96.0.10', port: 80, scheduler: 'rr' }); // ipvsadm -A -t 10.96.0.10:80 -s rr
   * } catch (err) {
   *   if (!(err instanceof NetlinkError && err.code === 'EEXIST')) throw err;
   * }
   * h.close();
   * ```
   */
  addService(service: IpvsServiceOptions): Promise<void> {
    return this.run((f) => ops.addServiceOp(f, service));
  }

  /**
   * Sets a service to exactly these settings, adding it if it does not exist (the idempotent form
   * of {@link addService}): an add, then an edit when the kernel answers EEXIST.
   * Errors: ENOENT unknown scheduler or persistence engine.
   */
  async replaceService(service: IpvsServiceOptions): Promise<void> {
    ops.addServiceOp(CHECK_FAMILY, service);
    const f = await this.family();
    const add = ops.addServiceOp(f, service);
    const edit = ops.editServiceOp(f, service);
    await this.addOrEdit(add, edit, 'ESRCH');
  }

  /**
   * Changes a service's settings to exactly these: what is omitted takes ipvsadm's default
   * (scheduler wlc, not persistent, no flags), as `ipvsadm -E` does.
   * Errors: ESRCH no such service; ENOENT unknown scheduler or persistence engine.
   */
  editService(service: IpvsServiceOptions): Promise<void> {
    return this.run((f) => ops.editServiceOp(f, service));
  }

  /** Deletes a service and its destinations. Equivalent to `ipvsadm -D -t VIP:PORT`. Errors: ESRCH no such service. */
  deleteService(key: IpvsServiceKey): Promise<void> {
    return this.run((f) => ops.deleteServiceOp(f, key));
  }

  /** Reads one service. Equivalent to `ipvsadm -Ln -t VIP:PORT` (without destinations). Errors: ESRCH no such service. */
  getService(key: IpvsServiceKey): Promise<IpvsService> {
    return this.run((f) => ops.getServiceOp(f, key));
  }

  /**
   * Lists every virtual service (without destinations), in the kernel's order (ipvsadm sorts its output).
   *
   * @example
   * ```ts
   * import { openHandle } from 'ipvs';
   *
   * const h = openHandle();
   * for (const s of await h.ipvs.listServices()) {
   *   console.log('address' in s ? `${s.protocol} ${s.address}:${s.port}` : `fwmark ${s.fwmark}`, s.scheduler);
   * }
   * h.close();
   * ```
   */
  listServices(): Promise<IpvsService[]> {
    return this.run((f) => ops.listServicesOp(f));
  }

  /**
   * Lists every service with its destinations: one service dump, then one destination dump per
   * service, all of those in a single exchange with the kernel. Equivalent to `ipvsadm -Ln`.
   * A dump the kernel marks as interrupted (state changed meanwhile) is read again, up to 3 times.
   *
   * @example
   * ```ts
   * import { openHandle } from 'ipvs';
   *
   * const h = openHandle();
   * const all = await h.ipvs.listAll();                      // ipvsadm -Ln
   * for (const s of all) console.log(s.scheduler, s.destinations.map((d) => `${d.address}:${d.port} w${d.weight}`));
   * console.log(JSON.stringify(all));                        // counters (bigint) become numbers
   * h.close();
   * ```
   */
  async listAll(): Promise<IpvsServiceEntry[]> {
    const f = await this.family();
    const conn = this.ctx.connection(NETLINK_GENERIC);
    for (let attempt = 0; ; attempt++) {
      const services = await runOne(conn, ops.listServicesOp(f), this.ctx.exchangeOptions);
      if (services.length === 0) return [];
      const results = await runOperations(conn, services.map((s) => ops.listDestinationsOp(f, serviceKey(s))), this.ctx.exchangeOptions);
      const failed = results.find((r) => r.status !== 'ok');
      if (failed !== undefined && 'error' in failed) {
        if (failed.error.code === 'EDUMPINTR' && attempt < 3) continue;
        throw failed.error;
      }
      return services.map((s, i) => ({ ...s, destinations: (results[i] as { value: IpvsDestination[] }).value }));
    }
  }

  /**
   * The listing path of `ipvs list` and `ipvs save`: every service, put in `order`, then their
   * destinations a group of services at a time, each group handed to `onGroup` before the next
   * is read. @internal
   */
  async listInGroups(
    options: { stats?: boolean; order?: (services: IpvsService[]) => IpvsService[] },
    onGroup: (services: readonly IpvsService[], destinations: readonly IpvsDestinationState[][]) => void | Promise<void>,
  ): Promise<void> {
    const f = await this.family();
    await readIpvsGroups(f, this.ctx.connection(NETLINK_GENERIC), this.ctx.exchangeOptions, options, onGroup);
  }

  /**
   * Adds a destination to a service. Equivalent to `ipvsadm -a -t VIP:PORT -r RIP:PORT -m -w W`.
   * Errors: ESRCH no such service; EEXIST the destination exists; ERANGE weight or thresholds out of
   * range; EINVAL refused values (a destination address that is not unicast, or one of the other
   * family while a sync daemon runs).
   *
   * @example
   * ```ts
   * import { openHandle } from 'ipvs';
   *
   * const h = openHandle();
   * const svc = { protocol: 'tcp', address: '10.96.0.10', port: 80 } as const;
   * // ipvsadm -a -t 10.96.0.10:80 -r 10.244.1.5:8080 -m -w 2
   * await h.ipvs.addDestination(svc, { address: '10.244.1.5', port: 8080, forwarding: 'masq', weight: 2 });
   * h.close();
   * ```
   */
  addDestination(service: IpvsServiceKey, destination: IpvsDestinationOptions): Promise<void> {
    return this.run((f) => ops.addDestinationOp(f, service, destination));
  }

  /**
   * Sets a destination to exactly these settings, adding it if it does not exist (the idempotent
   * form of {@link addDestination}). Errors: ESRCH no such service.
   */
  async replaceDestination(service: IpvsServiceKey, destination: IpvsDestinationOptions): Promise<void> {
    ops.addDestinationOp(CHECK_FAMILY, service, destination);
    const f = await this.family();
    await this.addOrEdit(ops.addDestinationOp(f, service, destination), ops.editDestinationOp(f, service, destination), 'ENOENT');
  }

  /** Changes a destination. Equivalent to `ipvsadm -e ...`. Errors: ESRCH no such service; ENOENT no such destination. */
  editDestination(service: IpvsServiceKey, destination: IpvsDestinationOptions): Promise<void> {
    return this.run((f) => ops.editDestinationOp(f, service, destination));
  }

  /** Removes a destination. Equivalent to `ipvsadm -d -t VIP:PORT -r RIP:PORT`. Errors: ESRCH no such service; ENOENT no such destination. */
  deleteDestination(service: IpvsServiceKey, destination: IpvsDestinationKey): Promise<void> {
    return this.run((f) => ops.deleteDestinationOp(f, service, destination));
  }

  /**
   * Lists a service's destinations (one dump), in the kernel's order. The kernel answers an
   * empty list, not ESRCH, for a service that does not exist.
   */
  listDestinations(service: IpvsServiceKey): Promise<IpvsDestination[]> {
    return this.run((f) => ops.listDestinationsOp(f, service));
  }

  /** Removes every service and destination. Equivalent to `ipvsadm -C`. */
  flush(): Promise<void> {
    return this.run((f) => ops.flushOp(f));
  }

  /** Zeroes the counters of one service, or of every service without a key. Equivalent to `ipvsadm -Z [-t VIP:PORT]`. Errors: ESRCH no such service. */
  zero(service?: IpvsServiceKey): Promise<void> {
    return this.run((f) => ops.zeroOp(f, service));
  }

  /** Reads the connection time-outs. Equivalent to `ipvsadm -L --timeout`. */
  getTimeouts(): Promise<IpvsTimeouts> {
    return this.run((f) => ops.getTimeoutsOp(f));
  }

  /** Sets connection time-outs; absent ones stay as they are. Equivalent to `ipvsadm --set TCP TCPFIN UDP`. */
  setTimeouts(timeouts: IpvsTimeoutsOptions): Promise<void> {
    return this.run((f) => ops.setTimeoutsOp(f, timeouts));
  }

  /** IPVS version and connection table size: the first line of `ipvsadm -L`. */
  getInfo(): Promise<IpvsInfo> {
    return this.run((f) => ops.getInfoOp(f));
  }

  /**
   * Starts a connection-sync daemon. Equivalent to `ipvsadm --start-daemon master|backup --mcast-interface IF ...`.
   * Errors: EEXIST one of that state runs already; ENODEV no such interface; EINVAL a service has
   * destinations of another family (the sync protocol cannot carry them).
   */
  startDaemon(daemon: IpvsDaemonOptions): Promise<void> {
    return this.run((f) => ops.startDaemonOp(f, daemon));
  }

  /** Stops the master or backup sync daemon. Equivalent to `ipvsadm --stop-daemon master|backup`. Errors: ESRCH none runs. */
  async stopDaemon(state: IpvsDaemonState): Promise<void> {
    ops.stopDaemonOp(CHECK_FAMILY, state);
    const f = await this.family();
    // a GET_INFO after it: its answer shows the stop was processed when the kernel sends none (see stopDaemonOp)
    const [r] = await runOperations(this.ctx.connection(NETLINK_GENERIC), [ops.stopDaemonOp(f, state), ops.getInfoOp(f)], this.ctx.exchangeOptions);
    if (r!.status !== 'ok') throw r!.error;
  }

  /** Lists the running sync daemons. Equivalent to `ipvsadm -L --daemon`. */
  listDaemons(): Promise<IpvsDaemon[]> {
    return this.run((f) => ops.listDaemonsOp(f));
  }

  /**
   * Applies many changes in one exchange with the kernel (one buffer, paced by the native engine)
   * and returns one result per change, in order. Every change is checked first: invalid input
   * throws TypeError/RangeError naming the change's index, and then nothing is sent.
   *
   * Not atomic: the kernel applies each message on its own, in order (so a destination may follow
   * its service in the same call). A change that fails does not stop later ones unless
   * `stopOnError` is set.
   */
  async apply(changes: readonly IpvsChange[], options: IpvsApplyOptions = {}): Promise<IpvsChangeResult[]> {
    if (!Array.isArray(changes)) throw new TypeError('ipvs.apply: changes must be an array');
    checkOptions(options, APPLY_KEYS, 'ipvs.apply');
    const build = (f: GenlFamily) => changes.map((c, i) => {
      try {
        return changeOp(f, c);
      } catch (err) {
        if (err instanceof RangeError) throw new RangeError(`change #${i}: ${err.message}`);
        if (err instanceof TypeError) throw new TypeError(`change #${i}: ${err.message}`);
        throw err;
      }
    });
    // every change is checked before anything reaches the kernel, the family lookup included
    build(CHECK_FAMILY);
    const f = await this.family();
    const built = build(f);
    if (built.length === 0) return [];
    // a stop of a sync daemon may draw no answer (see stopDaemonOp): end with a request that does
    const probe = changes.some((c) => c.kind === 'stopDaemon');
    const results = await runOperations(this.ctx.connection(NETLINK_GENERIC), probe ? [...built, ops.getInfoOp(f)] : built, {
      ...this.ctx.exchangeOptions,
      ...(options.stopOnError && { stopOnError: true, maxChunkMessages: 1 }),
      ...(options.signal !== undefined && { signal: options.signal }),
    });
    return results.slice(0, built.length) as IpvsChangeResult[];
  }

  /**
   * The connection table: every connection and persistence template of the handle's namespace,
   * read from its `/proc/net/ip_vs_conn` (IPVS has no netlink dump of connections; ipvsadm reads
   * the same file). The file is read in chunks and parsed as it arrives. Equivalent to
   * `ipvsadm -Lnc` (with `--persistent-conn` for the engine data).
   * Errors: NetlinkError ENOENT when the namespace has no IPVS (`ip_vs` not loaded), EPERM/EACCES
   * without the right to enter the namespace; DecodeError for a line the parser cannot read.
   */
  async listConnections(): Promise<IpvsConnection[]> {
    const parser = new ConnectionTableParser();
    await readLines(procNetPath('ip_vs_conn'), this.ctx.netns, 'ipvs.listConnections', (buf, start, end) => parser.push(buf, start, end));
    return parser.rows();
  }

  /**
   * Counters over time: reads every service with its destinations and their counters every
   * `intervalMs` (one dump per service, as {@link Handle.snapshot} does) and yields each read with
   * what every counter grew by since the one before and its rate per second. Iterate with
   * `for await`; `break` or `options.signal` ends it. Like `watch ipvsadm -Ln --stats`, with the
   * arithmetic done.
   * @throws RangeError for a bad interval; a read's NetlinkError ends the iteration.
   */
  watchStats(options: IpvsWatchStatsOptions = {}): AsyncGenerator<IpvsStatsSample, void, undefined> {
    if (!this.readState) throw new TypeError('ipvs.watchStats: this Ipvs has no state reader (obtain it from openHandle())');
    checkOptions(options, WATCH_KEYS, 'ipvs.watchStats');
    return watchStats(this.readState, options);
  }

  /**
   * The counters and rates of the namespace's IPVS as a whole: every connection it scheduled and
   * every packet and byte it carried, services since deleted included (`/proc/net/ip_vs_stats`,
   * which node_exporter's ipvs collector reports as node_ipvs_*_total).
   * Errors: NetlinkError ENOENT when the namespace has no IPVS.
   */
  async getStats(): Promise<IpvsStats> {
    return parseIpvsTotals(await readText(procNetPath('ip_vs_stats'), this.ctx.netns, 'ipvs.getStats'));
  }

  /**
   * Every IPVS sysctl of the handle's namespace (`/proc/sys/net/ipv4/vs/*`, opened inside that
   * namespace): the ones the library knows by name with typed values, the rest under `unknown`
   * as text. Equivalent to `sysctl net.ipv4.vs` run in the namespace.
   * Errors: NetlinkError ENOENT when the namespace has no IPVS sysctls (`ip_vs` not loaded).
   */
  async sysctls(): Promise<IpvsSysctls> {
    const op = 'ipvs.sysctls';
    const names = listDir(IPVS_SYSCTL_DIR, this.ctx.netns, op);
    const texts = await Promise.all(names.map((n) => readText(`${IPVS_SYSCTL_DIR}/${n}`, this.ctx.netns, op)));
    const out: IpvsSysctls = { unknown: {} };
    names.forEach((name, i) => {
      if (isKnownSysctl(name)) (out as Record<string, unknown>)[name] = parseSysctl(name, texts[i]!);
      else out.unknown[name] = texts[i]!.trim();
    });
    return out;
  }

  /**
   * Writes IPVS sysctls of the handle's namespace, in the order given; absent ones stay as they
   * are. Every value is checked before the first write: a name the library does not know (outside
   * `unknown`), a read-only sysctl or a value of the wrong type throws TypeError/RangeError and
   * nothing is written. Not atomic: when the kernel refuses one (EINVAL for a value out of its
   * range), those before it stay written and the error names the sysctl.
   * Equivalent to `sysctl -w net.ipv4.vs.NAME=VALUE` in the namespace.
   */
  async setSysctls(values: IpvsSysctlsOptions): Promise<void> {
    const op = 'ipvs.setSysctls';
    if (values === null || typeof values !== 'object' || Array.isArray(values)) throw new TypeError(`${op}: values must be an object`);
    const writes: [string, string][] = [];
    for (const [name, value] of Object.entries(values)) {
      if (name === 'unknown') continue;
      if (!isKnownSysctl(name)) {
        const near = closest(name, Object.keys(IPVS_SYSCTLS));
        throw new TypeError(`${op}: unknown IPVS sysctl ${quote(name)}${near ? `: did you mean ${near}?` : ''} (sysctls the library does not know go under 'unknown', as text)`);
      }
      if (value === undefined) continue;
      writes.push([name, formatSysctl(name, value)]);
    }
    const unknown = values.unknown;
    if (unknown !== undefined) {
      if (unknown === null || typeof unknown !== 'object' || Array.isArray(unknown)) throw new TypeError(`${op}: unknown must be an object of name: text`);
      const present = new Set(listDir(IPVS_SYSCTL_DIR, this.ctx.netns, op));
      for (const [name, value] of Object.entries(unknown)) {
        if (!present.has(name) || name.includes('/')) throw new TypeError(`${op}: this kernel has no IPVS sysctl ${quote(name)}`);
        writes.push([name, rawSysctlText(`${op}: ${name}`, value)]);
      }
    }
    for (const [name, text] of writes) await writeText(`${IPVS_SYSCTL_DIR}/${name}`, this.ctx.netns, op, text);
  }

  /** An add, and an edit if the kernel says EEXIST; `gone` is the edit's code for "deleted meanwhile". */
  private async addOrEdit(add: Operation, edit: Operation, gone: string): Promise<void> {
    const conn = this.ctx.connection(NETLINK_GENERIC);
    for (let attempt = 0; ; attempt++) {
      try {
        await runOne(conn, add, this.ctx.exchangeOptions);
        return;
      } catch (err) {
        if ((err as NetlinkError).code !== 'EEXIST') throw err;
      }
      try {
        await runOne(conn, edit, this.ctx.exchangeOptions);
        return;
      } catch (err) {
        // deleted between the two calls: add again, once
        if ((err as NetlinkError).code !== gone || attempt > 0) throw err;
      }
    }
  }
}
