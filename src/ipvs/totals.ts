/**
 * `/proc/net/ip_vs_stats` (ip_vs_ctl.c: ip_vs_stats_show): the namespace's IPVS counters and rate
 * estimates as a whole, in hex, under two header lines each:
 *
 * ```
 *    Total Incoming Outgoing         Incoming         Outgoing
 *    Conns  Packets  Packets            Bytes            Bytes
 *       1B      1C4        0            16A3C                0
 *
 *  Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
 *        0        0        0                0                0
 * ```
 *
 * @module
 */
import { DecodeError } from '../netlink/errors';
import { zeroStats, type IpvsStats } from './stats';

/** Parses the text of `/proc/net/ip_vs_stats`. @throws DecodeError when it has not that shape. */
export function parseIpvsTotals(text: string): IpvsStats {
  const rows = text.split('\n').map((l) => l.trim()).filter((l) => /^[0-9A-Fa-f]+(\s+[0-9A-Fa-f]+){4}$/.test(l));
  if (rows.length !== 2) throw new DecodeError('ipvs.stats', `expected two rows of five hex numbers, found ${rows.length}`);
  const [c, r] = rows.map((l) => l.split(/\s+/).map((h) => BigInt(`0x${h}`))) as [bigint[], bigint[]];
  return Object.assign(zeroStats(), {
    conns: c[0]!, inpkts: c[1]!, outpkts: c[2]!, inbytes: c[3]!, outbytes: c[4]!,
    cps: Number(r[0]!), inpps: Number(r[1]!), outpps: Number(r[2]!), inbps: Number(r[3]!), outbps: Number(r[4]!),
  });
}
