/**
 * Decoding a whole exchange of destination dumps in one pass over the replies: 50,000
 * destinations are about a million attributes, and the general path (a record per nest, both
 * counter sets as bigints, a reply object per message) costs seconds inside a VM.
 *
 * Attribute ids and types come from the schema; the meaning of the record stays
 * {@link toDestination}'s (without counters, {@link toDestinationSettings}); unit tests compare
 * both with the general decoder.
 *
 * @module
 * @internal
 */
import { decodeRecord, type AttrRecord } from '../netlink/attr';
import { formatAddress } from '../netlink/address';
import { DecodeError } from '../netlink/errors';
import { ipvsCmd, ipvsDest } from '../schema/ipvs';
import { AF_INET, NLA_TYPE_MASK, NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP_INTR } from '../uapi/netlink';
import { toDestination, toDestinationSettings, type IpvsDestination } from '../ipvs/destination';
import type { IpvsStats } from '../ipvs/stats';

/** A destination as a snapshot holds it: `stats` only when counters were read. */
export type IpvsDestinationState = Omit<IpvsDestination, 'stats'> & {
  /** Counters and rates (`ipvsadm -Ln --stats` / `--rate`); present only when read with `stats: true`. */
  stats?: IpvsStats;
};

/** What one dump of an exchange came to. */
export interface DumpResult {
  destinations: IpvsDestinationState[];
  /** Negative errno when the dump failed, else 0. */
  errno: number;
  /** NLM_F_DUMP_INTR: the destinations changed during the dump; read it again. */
  interrupted: boolean;
  /** The dump ended (NLMSG_DONE or an error). */
  done: boolean;
}

const DEST_NEST = ipvsCmd.attrs.dest!.id;
// ids by friendly key, from the schema
const ID = Object.fromEntries(Object.entries(ipvsDest.attrs).map(([k, spec]) => [k, spec.id])) as Record<string, number>;

/** The flat attributes of one IPVS_CMD_ATTR_DEST nest, keyed as the schema keys them. */
function destRecord(buf: Buffer, start: number, end: number, serviceAf: number, stats: boolean): AttrRecord {
  const rec: AttrRecord = {};
  let addrAt = -1, addrEnd = -1;
  for (let a = start; a < end;) {
    if (end - a < 4) throw new DecodeError('ipvs.dest', `${end - a} trailing bytes`);
    const len = buf.readUInt16LE(a);
    if (len < 4 || a + len > end) throw new DecodeError('ipvs.dest', `attribute length ${len} out of bounds`);
    const id = buf.readUInt16LE(a + 2) & NLA_TYPE_MASK;
    const p = a + 4;
    const n = len - 4;
    switch (id) {
      case ID.addr: addrAt = p; addrEnd = p + n; break;
      case ID.port: if (n >= 2) rec.port = buf.readUInt16BE(p); break;
      case ID.fwdMethod: if (n >= 4) rec.fwdMethod = buf.readUInt32LE(p); break;
      case ID.weight: if (n >= 4) rec.weight = buf.readUInt32LE(p); break;
      case ID.uThresh: if (n >= 4) rec.uThresh = buf.readUInt32LE(p); break;
      case ID.lThresh: if (n >= 4) rec.lThresh = buf.readUInt32LE(p); break;
      case ID.activeConns: if (n >= 4) rec.activeConns = buf.readUInt32LE(p); break;
      case ID.inactConns: if (n >= 4) rec.inactConns = buf.readUInt32LE(p); break;
      case ID.persistConns: if (n >= 4) rec.persistConns = buf.readUInt32LE(p); break;
      case ID.addrFamily: if (n >= 2) rec.addrFamily = buf.readUInt16LE(p); break;
      case ID.tunType: if (n >= 1) rec.tunType = buf[p]; break;
      case ID.tunPort: if (n >= 2) rec.tunPort = buf.readUInt16BE(p); break;
      case ID.tunFlags: if (n >= 2) rec.tunFlags = buf.readUInt16LE(p); break;
      case ID.stats:
      case ID.stats64:
        if (stats) {
          const [key, spec] = ipvsDest.byId.get(id)!;
          rec[key] = decodeRecord(buf, p, p + n, spec.nested!, `ipvs.dest.${key}`);
        }
        break;
      default: break;
    }
    a += (len + 3) & ~3;
  }
  if (addrAt >= 0) {
    const family = (rec.addrFamily as number | undefined) ?? serviceAf;
    rec.addr = family === AF_INET && addrEnd - addrAt >= 4
      ? `${buf[addrAt]}.${buf[addrAt + 1]}.${buf[addrAt + 2]}.${buf[addrAt + 3]}`
      : formatAddress(buf.subarray(addrAt, addrEnd), family, 'ipvs.dest.addr');
  }
  return rec;
}

/**
 * Splits the replies of one exchange of destination dumps (request `k` has sequence number
 * `firstSeq + k` and its service's address family `serviceAfs[k]`) into destinations per dump.
 */
export function decodeDestinationDumps(
  replies: Buffer, firstSeq: number, serviceAfs: readonly number[], familyId: number, stats: boolean,
): DumpResult[] {
  const out: DumpResult[] = serviceAfs.map(() => ({ destinations: [], errno: 0, interrupted: false, done: false }));
  for (let off = 0; off + 16 <= replies.length;) {
    const len = replies.readUInt32LE(off);
    if (len < 16 || off + len > replies.length) throw new DecodeError('ipvs.dump', `message length ${len} out of bounds`);
    const type = replies.readUInt16LE(off + 4);
    const flags = replies.readUInt16LE(off + 6);
    const k = (replies.readUInt32LE(off + 8) - firstSeq) >>> 0;
    const r = out[k];
    if (r) {
      if (flags & NLM_F_DUMP_INTR) r.interrupted = true;
      if (type === familyId) {
        // genlmsghdr, then the first-level attributes: the IPVS_CMD_ATTR_DEST nest
        for (let a = off + 20; a + 4 <= off + len;) {
          const alen = replies.readUInt16LE(a);
          if (alen < 4 || a + alen > off + len) throw new DecodeError('ipvs', `attribute length ${alen} out of bounds`);
          if ((replies.readUInt16LE(a + 2) & NLA_TYPE_MASK) === DEST_NEST) {
            const af = serviceAfs[k]!;
            const rec = destRecord(replies, a + 4, a + alen, af, stats);
            r.destinations.push(stats ? toDestination(rec, af) : toDestinationSettings(rec, af));
          }
          a += (alen + 3) & ~3;
        }
      } else if (type === NLMSG_DONE) {
        r.done = true;
        if (len >= 20) {
          const e = replies.readInt32LE(off + 16);
          if (e < 0) r.errno = e;
        }
      } else if (type === NLMSG_ERROR && len >= 20) {
        const e = replies.readInt32LE(off + 16);
        if (e < 0) {
          r.errno = e;
          r.done = true;
        }
      }
    }
    off += (len + 3) & ~3;
  }
  return out;
}
