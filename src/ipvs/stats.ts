import type { AttrRecord } from '../netlink/attr';

/**
 * Counters and rates of a service or destination. Counters are bigint: the kernel keeps them in
 * 64 bits (STATS64, 4.1+); on older kernels the 32-bit set is widened.
 */
export interface IpvsStats {
  conns: bigint;
  inpkts: bigint;
  outpkts: bigint;
  inbytes: bigint;
  outbytes: bigint;
  /** Connections per second. */
  cps: bigint;
  inpps: bigint;
  outpps: bigint;
  /** Bytes per second in. */
  inbps: bigint;
  outbps: bigint;
}

const KEYS = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes', 'cps', 'inpps', 'outpps', 'inbps', 'outbps'] as const;

/** Prefers the 64-bit set when the kernel sent it, else the 32-bit set, else zeros. */
export function decodeStats(rec: AttrRecord): IpvsStats {
  const src = (rec.stats64 ?? rec.stats ?? {}) as Record<string, number | bigint | undefined>;
  const out = {} as IpvsStats;
  for (const k of KEYS) out[k] = BigInt(src[k] ?? 0);
  return out;
}
