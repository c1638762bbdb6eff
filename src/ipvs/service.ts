import type { AttrRecord } from '../netlink/attr';
import { dottedQuad, familyOf } from '../netlink/address';
import { AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../uapi/netlink';
import {
  IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3,
  IP_VS_SCHEDNAME_MAXLEN, IP_VS_PENAME_MAXLEN,
} from '../uapi/ip-vs';
import { decodeStats, type IpvsStats } from './stats';
import { checkKeys, checkObject, keySet, quote, type KeySet } from '../validate';

/** Transport protocol of a virtual service, as ipvsadm's -t, -u and --sctp-service name them. @category IPVS */
export type IpvsProtocol = 'tcp' | 'udp' | 'sctp';
/** Address family, as iproute2 names them. @category IPVS */
export type IpFamily = 'inet' | 'inet6';

/** A service keyed by protocol, virtual address and port (`ipvsadm -t 10.0.0.1:80`). @category IPVS */
export interface IpvsAddressKey {
  /** `tcp` (ipvsadm -t), `udp` (-u) or `sctp` (--sctp-service). */
  protocol: IpvsProtocol;
  /** Virtual IPv4 or IPv6 address. */
  address: string;
  /** Virtual port, 0-65535 (0 only with persistence, as ipvsadm allows). */
  port: number;
}
/** A service keyed by firewall mark (`ipvsadm -f 5`, `ipvsadm -f 5 -6`). @category IPVS */
export interface IpvsFwmarkKey {
  /** Firewall mark the service matches (ipvsadm -f), 1-4294967295, as set by iptables/nftables `MARK`. */
  fwmark: number;
  /** Family of the packets it matches; default `'inet'` (ipvsadm -6 for inet6). */
  family?: IpFamily;
}
/** What identifies a virtual service. @category IPVS */
export type IpvsServiceKey = IpvsAddressKey | IpvsFwmarkKey;

/**
 * Scheduler flags by ipvsadm's names (-b). `sh-*` need the sh scheduler and `mh-*` the mh
 * scheduler; `flag-1`..`flag-3` are the same bits under their generic names.
 * @category IPVS
 */
export type IpvsSchedFlag = 'sh-fallback' | 'sh-port' | 'mh-fallback' | 'mh-port' | 'flag-1' | 'flag-2' | 'flag-3';

/** Settings of a service, as ipvsadm -A / -E take them. @category IPVS */
export interface IpvsServiceSettings {
  /** Scheduler name (-s): rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos or any the kernel has; default `'wlc'`, as ipvsadm. */
  scheduler?: string;
  /** Persistence timeout in seconds (-p), 1 to 2678400 (31 days, ipvsadm's limit); absent or 0: not persistent. */
  persistent?: number;
  /** Persistence granularity (-M): an IPv4 netmask (`'255.255.255.0'`) or prefix length (24), or an IPv6 prefix length (1-128). */
  netmask?: string | number;
  /** One-packet scheduling (-o): UDP and firewall-mark services only, as ipvsadm. */
  onePacket?: boolean;
  /** Scheduler flags (-b). */
  schedFlags?: IpvsSchedFlag[];
  /** Persistence engine (--pe), e.g. `'sip'`. */
  pe?: string;
}

/** Input of addService / replaceService / editService. @category IPVS */
export type IpvsServiceOptions = IpvsServiceKey & IpvsServiceSettings;

/** A virtual service as the kernel reports it. @category IPVS */
export type IpvsService = IpvsServiceKey & {
  /** `inet` or `inet6`: the family of the virtual address (or of the packets a fwmark service matches). */
  family: IpFamily;
  /** Scheduler name (`ipvsadm -Ln` Scheduler column), e.g. `wlc`. */
  scheduler: string;
  /** Persistence timeout in seconds, 0 when not persistent. */
  persistent: number;
  /** IPv4 netmask as dotted quad, or IPv6 prefix length. */
  netmask: string | number;
  /** One-packet scheduling (ipvsadm -o, `ops` in `ipvsadm -Ln`). */
  onePacket: boolean;
  /**
   * Scheduler flags (ipvsadm -b), by the scheduler's names for sh and mh (`sh-port`), else
   * `flag-1`..`flag-3`; empty when none.
   */
  schedFlags: IpvsSchedFlag[];
  /** Persistence engine (--pe), e.g. `sip`; absent when none. */
  pe?: string;
  /** Raw IP_VS_SVC_F_* bits (IP_VS_SVC_F_HASHED included, as the kernel reports them). */
  flags: number;
  /** Counters and rates of the service (`ipvsadm -Ln --stats` / `--rate`). */
  stats: IpvsStats;
};

/** ipvsadm's longest persistence timeout (MAX_TIMEOUT in ipvsadm.c: 31 days). */
export const MAX_PERSISTENT_TIMEOUT = 86400 * 31;

const PROTOCOLS: Record<IpvsProtocol, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP };
const SCHED_FLAG_BITS: Record<IpvsSchedFlag, [number, string | undefined]> = {
  'sh-fallback': [IP_VS_SVC_F_SCHED1, 'sh'], 'sh-port': [IP_VS_SVC_F_SCHED2, 'sh'],
  'mh-fallback': [IP_VS_SVC_F_SCHED1, 'mh'], 'mh-port': [IP_VS_SVC_F_SCHED2, 'mh'],
  'flag-1': [IP_VS_SVC_F_SCHED1, undefined], 'flag-2': [IP_VS_SVC_F_SCHED2, undefined], 'flag-3': [IP_VS_SVC_F_SCHED3, undefined],
};

export function familyNumber(f: IpFamily): number {
  return f === 'inet6' ? AF_INET6 : AF_INET;
}
export function familyName(af: number): IpFamily {
  return af === AF_INET6 ? 'inet6' : 'inet';
}

/** A port the builders take: an integer 0-65535. */
export function isPort(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
}

function checkPort(port: unknown, what: string): void {
  if (!isPort(port)) {
    throw new RangeError(`${what}: port must be an integer 0-65535, got ${quote(port)}`);
  }
}

const KEY_FIELDS = ['protocol', 'address', 'port', 'fwmark', 'family'];
const SETTINGS_FIELDS = ['scheduler', 'persistent', 'netmask', 'onePacket', 'schedFlags', 'pe'];
/** What a listed service carries beyond its options (and a desired or snapshot service its destinations). */
const SERVICE_OUTPUT_FIELDS = ['flags', 'stats', 'destinations'];
/** The fields addService / editService take. */
export const SERVICE_OPTION_KEYS: KeySet = keySet([...KEY_FIELDS, ...SETTINGS_FIELDS], 'service option', SERVICE_OUTPUT_FIELDS);
/**
 * The fields a service key may carry: its key, and what a listed or queued service has besides
 * (so a listed service, or a service's options, serve as its key); no others.
 */
/** The fields of a service in reconcile's desired state: its options and its destinations. */
export const DESIRED_SERVICE_KEYS: KeySet = keySet([...KEY_FIELDS, ...SETTINGS_FIELDS, 'destinations'], 'service option', ['flags', 'stats']);
export const SERVICE_KEY_KEYS: KeySet = keySet([...KEY_FIELDS, ...SETTINGS_FIELDS, ...SERVICE_OUTPUT_FIELDS], 'service field');

/** True when the key names a firewall-mark service. */
export function isFwmarkKey(k: IpvsServiceKey): k is IpvsFwmarkKey {
  return 'fwmark' in k && k.fwmark !== undefined;
}

/** The key of a service in text, as messages name it: `10.0.0.1:80/tcp`, `[::1]:80/tcp`, `fwmark 5`. */
export function describeService(k: IpvsServiceKey): string {
  if (isFwmarkKey(k)) return `fwmark ${k.fwmark}${k.family === 'inet6' ? ' (inet6)' : ''}`;
  const a = k as IpvsAddressKey;
  const host = String(a.address).includes(':') ? `[${a.address}]` : a.address;
  return `${host}:${a.port}/${a.protocol}`;
}

/**
 * Checks a key and returns its IPVS_SVC_ATTR_* key attributes. Throws TypeError/RangeError: for a
 * field not in `keys`, and for a firewall mark given together with an address, protocol or port,
 * or a family other than the address's.
 */
export function serviceKeyAttrs(k: IpvsServiceKey, op: string, keys: KeySet = SERVICE_KEY_KEYS): AttrRecord {
  checkObject(k, op, 'a service key');
  checkKeys(k, keys, op);
  const o = k as unknown as Record<string, unknown>;
  if (isFwmarkKey(k)) {
    for (const f of ['address', 'protocol', 'port']) {
      if (o[f] !== undefined) throw new TypeError(`${op}: give fwmark or ${f}, not both (a service is keyed by a firewall mark, or by protocol, address and port)`);
    }
    if (!Number.isInteger(k.fwmark) || k.fwmark < 1 || k.fwmark > 0xffffffff) {
      throw new RangeError(`${op}: fwmark must be an integer 1-4294967295, got ${quote(k.fwmark)}`);
    }
    if (k.family !== undefined && k.family !== 'inet' && k.family !== 'inet6') {
      throw new TypeError(`${op}: family must be 'inet' or 'inet6', got ${quote(k.family)}`);
    }
    return { af: familyNumber(k.family ?? 'inet'), fwmark: k.fwmark };
  }
  const a = k as IpvsAddressKey;
  const proto = PROTOCOLS[a.protocol];
  if (proto === undefined || !Object.prototype.hasOwnProperty.call(PROTOCOLS, a.protocol)) {
    throw new TypeError(`${op}: protocol must be 'tcp', 'udp' or 'sctp', got ${quote(a.protocol)}`);
  }
  const af = typeof a.address === 'string' ? familyOf(a.address) : undefined;
  if (af === undefined) throw new TypeError(`${op}: ${quote(a.address)} is not an IPv4 or IPv6 address`);
  checkPort(a.port, op);
  const family = o.family;
  if (family !== undefined && family !== familyName(af)) {
    throw new TypeError(`${op}: family ${quote(family)} contradicts address ${quote(a.address)} (${familyName(af)})`);
  }
  return { af, protocol: proto, addr: a.address, port: a.port };
}

function netmaskAttr(af: number, netmask: string | number | undefined, op: string): number {
  if (af === AF_INET6) {
    const len = netmask ?? 128;
    if (!Number.isInteger(len) || (len as number) < 1 || (len as number) > 128) {
      throw new RangeError(`${op}: IPv6 persistence prefix length must be 1-128, got ${quote(netmask)}`);
    }
    return len as number;
  }
  let bytes: Buffer;
  if (netmask === undefined) bytes = Buffer.from([255, 255, 255, 255]);
  else if (typeof netmask === 'number') {
    if (!Number.isInteger(netmask) || netmask < 0 || netmask > 32) throw new RangeError(`${op}: netmask prefix length must be 0-32, got ${quote(netmask)}`);
    bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(netmask === 0 ? 0 : (0xffffffff << (32 - netmask)) >>> 0);
  } else {
    if (typeof netmask !== 'string' || familyOf(netmask) !== AF_INET) throw new TypeError(`${op}: netmask ${quote(netmask)} is not a dotted-quad mask`);
    bytes = Buffer.from(netmask.split('.').map(Number));
  }
  // IPVS_SVC_ATTR_NETMASK holds a __be32: the mask's bytes in network order, read as a host u32.
  return bytes.readUInt32LE(0);
}

/** Checks a scheduler or persistence-engine name (the kernel keeps IP_VS_*_MAXLEN bytes, NUL included). */
function checkName(value: unknown, what: string, max: number, op: string): string {
  if (typeof value !== 'string' || !/^[a-z0-9_-]+$/i.test(value) || value.length >= max) {
    throw new TypeError(`${op}: ${what} must be a name like ${what === 'scheduler' ? "'rr' or 'wlc'" : "'sip'"} (under ${max} characters), got ${quote(value)}`);
  }
  return value;
}

/**
 * Full IPVS_CMD_ATTR_SERVICE attributes for add/edit, with ipvsadm's defaults, in the order
 * ipvsadm writes them (libipvs ipvs_nl_fill_service_attr), so the bytes match its requests.
 */
export function serviceAttrs(s: IpvsServiceOptions, op: string, keys: KeySet = SERVICE_OPTION_KEYS): AttrRecord {
  const key = serviceKeyAttrs(s, op, keys);
  const scheduler = checkName(s.scheduler ?? 'wlc', 'scheduler', IP_VS_SCHEDNAME_MAXLEN, op);
  let flags = 0;
  const persistent = s.persistent ?? 0;
  if (!Number.isInteger(persistent) || persistent < 0 || persistent > MAX_PERSISTENT_TIMEOUT) {
    throw new RangeError(`${op}: persistent must be a timeout of 1-${MAX_PERSISTENT_TIMEOUT} seconds (0: not persistent), got ${quote(s.persistent)}`);
  }
  if (persistent > 0) flags |= IP_VS_SVC_F_PERSISTENT;
  if (s.onePacket !== undefined && typeof s.onePacket !== 'boolean') throw new TypeError(`${op}: onePacket must be a boolean`);
  if (s.onePacket) {
    if (!isFwmarkKey(s) && (s as IpvsAddressKey).protocol !== 'udp') {
      throw new TypeError(`${op}: one-packet scheduling is only for UDP and firewall-mark services (as ipvsadm)`);
    }
    flags |= IP_VS_SVC_F_ONEPACKET;
  }
  if (s.schedFlags !== undefined && !Array.isArray(s.schedFlags)) throw new TypeError(`${op}: schedFlags must be an array of flag names`);
  for (const f of s.schedFlags ?? []) {
    const entry = typeof f === 'string' && Object.prototype.hasOwnProperty.call(SCHED_FLAG_BITS, f) ? SCHED_FLAG_BITS[f] : undefined;
    if (entry === undefined) throw new TypeError(`${op}: unknown scheduler flag ${quote(f)} (sh-fallback, sh-port, mh-fallback, mh-port, flag-1, flag-2, flag-3)`);
    if (entry[1] !== undefined && entry[1] !== scheduler) {
      throw new TypeError(`${op}: scheduler flag ${quote(f)} needs the ${entry[1]} scheduler, not ${quote(scheduler)}`);
    }
    flags |= entry[0];
  }
  if (!isFwmarkKey(s) && (s as IpvsAddressKey).port === 0 && persistent === 0) {
    throw new RangeError(`${op}: port 0 is only allowed for persistent services (as ipvsadm)`);
  }
  const rec: AttrRecord = { ...key, schedName: scheduler };
  if (s.pe !== undefined) rec.peName = checkName(s.pe, 'pe', IP_VS_PENAME_MAXLEN, op);
  rec.flags = { flags, mask: 0xffffffff };
  rec.timeout = persistent;
  rec.netmask = netmaskAttr(key.af as number, s.netmask, op);
  return rec;
}

const SCHED_FLAG_NAMES: [number, IpvsSchedFlag, IpvsSchedFlag, IpvsSchedFlag][] = [
  [IP_VS_SVC_F_SCHED1, 'flag-1', 'sh-fallback', 'mh-fallback'],
  [IP_VS_SVC_F_SCHED2, 'flag-2', 'sh-port', 'mh-port'],
  [IP_VS_SVC_F_SCHED3, 'flag-3', 'flag-3', 'flag-3'],
];

const SCHED_FLAG_BITS_ALL = IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;

/** Decoded IPVS_CMD_ATTR_SERVICE attributes to the typed object. */
export function toService(rec: AttrRecord): IpvsService {
  return serviceOf(
    rec.af as number | undefined, rec.protocol as number, rec.addr as string, rec.port as number | undefined,
    rec.fwmark as number | undefined, rec.schedName as string | undefined, rec.peName as string | undefined,
    (rec.flags as { flags: number } | undefined)?.flags, rec.timeout as number | undefined, rec.netmask as number | undefined,
    decodeStats(rec),
  );
}

/** The common netmask's text, made once (a string per service otherwise). */
const HOST_NETMASK = '255.255.255.255';

/**
 * The typed service from its attribute values (undefined: the kernel did not send the attribute):
 * what {@link toService} makes of a decoded record, and the snapshot's one-pass decoder of its values.
 */
export function serviceOf(
  afAttr: number | undefined, protocol: number, address: string, port: number | undefined, fwmark: number | undefined,
  schedName: string | undefined, peName: string | undefined, flagsAttr: number | undefined, timeout: number | undefined,
  mask: number | undefined, stats: IpvsStats,
): IpvsService {
  const af = afAttr ?? AF_INET;
  const family = familyName(af);
  const flags = flagsAttr ?? 0;
  const scheduler = schedName ?? '';
  const schedFlags: IpvsSchedFlag[] = [];
  // named as ipvsadm prints them (print_sched_flags): by the scheduler that gives the bits a meaning
  if (flags & SCHED_FLAG_BITS_ALL) {
    if (scheduler === 'sh' || scheduler === 'mh') {
      // every bit, flag-3 too: ipvsadm's print_sched_flags leaves SCHED3 out for sh and mh, so
      // `ipvsadm -S | ipvsadm -R` loses it; ipvsadm -b takes `sh-fallback,flag-3` back
      for (const [bit, , sh, mh] of SCHED_FLAG_NAMES) if (flags & bit) schedFlags.push(scheduler === 'sh' ? sh : mh);
    } else {
      for (const [bit, generic] of SCHED_FLAG_NAMES) if (flags & bit) schedFlags.push(generic);
    }
  }
  const rawMask = mask ?? (af === AF_INET6 ? 128 : 0xffffffff);
  // IPv4: a __be32 read as a host u32 (see netmaskAttr), so its first byte is the lowest
  const netmask: string | number = af === AF_INET6 ? rawMask
    : rawMask === 0xffffffff ? HOST_NETMASK
      : dottedQuad(rawMask & 255, (rawMask >>> 8) & 255, (rawMask >>> 16) & 255, rawMask >>> 24);
  const persistent = flags & IP_VS_SVC_F_PERSISTENT ? (timeout ?? 0) : 0;
  const onePacket = (flags & IP_VS_SVC_F_ONEPACKET) !== 0;
  // key fields first, as serviceKey orders them
  const svc: IpvsService = fwmark
    ? { fwmark, family, scheduler, persistent, netmask, onePacket, schedFlags, flags, stats }
    : { protocol: protocolName(protocol), address, port: port ?? 0, family, scheduler, persistent, netmask, onePacket, schedFlags, flags, stats };
  if (peName) svc.pe = peName;
  return svc;
}

/** The key part of a service (what identifies it), e.g. to pass a listed service back to a call. */
export function serviceKey(s: IpvsServiceKey & { family?: IpFamily }): IpvsServiceKey {
  if (isFwmarkKey(s)) return { fwmark: s.fwmark, family: s.family ?? 'inet' };
  const a = s as IpvsAddressKey;
  return { protocol: a.protocol, address: a.address, port: a.port };
}

export function protocolName(p: number): IpvsProtocol {
  if (p === IPPROTO_TCP) return 'tcp';
  if (p === IPPROTO_UDP) return 'udp';
  if (p === IPPROTO_SCTP) return 'sctp';
  return `proto-${p}` as IpvsProtocol;
}
