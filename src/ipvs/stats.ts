import type { AttrRecord } from '../netlink/attr';

/**
 * Counters and rates of a service or destination. Counters are bigint: the kernel keeps them in
 * 64 bits (STATS64, 4.1+); on older kernels the 32-bit set is widened.
 */
export interface IpvsStats {
  /** Connections scheduled since the counters were last zeroed (`ipvsadm -Ln --stats` Conns). */
  conns: bigint;
  /** Packets in, client to real server (InPkts). */
  inpkts: bigint;
  /** Packets out, real server to client (OutPkts); only seen for NAT (masq), other methods reply directly. */
  outpkts: bigint;
  /** Bytes in, client to real server (InBytes). */
  inbytes: bigint;
  /** Bytes out, real server to client (OutBytes); as outpkts, NAT only. */
  outbytes: bigint;
  /** Connections per second. */
  cps: bigint;
  /** Packets per second in (`ipvsadm -Ln --rate` InPPS), the kernel's estimate over the last seconds. */
  inpps: bigint;
  /** Packets per second out (OutPPS). */
  outpps: bigint;
  /** Bytes per second in. */
  inbps: bigint;
  /** Bytes per second out (OutBPS). */
  outbps: bigint;
}

const KEYS = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes', 'cps', 'inpps', 'outpps', 'inbps', 'outbps'] as const;

/** Counters and rates all zero (one shared 0n: idle counters are the common case). */
export function zeroStats(): IpvsStats {
  return { conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n, cps: 0n, inpps: 0n, outpps: 0n, inbps: 0n, outbps: 0n };
}

/** Prefers the 64-bit set when the kernel sent it, else the 32-bit set, else zeros. */
export function decodeStats(rec: AttrRecord): IpvsStats {
  const src = (rec.stats64 ?? rec.stats ?? {}) as Record<string, number | bigint | undefined>;
  const out = {} as IpvsStats;
  for (const k of KEYS) out[k] = BigInt(src[k] ?? 0);
  return out;
}
