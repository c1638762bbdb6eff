import type { AttrRecord } from '../netlink/attr';
import { familyOf } from '../netlink/address';
import {
  IP_VS_CONN_F_BYPASS, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_FWD_MASK, IP_VS_CONN_F_LOCALNODE, IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL, IP_VS_CONN_F_TUNNEL_TYPE_GRE, IP_VS_CONN_F_TUNNEL_TYPE_GUE, IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  IP_VS_TUNNEL_ENCAP_FLAG_CSUM, IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM, IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
} from '../uapi/ip-vs';
import { decodeStats, type IpvsStats } from './stats';
import { familyName, type IpFamily } from './service';

/**
 * Packet-forwarding method: `masq` (-m, NAT), `route` (-g, direct routing: ipvsadm's default),
 * `tunnel` (-i, IP-in-IP and friends), `local` and `bypass`.
 */
export type IpvsForwarding = 'masq' | 'route' | 'tunnel' | 'local' | 'bypass';
/** Tunnel encapsulation (--tun-type). */
export type IpvsTunnelType = 'ipip' | 'gue' | 'gre';
/** Tunnel checksum mode (--tun-nocsum, --tun-csum, --tun-remcsum). */
export type IpvsTunnelChecksum = 'nocsum' | 'csum' | 'remcsum';

/** What identifies a destination within its service. */
export interface IpvsDestinationKey {
  /** Real server IPv4 or IPv6 address. */
  address: string;
  /** Real server port; for fwmark services usually 0. */
  port: number;
}

/** Input of addDestination / editDestination (ipvsadm -a / -e). */
export interface IpvsDestinationOptions extends IpvsDestinationKey {
  /** Default `'route'`, as ipvsadm. */
  forwarding?: IpvsForwarding;
  /** 0 or more (the kernel's 32-bit value); default 1. Weight 0 takes no new connections. */
  weight?: number;
  /** Upper connection threshold (-x); 0: none. */
  upperThreshold?: number;
  /** Lower connection threshold (-y). */
  lowerThreshold?: number;
  /** Only with `forwarding: 'tunnel'`: encapsulation (default ipip). */
  tunnelType?: IpvsTunnelType;
  /** Only with tunnel type gue: the UDP port. */
  tunnelPort?: number;
  /** Only with tunnel type gue or gre: checksum mode. */
  tunnelChecksum?: IpvsTunnelChecksum;
}

/** A destination as the kernel reports it. */
export interface IpvsDestination extends IpvsDestinationKey {
  family: IpFamily;
  forwarding: IpvsForwarding;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
  tunnelType?: IpvsTunnelType;
  tunnelPort?: number;
  tunnelChecksum?: IpvsTunnelChecksum;
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
const FORWARDING_NAMES = invert(FORWARDING);
const TUNNEL_NAMES = invert(TUNNEL);
const CHECKSUM_NAMES = invert(CHECKSUM);

function u32(v: unknown, what: string, op: string): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0x7fffffff) {
    throw new RangeError(`${op}: ${what} must be an integer 0-2147483647, got ${String(v)}`);
  }
  return v as number;
}

/** The destination in text: `10.0.0.2:8080`, `[fd00::2]:8080`. */
export function describeDestination(d: IpvsDestinationKey): string {
  return d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

/** Checks a destination key: IPVS_DEST_ATTR_ADDR, _PORT and _ADDR_FAMILY. */
export function destinationKeyAttrs(d: IpvsDestinationKey, op: string): AttrRecord {
  if (d === null || typeof d !== 'object') throw new TypeError(`${op}: a destination object is required`);
  const af = typeof d.address === 'string' ? familyOf(d.address) : undefined;
  if (af === undefined) throw new TypeError(`${op}: destination address '${String(d.address)}' is not an IPv4 or IPv6 address`);
  if (!Number.isInteger(d.port) || d.port < 0 || d.port > 65535) {
    throw new RangeError(`${op}: destination port must be an integer 0-65535, got ${String(d.port)}`);
  }
  return { addrFamily: af, addr: d.address, port: d.port };
}

/** Full IPVS_CMD_ATTR_DEST attributes for add/edit, with ipvsadm's defaults. */
export function destinationAttrs(d: IpvsDestinationOptions, op: string): AttrRecord {
  const key = destinationKeyAttrs(d, op);
  const forwarding = d.forwarding ?? 'route';
  const fwd = FORWARDING[forwarding];
  if (fwd === undefined) {
    throw new TypeError(`${op}: forwarding must be one of ${Object.keys(FORWARDING).join(', ')}, got ${String(d.forwarding)}`);
  }
  const rec: AttrRecord = {
    ...key,
    fwdMethod: fwd,
    weight: u32(d.weight ?? 1, 'weight', op),
    uThresh: u32(d.upperThreshold ?? 0, 'upperThreshold', op),
    lThresh: u32(d.lowerThreshold ?? 0, 'lowerThreshold', op),
  };
  if (forwarding !== 'tunnel') {
    if (d.tunnelType !== undefined || d.tunnelPort !== undefined || d.tunnelChecksum !== undefined) {
      throw new TypeError(`${op}: tunnel options need forwarding 'tunnel', not '${forwarding}'`);
    }
    return rec;
  }
  const tunnelType = d.tunnelType ?? 'ipip';
  if (TUNNEL[tunnelType] === undefined) throw new TypeError(`${op}: tunnelType must be ipip, gue or gre, got ${String(d.tunnelType)}`);
  rec.tunType = TUNNEL[tunnelType];
  if (tunnelType === 'gue') {
    if (!Number.isInteger(d.tunnelPort) || d.tunnelPort! < 1 || d.tunnelPort! > 65535) {
      throw new RangeError(`${op}: a gue tunnel needs tunnelPort 1-65535, got ${String(d.tunnelPort)}`);
    }
    rec.tunPort = d.tunnelPort;
  } else if (d.tunnelPort !== undefined) {
    throw new TypeError(`${op}: tunnelPort applies to gue tunnels only`);
  }
  if (d.tunnelChecksum !== undefined) {
    if (tunnelType === 'ipip') throw new TypeError(`${op}: tunnelChecksum applies to gue and gre tunnels only`);
    if (CHECKSUM[d.tunnelChecksum] === undefined) throw new TypeError(`${op}: tunnelChecksum must be nocsum, csum or remcsum`);
    rec.tunFlags = CHECKSUM[d.tunnelChecksum];
  }
  return rec;
}

/** Decoded IPVS_CMD_ATTR_DEST attributes to the typed object. */
export function toDestination(rec: AttrRecord, serviceAf: number): IpvsDestination {
  const fwd = ((rec.fwdMethod as number | undefined) ?? 0) & IP_VS_CONN_F_FWD_MASK;
  const forwarding = FORWARDING_NAMES.get(fwd) ?? 'masq';
  const d: IpvsDestination = {
    address: rec.addr as string,
    port: (rec.port as number | undefined) ?? 0,
    family: familyName((rec.addrFamily as number | undefined) ?? serviceAf),
    forwarding,
    weight: (rec.weight as number | undefined) ?? 0,
    upperThreshold: (rec.uThresh as number | undefined) ?? 0,
    lowerThreshold: (rec.lThresh as number | undefined) ?? 0,
    activeConns: (rec.activeConns as number | undefined) ?? 0,
    inactiveConns: (rec.inactConns as number | undefined) ?? 0,
    persistentConns: (rec.persistConns as number | undefined) ?? 0,
    stats: decodeStats(rec),
  };
  if (forwarding === 'tunnel' && rec.tunType !== undefined) {
    d.tunnelType = TUNNEL_NAMES.get(rec.tunType as number) ?? 'ipip';
    if (d.tunnelType === 'gue') d.tunnelPort = rec.tunPort as number;
    if (d.tunnelType !== 'ipip' && rec.tunFlags !== undefined) d.tunnelChecksum = CHECKSUM_NAMES.get(rec.tunFlags as number) ?? 'nocsum';
  }
  return d;
}
