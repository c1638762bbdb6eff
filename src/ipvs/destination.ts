import type { AttrRecord } from '../netlink/attr';
import { familyOf } from '../netlink/address';
import {
  IP_VS_CONN_F_BYPASS, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_FWD_MASK, IP_VS_CONN_F_LOCALNODE, IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL, IP_VS_CONN_F_TUNNEL_TYPE_GRE, IP_VS_CONN_F_TUNNEL_TYPE_GUE, IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  IP_VS_TUNNEL_ENCAP_FLAG_CSUM, IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM, IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
} from '../uapi/ip-vs';
import { decodeStats, type IpvsStats } from './stats';
import { familyName, isPort, type IpFamily } from './service';
import { checkKeys, checkObject, keySet, quote, type KeySet } from '../validate';

/**
 * Packet-forwarding method: `masq` (-m, NAT), `route` (-g, direct routing: ipvsadm's default),
 * `tunnel` (-i, IP-in-IP and friends), `local` and `bypass`.
 * @category IPVS
 */
export type IpvsForwarding = 'masq' | 'route' | 'tunnel' | 'local' | 'bypass';
/** Tunnel encapsulation (--tun-type). @category IPVS */
export type IpvsTunnelType = 'ipip' | 'gue' | 'gre';
/** Tunnel checksum mode (--tun-nocsum, --tun-csum, --tun-remcsum). @category IPVS */
export type IpvsTunnelChecksum = 'nocsum' | 'csum' | 'remcsum';

/** What identifies a destination within its service. @category IPVS */
export interface IpvsDestinationKey {
  /** Real server IPv4 or IPv6 address. */
  address: string;
  /**
   * Real server port; for fwmark services usually 0. Direct routing and tunnels cannot change the
   * port (the packet is not rewritten): ipvsadm sends the service's port for -g and -i
   * destinations, and so should callers that want ipvsadm's view to match.
   */
  port: number;
}

/** Input of addDestination / editDestination / replaceDestination (ipvsadm -a / -e). @category IPVS */
export interface IpvsDestinationOptions extends IpvsDestinationKey {
  /** Default `'route'`, as ipvsadm. */
  forwarding?: IpvsForwarding;
  /** The kernel's 32-bit signed weight: 0 to 2147483647 (ipvsadm -w takes the same); default 1. Weight 0 takes no new connections. */
  weight?: number;
  /** Upper connection threshold (-x), the kernel's u32: 0 to 4294967295 (ipvsadm stops at 2147483647); 0: none. */
  upperThreshold?: number;
  /** Lower connection threshold (-y), u32 like the upper one, which it must not exceed (the kernel answers ERANGE). */
  lowerThreshold?: number;
  /** Only with `forwarding: 'tunnel'`: encapsulation (default ipip). */
  tunnelType?: IpvsTunnelType;
  /** Only with tunnel type gue, and required there: the UDP port. */
  tunnelPort?: number;
  /** Only with tunnel type gue (any) or gre (nocsum, csum): checksum mode; default nocsum. */
  tunnelChecksum?: IpvsTunnelChecksum;
}

/** A destination as the kernel reports it. @category IPVS */
export interface IpvsDestination extends IpvsDestinationKey {
  /** Family of the real server's address; differs from the service's only for tunnels. */
  family: IpFamily;
  /** Forwarding method (`ipvsadm -Ln` Forward column: Masq, Route, Tunnel, Local, Bypass). */
  forwarding: IpvsForwarding;
  /** Weight (Weight column); 0 takes no new connections. */
  weight: number;
  /** Upper connection threshold (-x); 0: none. */
  upperThreshold: number;
  /** Lower connection threshold (-y); 0: none. */
  lowerThreshold: number;
  /** Active connections, for TCP those ESTABLISHED (`ipvsadm -Ln` ActiveConn column). */
  activeConns: number;
  /** Inactive connections, for TCP those not (yet, or any longer) established (InActConn column). */
  inactiveConns: number;
  /** Persistence templates pointing at this destination (`ipvsadm -Ln --persistent-conn` PersistConn). */
  persistentConns: number;
  /** Tunnel destinations only (kernels before 5.2 do not say: then absent). */
  tunnelType?: IpvsTunnelType;
  /** gue tunnels only. */
  tunnelPort?: number;
  /** gue and gre tunnels only. */
  tunnelChecksum?: IpvsTunnelChecksum;
  /** Counters and rates of this destination (`ipvsadm -Ln --stats` / `--rate`). */
  stats: IpvsStats;
}

const FORWARDING: Record<IpvsForwarding, number> = {
  masq: IP_VS_CONN_F_MASQ, route: IP_VS_CONN_F_DROUTE, tunnel: IP_VS_CONN_F_TUNNEL,
  local: IP_VS_CONN_F_LOCALNODE, bypass: IP_VS_CONN_F_BYPASS,
};
const TUNNEL: Record<IpvsTunnelType, number> = {
  ipip: IP_VS_CONN_F_TUNNEL_TYPE_IPIP, gue: IP_VS_CONN_F_TUNNEL_TYPE_GUE, gre: IP_VS_CONN_F_TUNNEL_TYPE_GRE,
};
const CHECKSUM: Record<IpvsTunnelChecksum, number> = {
  nocsum: IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM, csum: IP_VS_TUNNEL_ENCAP_FLAG_CSUM, remcsum: IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
};

function invert<T extends string>(r: Record<T, number>): Map<number, T> {
  return new Map(Object.entries(r).map(([k, v]) => [v as number, k as T]));
}
/** Forwarding method names by the kernel's IP_VS_CONN_F_* code. */
export const FORWARDING_NAMES = invert(FORWARDING);
const TUNNEL_NAMES = invert(TUNNEL);
const CHECKSUM_NAMES = invert(CHECKSUM);

const DEST_OPTION_FIELDS = [
  'address', 'port', 'family', 'forwarding', 'weight', 'upperThreshold', 'lowerThreshold', 'tunnelType', 'tunnelPort', 'tunnelChecksum',
];
const DEST_OUTPUT_FIELDS = ['activeConns', 'inactiveConns', 'persistentConns', 'stats'];
// DEST_OPTION_FIELDS as a switch: the batch's fast path tests every destination's keys, and a
// switch on interned strings is several times cheaper than a Set lookup there
function isDestOption(k: string): boolean {
  switch (k) {
    case 'address': case 'port': case 'forwarding': case 'weight': case 'upperThreshold': case 'lowerThreshold':
    case 'family': case 'tunnelType': case 'tunnelPort': case 'tunnelChecksum':
      return true;
    default:
      return false;
  }
}
function isDestField(k: string): boolean {
  return isDestOption(k) || k === 'activeConns' || k === 'inactiveConns' || k === 'persistentConns' || k === 'stats';
}
/** The fields addDestination / editDestination take (`family` only as the address's own). */
export const DEST_OPTION_KEYS: KeySet = keySet(DEST_OPTION_FIELDS, 'destination option', DEST_OUTPUT_FIELDS, isDestOption);
/** The fields a destination key may carry: its options, and what a listed destination has besides. */
export const DEST_KEY_KEYS: KeySet = keySet([...DEST_OPTION_FIELDS, ...DEST_OUTPUT_FIELDS], 'destination field', [], isDestField);

/** `table[name]` for a name the table has as its own (not `toString` from its prototype). */
function lookup<T>(table: Record<string, T>, name: unknown): T | undefined {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}

/** A weight or threshold the builders take: an integer 0-2147483647 (the kernel's signed 32 bits). */
export function isInt31(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0x7fffffff;
}

/** A connection threshold: the kernel's u32 (struct ip_vs_dest_user_kern u_threshold, l_threshold). */
export function isU32(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
}

function u32(v: unknown, what: string, op: string): number {
  if (!isU32(v)) throw new RangeError(`${op}: ${what} must be an integer 0-4294967295, got ${String(v)}`);
  return v as number;
}

// The weight is an int in the kernel: ip_vs_ctl.c refuses a negative one with ERANGE, so the
// 32-bit attribute carries 0 to INT_MAX.
function int31(v: unknown, what: string, op: string): number {
  if (!isInt31(v)) {
    throw new RangeError(`${op}: ${what} must be an integer 0-2147483647, got ${quote(v)}`);
  }
  return v as number;
}

/** The destination in text: `10.0.0.2:8080`, `[fd00::2]:8080`. */
export function describeDestination(d: IpvsDestinationKey): string {
  return String(d.address).includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

/** Checks a destination key: IPVS_DEST_ATTR_ADDR_FAMILY, _ADDR and _PORT (in ipvsadm's order). */
export function destinationKeyAttrs(d: IpvsDestinationKey, op: string, keys: KeySet = DEST_KEY_KEYS): AttrRecord {
  checkObject(d, op, 'a destination');
  checkKeys(d, keys, op);
  const af = typeof d.address === 'string' ? familyOf(d.address) : undefined;
  if (af === undefined) throw new TypeError(`${op}: destination address ${quote(d.address)} is not an IPv4 or IPv6 address`);
  const family = (d as { family?: unknown }).family;
  if (family !== undefined && family !== familyName(af)) {
    throw new TypeError(`${op}: destination family ${quote(family)} contradicts address ${quote(d.address)} (${familyName(af)})`);
  }
  if (!isPort(d.port)) {
    throw new RangeError(`${op}: destination port must be an integer 0-65535, got ${quote(d.port)}`);
  }
  return { addrFamily: af, addr: d.address, port: d.port };
}

/**
 * Full IPVS_CMD_ATTR_DEST attributes for add/edit, with ipvsadm's defaults, in the order ipvsadm
 * writes them (libipvs ipvs_nl_fill_dest_attr): the tunnel attributes always travel (zero unless
 * tunnelling), as ipvsadm sends them; kernels before 5.2 ignore them.
 * `serviceAf` is the service's family: only a tunnel may lead to the other family.
 */
export function destinationAttrs(d: IpvsDestinationOptions, op: string, serviceAf?: number): AttrRecord {
  const key = destinationKeyAttrs(d, op, DEST_OPTION_KEYS);
  const forwarding = d.forwarding ?? 'route';
  const fwd = lookup(FORWARDING, forwarding);
  if (fwd === undefined) {
    throw new TypeError(`${op}: forwarding must be one of ${Object.keys(FORWARDING).join(', ')}, got ${quote(d.forwarding)}`);
  }
  if (serviceAf !== undefined && key.addrFamily !== serviceAf && forwarding !== 'tunnel') {
    throw new TypeError(`${op}: destination ${describeDestination(d)} is of another address family than its service; only tunnel destinations may be (as ipvsadm)`);
  }
  const weight = int31(d.weight ?? 1, 'weight', op);
  const uThresh = u32(d.upperThreshold ?? 0, 'upperThreshold', op);
  const lThresh = u32(d.lowerThreshold ?? 0, 'lowerThreshold', op);
  if (lThresh > uThresh) {
    throw new RangeError(`${op}: lowerThreshold ${lThresh} is above upperThreshold ${uThresh} (the kernel refuses it with ERANGE)`);
  }
  let tunType = 0;
  let tunPort = 0;
  let tunFlags = 0;
  if (forwarding !== 'tunnel') {
    if (d.tunnelType !== undefined || d.tunnelPort !== undefined || d.tunnelChecksum !== undefined) {
      throw new TypeError(`${op}: tunnel options need forwarding 'tunnel', not ${quote(forwarding)}`);
    }
  } else {
    const tunnelType = d.tunnelType ?? 'ipip';
    if (lookup(TUNNEL, tunnelType) === undefined) throw new TypeError(`${op}: tunnelType must be ipip, gue or gre, got ${quote(d.tunnelType)}`);
    tunType = TUNNEL[tunnelType];
    if (tunnelType === 'gue') {
      if (!Number.isInteger(d.tunnelPort) || d.tunnelPort! < 1 || d.tunnelPort! > 65535) {
        throw new RangeError(`${op}: a gue tunnel needs tunnelPort 1-65535, got ${quote(d.tunnelPort)}`);
      }
      tunPort = d.tunnelPort!;
    } else if (d.tunnelPort !== undefined) {
      throw new TypeError(`${op}: tunnelPort applies to gue tunnels only`);
    }
    if (d.tunnelChecksum !== undefined) {
      if (lookup(CHECKSUM, d.tunnelChecksum) === undefined) throw new TypeError(`${op}: tunnelChecksum must be nocsum, csum or remcsum, got ${quote(d.tunnelChecksum)}`);
      if (tunnelType === 'ipip') throw new TypeError(`${op}: tunnelChecksum applies to gue and gre tunnels only`);
      if (tunnelType === 'gre' && d.tunnelChecksum === 'remcsum') throw new TypeError(`${op}: remcsum applies to gue tunnels only`);
      tunFlags = CHECKSUM[d.tunnelChecksum];
    }
  }
  return { ...key, fwdMethod: fwd, weight, tunType, tunPort, tunFlags, uThresh, lThresh };
}

/** Decoded IPVS_CMD_ATTR_DEST attributes to the typed object. */
export function toDestination(rec: AttrRecord, serviceAf: number): IpvsDestination {
  return { ...toDestinationSettings(rec, serviceAf), stats: decodeStats(rec) };
}

/** {@link toDestination} without the counters (a snapshot reads them only when asked). */
export function toDestinationSettings(rec: AttrRecord, serviceAf: number): Omit<IpvsDestination, 'stats'> {
  const n = (v: unknown) => (v as number | undefined) ?? 0;
  return destinationSettings(
    rec.addr as string, n(rec.port), (rec.addrFamily as number | undefined) ?? serviceAf, n(rec.fwdMethod), n(rec.weight),
    n(rec.uThresh), n(rec.lThresh), n(rec.activeConns), n(rec.inactConns), n(rec.persistConns),
    rec.tunType as number | undefined, n(rec.tunPort), n(rec.tunFlags),
  );
}

/**
 * The destination object from its attribute values (absent ones as 0, an absent tunnel type as
 * undefined): what {@link toDestinationSettings} gives, for a decoder that reads the values
 * itself (the snapshot's, 50,000 destinations at a time).
 */
export function destinationSettings(
  address: string, port: number, af: number, fwdMethod: number, weight: number, uThresh: number, lThresh: number,
  activeConns: number, inactConns: number, persistConns: number, tunType: number | undefined, tunPort: number, tunFlags: number,
): Omit<IpvsDestination, 'stats'> {
  const forwarding = FORWARDING_NAMES.get(fwdMethod & IP_VS_CONN_F_FWD_MASK) ?? 'masq';
  const d: Omit<IpvsDestination, 'stats'> = {
    address,
    port,
    family: familyName(af),
    forwarding,
    weight,
    upperThreshold: uThresh,
    lowerThreshold: lThresh,
    activeConns,
    inactiveConns: inactConns,
    persistentConns: persistConns,
  };
  if (forwarding === 'tunnel' && tunType !== undefined) {
    const type = TUNNEL_NAMES.get(tunType);
    if (type !== undefined) {
      d.tunnelType = type;
      if (type === 'gue') d.tunnelPort = tunPort;
      // before 5.3 there is no IPVS_DEST_ATTR_TUN_FLAGS: no checksum flag means nocsum, as ipvsadm reads it
      if (type !== 'ipip') {
        const csum = CHECKSUM_NAMES.get(tunFlags);
        if (csum !== undefined) d.tunnelChecksum = csum;
      }
    }
  }
  return d;
}
