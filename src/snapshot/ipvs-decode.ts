/**
 * Decoding a whole exchange of destination dumps in one pass over the replies: 50,000
 * destinations are about a million attributes, and the general path (a record per nest, both
 * counter sets as bigints, a reply object per message) costs seconds inside a VM.
 *
 * Attribute ids and types come from the schema; the meaning of the record stays
 * `toDestination`'s (without counters, {@link destinationSettings}'s); unit tests compare
 * both with the general decoder.
 *
 * @module
 * @internal
 */
import { formatAddressAt } from '../netlink/address';
import { DecodeError } from '../netlink/errors';
import { nulString } from '../netlink/header';
import { endOfDump, type DumpStatus } from '../netlink/dump';
import { ipvsCmd, ipvsDest, ipvsService, ipvsStats, ipvsStats64 } from '../schema/ipvs';
import { NLA_TYPE_MASK, NLM_F_DUMP_INTR } from '../uapi/netlink';
import { destinationSettings, type IpvsDestination } from '../ipvs/destination';
import { isStatsRate, zeroStats, type IpvsStats, type IpvsStatsCounter, type IpvsStatsRate } from '../ipvs/stats';
import { serviceOf, type IpvsService } from '../ipvs/service';

/** A destination as a snapshot holds it: `stats` only when counters were read. @category Reconcile and snapshots */
export type IpvsDestinationState = Omit<IpvsDestination, 'stats'> & {
  /** Counters and rates (`ipvsadm -Ln --stats` / `--rate`); present only when read with `stats: true`. */
  stats?: IpvsStats;
};

/** What one dump of an exchange came to. */
export interface DumpResult extends DumpStatus {
  destinations: IpvsDestinationState[];
}

const DEST_NEST = ipvsCmd.attrs.dest!.id;
const SERVICE_NEST = ipvsCmd.attrs.service!.id;
// ids by friendly key, from the schemas
const idsOf = (schema: { attrs: Record<string, { id: number }> }) =>
  Object.fromEntries(Object.entries(schema.attrs).map(([k, spec]) => [k, spec.id])) as Record<string, number>;
const ID = idsOf(ipvsDest);
const SVC = idsOf(ipvsService);
// counter key by attribute id; both sets use the same ids
const STATS_KEY: (IpvsStatsCounter | IpvsStatsRate)[] = [];
for (const [k, spec] of Object.entries(ipvsStats.attrs)) STATS_KEY[spec.id] = k as IpvsStatsCounter | IpvsStatsRate;
for (const [k, spec] of Object.entries(ipvsStats64.attrs)) if (STATS_KEY[spec.id] !== k) throw new Error(`ipvs stats ids differ at ${k}`);

function check(buf: Buffer, a: number, end: number, what: string): number {
  if (end - a < 4) throw new DecodeError(what, `${end - a} trailing bytes`);
  const len = buf.readUInt16LE(a);
  if (len < 4 || a + len > end) throw new DecodeError(what, `attribute length ${len} out of bounds`);
  return len;
}

/**
 * A counters nest checked as the general decoder checks it; with `into`, its values stored there
 * (counters as bigints, u32 values widened, and rates as numbers, as decodeStats does). Idle
 * counters are zero: one shared 0n rather than a new bigint each.
 */
function statsAt(buf: Buffer, start: number, end: number, wide: boolean, what: string, into: IpvsStats | null): void {
  for (let a = start; a < end;) {
    const len = check(buf, a, end, what);
    const key = STATS_KEY[buf.readUInt16LE(a + 2) & NLA_TYPE_MASK];
    if (key !== undefined) {
      if (len - 4 < (wide ? 8 : 4)) throw new DecodeError(`${what}.${key}`, `attribute length ${len - 4} < ${wide ? 8 : 4}`);
      if (into) {
        if (isStatsRate(key)) {
          into[key] = wide ? buf.readUInt32LE(a + 4) + buf.readUInt32LE(a + 8) * 0x1_0000_0000 : buf.readUInt32LE(a + 4);
        } else {
          const zero = wide ? (buf.readUInt32LE(a + 4) | buf.readUInt32LE(a + 8)) === 0 : buf.readUInt32LE(a + 4) === 0;
          into[key] = zero ? 0n : wide ? buf.readBigUInt64LE(a + 4) : BigInt(buf.readUInt32LE(a + 4));
        }
      }
    }
    a += (len + 3) & ~3;
  }
}

/** The counters of a service or destination: the 64-bit set when the kernel sent it, else the 32-bit one, else zeros. */
function statsOf(buf: Buffer, at32: number, end32: number, at64: number, end64: number, what: string): IpvsStats {
  const s = zeroStats();
  if (at32 >= 0) statsAt(buf, at32, end32, false, `${what}.stats`, at64 < 0 ? s : null);
  if (at64 >= 0) statsAt(buf, at64, end64, true, `${what}.stats64`, s);
  return s;
}

/** One IPVS_CMD_ATTR_SERVICE nest straight to its object (no record in between), as {@link toService} reads it. */
function serviceAt(buf: Buffer, start: number, end: number): IpvsService {
  let af: number | undefined, protocol = 0, port: number | undefined, fwmark: number | undefined, flags: number | undefined;
  let timeout: number | undefined, netmask: number | undefined, sched: string | undefined, pe: string | undefined;
  let addrAt = -1, addrEnd = -1, s32 = -1, e32 = -1, s64 = -1, e64 = -1;
  for (let a = start; a < end;) {
    const len = check(buf, a, end, 'ipvs.service');
    const id = buf.readUInt16LE(a + 2) & NLA_TYPE_MASK;
    const p = a + 4;
    const n = len - 4;
    switch (id) {
      case SVC.af: if (n >= 2) af = buf.readUInt16LE(p); break;
      case SVC.protocol: if (n >= 2) protocol = buf.readUInt16LE(p); break;
      case SVC.addr: addrAt = p; addrEnd = p + n; break;
      case SVC.port: if (n >= 2) port = buf.readUInt16BE(p); break;
      case SVC.fwmark: if (n >= 4) fwmark = buf.readUInt32LE(p); break;
      case SVC.schedName: sched = nulString(buf, p, p + n); break;
      case SVC.peName: pe = nulString(buf, p, p + n); break;
      case SVC.flags: if (n >= 8) flags = buf.readUInt32LE(p); break;
      case SVC.timeout: if (n >= 4) timeout = buf.readUInt32LE(p); break;
      case SVC.netmask: if (n >= 4) netmask = buf.readUInt32LE(p); break;
      case SVC.stats: s32 = p; e32 = p + n; break;
      case SVC.stats64: s64 = p; e64 = p + n; break;
      default: break;
    }
    a += (len + 3) & ~3;
  }
  const stats = statsOf(buf, s32, e32, s64, e64, 'ipvs.service');
  // not sent: undefined, as the general decoder leaves it
  const address = addrAt < 0 ? undefined as unknown as string : formatAddressAt(buf, addrAt, addrEnd, af, 'ipvs.service.addr');
  return serviceOf(af, protocol, address, port, fwmark, sched, pe, flags, timeout, netmask, stats);
}

/** What the service dump came to. */
export interface ServiceDumpResult extends DumpStatus {
  services: IpvsService[];
}

/**
 * The replies of one service dump (sequence number `seq`) as services, in one pass: 5,000
 * services with both counter sets went through the general decoder at ~60 us each in a VM.
 * The meaning of the record stays {@link toService}'s; unit tests compare with the general path.
 */
export function decodeServiceDump(replies: Buffer, seq: number, familyId: number): ServiceDumpResult {
  const r: ServiceDumpResult = { services: [], errno: 0, interrupted: false, done: false };
  forEachReply(replies, (off, len, type, flags, s) => {
    if (s !== seq) return;
    if (flags & NLM_F_DUMP_INTR) r.interrupted = true;
    if (type === familyId) {
      for (let a = off + 20; a + 4 <= off + len;) {
        const alen = check(replies, a, off + len, 'ipvs');
        if ((replies.readUInt16LE(a + 2) & NLA_TYPE_MASK) === SERVICE_NEST) r.services.push(serviceAt(replies, a + 4, a + alen));
        a += (alen + 3) & ~3;
      }
    } else endOfDump(replies, off, len, type, flags, s, r);
  });
  return r;
}

/** Calls `fn` for every message of a replies buffer. */
function forEachReply(replies: Buffer, fn: (off: number, len: number, type: number, flags: number, seq: number) => void): void {
  for (let off = 0; off + 16 <= replies.length;) {
    const len = replies.readUInt32LE(off);
    if (len < 16 || off + len > replies.length) throw new DecodeError('ipvs.dump', `message length ${len} out of bounds`);
    fn(off, len, replies.readUInt16LE(off + 4), replies.readUInt16LE(off + 6), replies.readUInt32LE(off + 8));
    off += (len + 3) & ~3;
  }
}


/**
 * One IPVS_CMD_ATTR_DEST nest straight to its object (no record in between), with its counters
 * when asked for (as `toDestination` reads them), else without.
 */
function destinationAt(buf: Buffer, start: number, end: number, serviceAf: number, stats: boolean): IpvsDestinationState {
  let s32 = -1, e32 = -1, s64 = -1, e64 = -1;
  let addrAt = -1, addrEnd = -1, af = serviceAf, port = 0, fwd = 0, weight = 0, u = 0, l = 0, active = 0, inact = 0, persist = 0;
  let tunType: number | undefined, tunPort = 0, tunFlags = 0;
  for (let a = start; a < end;) {
    const len = check(buf, a, end, 'ipvs.dest');
    const id = buf.readUInt16LE(a + 2) & NLA_TYPE_MASK;
    const p = a + 4;
    const n = len - 4;
    switch (id) {
      case ID.addr: addrAt = p; addrEnd = p + n; break;
      case ID.port: if (n >= 2) port = buf.readUInt16BE(p); break;
      case ID.fwdMethod: if (n >= 4) fwd = buf.readUInt32LE(p); break;
      case ID.weight: if (n >= 4) weight = buf.readUInt32LE(p); break;
      case ID.uThresh: if (n >= 4) u = buf.readUInt32LE(p); break;
      case ID.lThresh: if (n >= 4) l = buf.readUInt32LE(p); break;
      case ID.activeConns: if (n >= 4) active = buf.readUInt32LE(p); break;
      case ID.inactConns: if (n >= 4) inact = buf.readUInt32LE(p); break;
      case ID.persistConns: if (n >= 4) persist = buf.readUInt32LE(p); break;
      case ID.addrFamily: if (n >= 2) af = buf.readUInt16LE(p); break;
      case ID.tunType: if (n >= 1) tunType = buf[p]; break;
      case ID.tunPort: if (n >= 2) tunPort = buf.readUInt16BE(p); break;
      case ID.tunFlags: if (n >= 2) tunFlags = buf.readUInt16LE(p); break;
      case ID.stats: s32 = p; e32 = p + n; break;
      case ID.stats64: s64 = p; e64 = p + n; break;
      default: break;
    }
    a += (len + 3) & ~3;
  }
  const address = addrAt < 0 ? undefined as unknown as string : formatAddressAt(buf, addrAt, addrEnd, af, 'ipvs.dest.addr');
  const d = destinationSettings(address, port, af, fwd, weight, u, l, active, inact, persist, tunType, tunPort, tunFlags);
  if (!stats) return d;
  (d as IpvsDestinationState).stats = statsOf(buf, s32, e32, s64, e64, 'ipvs.dest');
  return d;
}

/**
 * Splits the replies of one exchange of destination dumps (request `k` has sequence number
 * `firstSeq + k` and its service's address family `serviceAfs[k]`) into destinations per dump.
 */
export function decodeDestinationDumps(
  replies: Buffer, firstSeq: number, serviceAfs: readonly number[], familyId: number, stats: boolean,
): DumpResult[] {
  const out: DumpResult[] = serviceAfs.map(() => ({ destinations: [], errno: 0, interrupted: false, done: false }));
  forEachReply(replies, (off, len, type, flags, seq) => {
    const k = (seq - firstSeq) >>> 0;
    const r = out[k];
    if (!r) return;
    if (flags & NLM_F_DUMP_INTR) r.interrupted = true;
    if (type === familyId) {
      // genlmsghdr, then the first-level attributes: the IPVS_CMD_ATTR_DEST nest
      const af = serviceAfs[k]!;
      for (let a = off + 20; a + 4 <= off + len;) {
        const alen = check(replies, a, off + len, 'ipvs');
        if ((replies.readUInt16LE(a + 2) & NLA_TYPE_MASK) === DEST_NEST) {
          r.destinations.push(destinationAt(replies, a + 4, a + alen, af, stats));
        }
        a += (alen + 3) & ~3;
      }
    } else endOfDump(replies, off, len, type, flags, seq, r);
  });
  return out;
}
