/**
 * Every IPVS service with its destinations, over netlink. The kernel has no dump of all
 * destinations: it takes one dump per service, and a socket serves one dump at a time (a second
 * dump sent before the first is read is refused with EBUSY). So the dumps either go one after
 * another in a single exchange on one socket (one crossing into native code, one `sendmsg` and a
 * couple of `recvmsg` per service: the kernel's floor), or spread over several sockets at once.
 *
 * @module
 */
import type { Connection, ExchangeOptions } from '../netlink/connection';
import type { GenlFamily } from '../netlink/genl';
import { encodeMessages } from '../netlink/message';
import { checkDump, readDump } from '../netlink/dump';
import { AF_INET, AF_INET6 } from '../uapi/netlink';
import * as ops from '../ipvs/ops';
import type { IpvsService, IpvsServiceKey } from '../ipvs/service';
import { KEY_NEST_MAX, serviceEntry, writeIPv4KeyNest } from '../batch/ipvs-fast';
import { decodeDestinationDumps, decodeServiceDump, type IpvsDestinationState } from './ipvs-decode';

/** A service with its destinations. @category Reconcile and snapshots */
export type IpvsServiceState = IpvsService & {
  /** Its real servers, as one destination dump returned them (`ipvsadm -Ln` order). */
  destinations: IpvsDestinationState[];
};

/** How to read IPVS state. @category Reconcile and snapshots */
export interface IpvsReadOptions {
  /**
   * `'sequential'` (default): every destination dump in one exchange on the handle's socket.
   * `'parallel'`: the dumps spread over `sockets` sockets at once (each dump still waits for its
   * own answer); worth it only where the kernel work, not the system calls, dominates and
   * several CPUs are free.
   */
  strategy?: 'sequential' | 'parallel';
  /** Sockets for `'parallel'`; default 4. */
  sockets?: number;
  /** Read the counters and rates of services' destinations too (`stats`). Default false. */
  stats?: boolean;
}

/**
 * Destination dumps per exchange. Each dump's replies carry every destination's counters (about
 * 400 bytes each, stats or not), so 5,000 services of 10 came to 20 MB in one exchange; groups
 * keep the replies within the connection's reusable reply buffer (borrowReplies), where fresh
 * memory costs a page fault per 4 KiB.
 */
const DUMPS_PER_EXCHANGE = 250;

/**
 * The destination dump request of every key, numbered from `firstSeq`: the op builder's message
 * (its header, then the service key nest as the batch writes it), without building an operation
 * per service. Unit tests compare the bytes with the builder's.
 */
export function destinationDumpRequests(family: GenlFamily, keys: readonly IpvsServiceKey[], firstSeq: number): Buffer {
  const header = encodeMessages([ops.listDestinationsOp(family, SAMPLE_KEY).message], 0).subarray(0, 20);
  const buf = Buffer.allocUnsafe(keys.length * (20 + KEY_NEST_MAX));
  let off = 0;
  keys.forEach((k, i) => {
    // fwmark and IPv6 keys: the builder's nest (which also checks the key)
    const n = writeIPv4KeyNest(k, buf, off + 20) || serviceEntry(k, 'ipvs.listDestinations').keyNest.copy(buf, off + 20);
    header.copy(buf, off);
    buf.writeUInt32LE(20 + n, off);
    buf.writeUInt32LE((firstSeq + i) >>> 0, off + 8);
    off += 20 + n;
  });
  return buf.subarray(0, off);
}
const SAMPLE_KEY: IpvsServiceKey = { protocol: 'tcp', address: '10.0.0.1', port: 1 };

/**
 * One exchange of destination dumps for `services`, decoded in one pass; dumps the kernel flagged
 * as interrupted (NLM_F_DUMP_INTR) are read again, up to three times.
 */
async function dumps(
  conn: Connection, family: GenlFamily, services: readonly IpvsService[], exchange: ExchangeOptions, stats: boolean,
): Promise<IpvsDestinationState[][]> {
  const out: IpvsDestinationState[][] = new Array(services.length);
  let todo = services.map((_, i) => i);
  for (let attempt = 0; todo.length > 0; attempt++) {
    const again: number[] = [];
    for (let g = 0; g < todo.length; g += DUMPS_PER_EXCHANGE) {
      const group = todo.slice(g, g + DUMPS_PER_EXCHANGE);
      const keys: IpvsServiceKey[] = group.map((i) => services[i]!); // a service is a key with more fields
      const afs = group.map((i) => (services[i]!.family === 'inet6' ? AF_INET6 : AF_INET));
      let first = 0;
      const ex = await conn.exchangeEncoded(keys.length, (seq) => {
        first = seq;
        return destinationDumpRequests(family, keys, seq);
      }, { ...exchange, lean: true, borrowReplies: true });
      let res;
      try {
        res = decodeDestinationDumps(ex.replies, first, afs, family.id, stats);
      } finally {
        ex.release?.();
      }
      res.forEach((r, k) => {
        const i = group[k]!;
        checkDump(r, ex.error, 'ipvs.listDestinations', (code) => ops.listDestinationsOp(family, keys[k]!).explain?.(code));
        if (r.interrupted && attempt < 3) again.push(i);
        else out[i] = r.destinations;
      });
    }
    todo = again;
  }
  return out;
}

/** The service dump, decoded in one pass; read again (up to three times) when interrupted, as runOne does. */
async function listServices(conn: Connection, family: GenlFamily, exchange: ExchangeOptions): Promise<IpvsService[]> {
  return (await readDump(conn, ops.listServicesOp(family), exchange, (replies, seq) => decodeServiceDump(replies, seq, family.id))).services;
}

/**
 * Reads every service, puts them in `order`, then reads their destinations a group at a time
 * (one exchange each), handing each group to `onGroup` as soon as it is decoded and before the
 * next is read. For listings written as they are read (`ipvs list`, `ipvs save`): each group's
 * objects die young instead of 50,000 destinations living in the old generation until the end.
 * A failed dump rejects after the groups before it were handed over.
 */
export async function readIpvsGroups(
  family: GenlFamily,
  conn: Connection,
  exchange: ExchangeOptions,
  options: { stats?: boolean; order?: (services: IpvsService[]) => IpvsService[] },
  onGroup: (services: readonly IpvsService[], destinations: readonly IpvsDestinationState[][]) => void | Promise<void>,
): Promise<void> {
  const listed = await listServices(conn, family, exchange);
  const services = options.order ? options.order(listed) : listed;
  for (let g = 0; g < services.length; g += DUMPS_PER_EXCHANGE) {
    const group = services.slice(g, g + DUMPS_PER_EXCHANGE);
    await onGroup(group, await dumps(conn, family, group, exchange, options.stats ?? false));
  }
}

/**
 * Reads every service, then every service's destinations. Not a consistent cut: the kernel may
 * change between the service dump and the destination dumps (a service deleted meanwhile comes
 * back with no destinations).
 */
export async function readIpvs(
  family: GenlFamily,
  conn: Connection,
  open: () => Connection,
  exchange: ExchangeOptions,
  options: IpvsReadOptions = {},
): Promise<IpvsServiceState[]> {
  const services = await listServices(conn, family, exchange);
  const stats = options.stats ?? false;
  let dests: IpvsDestinationState[][];
  if (options.strategy === 'parallel' && services.length > 1) {
    const n = Math.max(1, Math.min(options.sockets ?? 4, services.length));
    const conns = [conn];
    try {
      for (let k = 1; k < n; k++) conns.push(open());
      const size = Math.ceil(services.length / n);
      const parts = await Promise.all(conns.map((c, k) => dumps(c, family, services.slice(k * size, (k + 1) * size), exchange, stats)));
      dests = parts.flat();
    } finally {
      for (const c of conns.slice(1)) c.close();
    }
  } else {
    dests = await dumps(conn, family, services, exchange, stats);
  }
  const out = services as IpvsServiceState[];
  for (let i = 0; i < out.length; i++) out[i]!.destinations = dests[i]!;
  return out;
}
