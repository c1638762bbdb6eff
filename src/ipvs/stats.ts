import type { AttrRecord } from '../netlink/attr';

/**
 * Counters and rates of a service or destination (`ipvsadm -Ln --stats` and `--rate`).
 *
 * The five counters are bigint: the kernel keeps them in 64 bits (STATS64, 4.1+; on older kernels
 * the 32-bit set is widened) and packet and byte counts do pass 2^53 on a busy, long-running
 * service. The five rates are numbers: the kernel's estimates per second, far below 2^53.
 *
 * The objects the library returns serialise: `JSON.stringify` calls their `toJSON`, which writes
 * each counter as a number, or as a decimal string once it passes `Number.MAX_SAFE_INTEGER` (as
 * `ipvs list --json` does). `console.log` shows the bigints with an `n` suffix.
 *
 * @example
 * ```ts
 * import { openHandle } from 'ipvs';
 *
 * const h = openHandle();
 * for (const s of await h.ipvs.listServices()) {
 *   console.log(s.scheduler, `${s.stats.inbytes} bytes in, ${s.stats.inbps} B/s now`);
 * }
 * console.log(JSON.stringify((await h.ipvs.getStats()))); // {"conns":27,"inpkts":452,...,"cps":1,...}
 * h.close();
 * ```
 * @category IPVS
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
  cps: number;
  /** Packets per second in (`ipvsadm -Ln --rate` InPPS), the kernel's estimate over the last seconds. */
  inpps: number;
  /** Packets per second out (OutPPS). */
  outpps: number;
  /** Bytes per second in. */
  inbps: number;
  /** Bytes per second out (OutBPS). */
  outbps: number;
  /**
   * The JSON form: every field a number, a counter past 2^53 a decimal string. Present on the
   * objects the library returns (inherited, so not an own key); a copy made with spread lacks it.
   */
  toJSON?(): Record<IpvsStatsCounter | IpvsStatsRate, number | string>;
}

/** The five counters of {@link IpvsStats} (bigint). @category IPVS */
export type IpvsStatsCounter = 'conns' | 'inpkts' | 'outpkts' | 'inbytes' | 'outbytes';
/** The five rates of {@link IpvsStats} (number). @category IPVS */
export type IpvsStatsRate = 'cps' | 'inpps' | 'outpps' | 'inbps' | 'outbps';

const COUNTERS = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'] as const;
const RATES = ['cps', 'inpps', 'outpps', 'inbps', 'outbps'] as const;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether a stats key is one of the rates (numbers) rather than the counters (bigints). */
export function isStatsRate(key: IpvsStatsCounter | IpvsStatsRate): key is IpvsStatsRate {
  return key === 'cps' || key === 'inpps' || key === 'outpps' || key === 'inbps' || key === 'outbps';
}

// toJSON lives on a shared prototype: not an own key (console.log, Object.keys and toEqual see
// only the ten fields) and no per-object cost.
const PROTO: object = Object.create(Object.prototype, {
  toJSON: {
    value(this: IpvsStats) {
      const out = {} as Record<IpvsStatsCounter | IpvsStatsRate, number | string>;
      for (const k of COUNTERS) out[k] = this[k] <= SAFE ? Number(this[k]) : this[k].toString();
      for (const k of RATES) out[k] = this[k];
      return out;
    },
  },
});

/** Counters and rates all zero (one shared 0n: idle counters are the common case). */
export function zeroStats(): IpvsStats {
  const s = Object.create(PROTO) as IpvsStats;
  s.conns = 0n; s.inpkts = 0n; s.outpkts = 0n; s.inbytes = 0n; s.outbytes = 0n;
  s.cps = 0; s.inpps = 0; s.outpps = 0; s.inbps = 0; s.outbps = 0;
  return s;
}

/** Prefers the 64-bit set when the kernel sent it, else the 32-bit set, else zeros. */
export function decodeStats(rec: AttrRecord): IpvsStats {
  const src = (rec.stats64 ?? rec.stats ?? {}) as Record<string, number | bigint | undefined>;
  const out = zeroStats();
  for (const k of COUNTERS) out[k] = BigInt(src[k] ?? 0);
  for (const k of RATES) out[k] = Number(src[k] ?? 0);
  return out;
}
