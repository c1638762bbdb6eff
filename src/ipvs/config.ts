import type { AttrRecord } from '../netlink/attr';
import { checkKeys, checkObject, keySet, quote } from '../validate';

/** Connection time-outs of the IPVS connection table, in seconds (`ipvsadm -L --timeout`). @category IPVS */
export interface IpvsTimeouts {
  /** Established TCP connections. */
  tcp: number;
  /** TCP connections after a FIN. */
  tcpFin: number;
  /** UDP "connections". */
  udp: number;
}

/** Input of setTimeouts (`ipvsadm --set tcp tcpfin udp`): an absent value stays as it is. @category IPVS */
export type IpvsTimeoutsOptions = Partial<IpvsTimeouts>;

/** What `IPVS_CMD_GET_INFO` says (the first line of `ipvsadm -L`). @category IPVS */
export interface IpvsInfo {
  /** IPVS version as text, `'1.2.1'`. */
  version: string;
  /** The kernel's IP_VS_VERSION_CODE, `0x010201`. */
  versionCode: number;
  /** Size of the connection hash table (ip_vs_conn_tab_size). */
  connTableSize: number;
}

/** ipvsadm's longest time-out (MAX_TIMEOUT in ipvsadm.c: 31 days); the kernel multiplies by HZ into an int. */
export const MAX_TIMEOUT = 86400 * 31;

const TIMEOUT_KEYS = keySet(['tcp', 'tcpFin', 'udp'], 'time-out');

/**
 * First-level IPVS_CMD_ATTR_TIMEOUT_* attributes for SET_CONFIG, in ipvsadm's order. The kernel
 * leaves a time-out alone when its attribute is absent (or 0, which is what ipvsadm sends for it).
 */
export function timeoutAttrs(t: IpvsTimeoutsOptions, op: string): AttrRecord {
  checkObject(t, op, 'timeouts');
  checkKeys(t, TIMEOUT_KEYS, op);
  const rec: AttrRecord = {};
  for (const [key, attr] of [['tcp', 'timeoutTcp'], ['tcpFin', 'timeoutTcpFin'], ['udp', 'timeoutUdp']] as const) {
    const v = t[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1 || v > MAX_TIMEOUT) {
      throw new RangeError(`${op}: ${key} must be a time-out of 1-${MAX_TIMEOUT} seconds, got ${quote(v)}`);
    }
    rec[attr] = v;
  }
  if (Object.keys(rec).length === 0) throw new TypeError(`${op}: give at least one of tcp, tcpFin, udp`);
  return rec;
}

export function toTimeouts(rec: AttrRecord): IpvsTimeouts {
  return {
    tcp: (rec.timeoutTcp as number | undefined) ?? 0,
    tcpFin: (rec.timeoutTcpFin as number | undefined) ?? 0,
    udp: (rec.timeoutUdp as number | undefined) ?? 0,
  };
}

export function toInfo(rec: AttrRecord): IpvsInfo {
  const code = (rec.version as number | undefined) ?? 0;
  return {
    version: `${(code >> 16) & 0xff}.${(code >> 8) & 0xff}.${code & 0xff}`,
    versionCode: code,
    connTableSize: (rec.connTabSize as number | undefined) ?? 0,
  };
}
