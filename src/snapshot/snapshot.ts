/**
 * A snapshot: the whole data plane of a namespace read at once (IPVS services with destinations,
 * ipsets with their entries), for diffing, saving or reconciling.
 *
 * @module
 */
import type { HandleContext } from '../handle-context';
import type { Connection } from '../netlink/connection';
import { NETLINK_GENERIC } from '../native';
import type { Ipset } from '../ipset/ipset';
import type { IpsetSet } from '../ipset/set';
import type { Addresses } from '../address/addresses';
import type { Address } from '../address/address';
import type { Links } from '../link/links';
import type { Link, LinkRef } from '../link/link';
import { IPVS_GENL_NAME } from '../uapi/ip-vs';
import { readIpvs, type IpvsReadOptions, type IpvsServiceState } from './ipvs-read';
import { readProcIpvs, type ProcIpvsDestination, type ProcIpvsService } from './ipvs-proc';

/** What {@link Handle.snapshot} reads. @category Reconcile and snapshots */
export interface SnapshotOptions {
  /**
   * IPVS services with their destinations: true (default), false to skip, or how to read them
   * (see {@link IpvsReadOptions}: one socket, or several at once).
   */
  ipvs?: boolean | IpvsReadOptions;
  /** ipsets with their entries: every set (true), the named ones, or none (default). */
  sets?: boolean | readonly string[];
  /** Addresses: of every link (true), of the named links, or none (default). Links come with them. */
  addresses?: boolean | readonly LinkRef[];
}

/** The state read. Fields are present when asked for. @category Reconcile and snapshots */
export interface Snapshot {
  /** Every virtual service with its destinations, as `ipvsadm -Ln` lists them. */
  ipvs?: IpvsServiceState[];
  /** Sets with their entries, as `ipset list` shows them. */
  sets?: IpsetSet[];
  /** Addresses, as `ip -j addr` shows them (`ifindex` names the link). */
  addresses?: Address[];
  /** Every link, as `ip -j link` shows them (read with `addresses`). */
  links?: Link[];
  /** When the read began. The parts are read one after another: this is not an atomic cut. */
  readAt: Date;
  /** How long the read took, ms. */
  durationMs: number;
}

/** What reading needs from a handle. @internal */
export interface SnapshotSource {
  ctx: HandleContext;
  ipset: Ipset;
  links: Links;
  addresses: Addresses;
  /** Opens another socket in the handle's namespace (closed by the caller). */
  open(protocol: number): Connection;
}

/** Reads what `options` asks for. */
export async function takeSnapshot(src: SnapshotSource, options: SnapshotOptions = {}): Promise<Snapshot> {
  const readAt = new Date();
  const t0 = performance.now();
  const out: Snapshot = { readAt, durationMs: 0 };
  const ipvs = options.ipvs ?? true;
  if (ipvs !== false) {
    const family = await src.ctx.genlFamily(IPVS_GENL_NAME);
    out.ipvs = await readIpvs(family, src.ctx.connection(NETLINK_GENERIC), () => src.open(NETLINK_GENERIC),
      src.ctx.exchangeOptions, ipvs === true ? {} : ipvs);
  }
  if (options.sets) {
    out.sets = options.sets === true ? await src.ipset.listAll() : await Promise.all(options.sets.map((n) => src.ipset.list(n)));
  }
  if (options.addresses) {
    out.links = await src.links.list();
    if (options.addresses === true) out.addresses = await src.addresses.list();
    else {
      const wanted = new Set<number>();
      for (const ref of options.addresses) {
        const l = out.links.find((x) => x.ifname === ref || x.ifindex === ref);
        if (l) wanted.add(l.ifindex);
      }
      out.addresses = (await src.addresses.list()).filter((a) => wanted.has(a.ifindex));
    }
  }
  out.durationMs = performance.now() - t0;
  return out;
}

export { readProcIpvs, type ProcIpvsService, type ProcIpvsDestination, type IpvsServiceState, type IpvsReadOptions };
export type { IpvsDestinationState } from './ipvs-decode';
