import type { AttrRecord } from '../netlink/attr';
import { familyOf } from '../netlink/address';
import { AF_INET, AF_INET6 } from '../uapi/netlink';
import { IP_VS_IFNAME_MAXLEN, IP_VS_STATE_BACKUP, IP_VS_STATE_MASTER } from '../uapi/ip-vs';
import { checkKeys, checkObject, keySet, quote } from '../validate';

/** Role of a connection-synchronisation daemon: `master` sends, `backup` receives. @category IPVS */
export type IpvsDaemonState = 'master' | 'backup';

/** Input of startDaemon (`ipvsadm --start-daemon`). @category IPVS */
export interface IpvsDaemonOptions {
  /** Which daemon to start: `master` (sends) or `backup` (receives), ipvsadm's `--start-daemon master|backup`. */
  state: IpvsDaemonState;
  /** Interface the sync messages travel on (--mcast-interface); ipvsadm's default is eth0. */
  interface: string;
  /** Sync id, 0-255 (--syncid): a backup only accepts messages with its id (0: any). Default 0, as ipvsadm. */
  syncId?: number;
  /** Largest sync message payload in bytes (--sync-maxlen), 1-65507; the kernel's default fits the interface MTU. */
  syncMaxLen?: number;
  /** Multicast group (--mcast-group), IPv4 or IPv6; the kernel's default is 224.0.0.81. */
  group?: string;
  /** UDP port (--mcast-port), 1-65535; the kernel's default is 8848. */
  port?: number;
  /** Multicast TTL (--mcast-ttl), 1-255; the kernel's default is 1. */
  ttl?: number;
}

/** A running sync daemon as the kernel reports it (`ipvsadm -L --daemon`). @category IPVS */
export interface IpvsDaemon {
  /** `master` or `backup`. */
  state: IpvsDaemonState;
  /** Interface the sync messages travel on (mcast-interface). */
  interface: string;
  /** Sync id, 0-255 (syncid). */
  syncId: number;
  /** Largest sync message payload in bytes (sync-maxlen). Absent on kernels before 4.3, which do not report it nor the three below. */
  syncMaxLen?: number;
  /** Multicast group, IPv4 or IPv6 (mcast-group); absent before 4.3. */
  group?: string;
  /** UDP port (mcast-port); absent before 4.3. */
  port?: number;
  /** Multicast TTL (mcast-ttl); absent before 4.3. */
  ttl?: number;
}

const STATES: Record<IpvsDaemonState, number> = { master: IP_VS_STATE_MASTER, backup: IP_VS_STATE_BACKUP };

/** IP_VS_STATE_* for a daemon state name; TypeError for anything else. */
export function daemonStateNumber(state: unknown, op: string): number {
  const n = typeof state === 'string' && Object.prototype.hasOwnProperty.call(STATES, state) ? STATES[state as IpvsDaemonState] : undefined;
  if (n === undefined) throw new TypeError(`${op}: state must be 'master' or 'backup', got ${quote(state)}`);
  return n;
}

const DAEMON_KEYS = keySet(['state', 'interface', 'syncId', 'syncMaxLen', 'group', 'port', 'ttl'], 'daemon option');

function ranged(v: unknown, min: number, max: number, what: string, op: string): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
    throw new RangeError(`${op}: ${what} must be an integer ${min}-${max}, got ${quote(v)}`);
  }
  return v as number;
}

function isMulticast(addr: string, af: number): boolean {
  if (af === AF_INET) {
    const first = Number(addr.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return /^ff/i.test(addr);
}

/**
 * IPVS_CMD_ATTR_DAEMON attributes for NEW_DAEMON, in the order ipvsadm writes them
 * (libipvs ipvs_start_daemon): state, interface, sync id, then the optional ones.
 */
export function daemonAttrs(d: IpvsDaemonOptions, op: string): AttrRecord {
  checkObject(d, op, 'a daemon');
  checkKeys(d, DAEMON_KEYS, op);
  const state = daemonStateNumber(d.state, op);
  if (typeof d.interface !== 'string' || d.interface === '' || Buffer.byteLength(d.interface) >= IP_VS_IFNAME_MAXLEN || /[\s/]/.test(d.interface)) {
    throw new TypeError(`${op}: interface must be an interface name (under ${IP_VS_IFNAME_MAXLEN} bytes), got ${quote(d.interface)}`);
  }
  const rec: AttrRecord = { state, mcastIfn: d.interface, syncId: ranged(d.syncId ?? 0, 0, 255, 'syncId', op) };
  // UDP payload at most 65535 - 20 (IPv4 header) - 8 (UDP header), as ipvsadm checks it
  if (d.syncMaxLen !== undefined) rec.syncMaxlen = ranged(d.syncMaxLen, 1, 65535 - 20 - 8, 'syncMaxLen', op);
  if (d.port !== undefined) rec.mcastPort = ranged(d.port, 1, 65535, 'port', op);
  if (d.ttl !== undefined) rec.mcastTtl = ranged(d.ttl, 1, 255, 'ttl', op);
  if (d.group !== undefined) {
    const af = typeof d.group === 'string' ? familyOf(d.group) : undefined;
    if (af === undefined || !isMulticast(d.group, af)) {
      throw new TypeError(`${op}: group must be an IPv4 or IPv6 multicast address, got ${quote(d.group)}`);
    }
    if (af === AF_INET6) rec.mcastGroup6 = d.group;
    else rec.mcastGroup = d.group;
  }
  return rec;
}

/** Decoded IPVS_CMD_ATTR_DAEMON attributes to the typed object; undefined for an unknown state. */
export function toDaemon(rec: AttrRecord): IpvsDaemon | undefined {
  const stateBits = (rec.state as number | undefined) ?? 0;
  // ipvsadm tests the bits the same way (list_daemon)
  const state: IpvsDaemonState | undefined = stateBits & IP_VS_STATE_MASTER ? 'master'
    : stateBits & IP_VS_STATE_BACKUP ? 'backup' : undefined;
  if (!state) return undefined;
  const d: IpvsDaemon = {
    state,
    interface: (rec.mcastIfn as string | undefined) ?? '',
    syncId: (rec.syncId as number | undefined) ?? 0,
  };
  if (rec.syncMaxlen !== undefined) d.syncMaxLen = rec.syncMaxlen as number;
  const group = (rec.mcastGroup ?? rec.mcastGroup6) as string | undefined;
  if (group !== undefined) d.group = group;
  if (rec.mcastPort !== undefined) d.port = rec.mcastPort as number;
  if (rec.mcastTtl !== undefined) d.ttl = rec.mcastTtl as number;
  return d;
}
