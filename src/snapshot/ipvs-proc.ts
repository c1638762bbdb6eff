/**
 * `/proc/net/ip_vs`: every service and destination of a network namespace in one text file, with
 * fewer fields than netlink gives (no counters, no thresholds, no persistence engine or scheduler
 * flags, the persistence timeout in the kernel's jiffies). Reading it is one open and a few reads,
 * against one netlink dump per service: a fast first pass when only keys, schedulers, forwarding
 * and weights matter.
 *
 * The file shows the namespace of the process reading it: `/proc/net/ip_vs` is the caller's own,
 * `/proc/PID/net/ip_vs` that of any process PID inside another namespace.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { DecodeError } from '../netlink/errors';
import { dottedQuad, formatIPv6 } from '../netlink/address';
import type { IpvsForwarding } from '../ipvs/destination';
import type { IpFamily, IpvsProtocol, IpvsServiceKey } from '../ipvs/service';

/** A service as `/proc/net/ip_vs` shows it. @category Reconcile and snapshots */
export type ProcIpvsService = IpvsServiceKey & {
  /**
   * Address family: from the address for TCP/UDP/SCTP services; always `'inet'` for fwmark
   * services, since the file prints IPv4 and IPv6 ones alike.
   */
  family: IpFamily;
  /** Scheduler name as `ipvsadm -s` takes it (`wlc`, `rr`, `sh`, `mh`). */
  scheduler: string;
  /** One-packet scheduling (`ops`). */
  onePacket: boolean;
  /** Persistent, with its timeout in jiffies (not seconds) and netmask as the file prints them. */
  persistent?: {
    /** The persistence timeout in jiffies: seconds (`ipvsadm -p`) times the kernel's HZ (100-1000). */
    jiffies: number;
    /** The persistence netmask as the file prints it: hex digits, unparsed (`FFFFFFFF`). */
    netmask: string;
  };
  /** Its real servers, in the order the file lists them. */
  destinations: ProcIpvsDestination[];
};

/** A destination as `/proc/net/ip_vs` shows it. @category Reconcile and snapshots */
export interface ProcIpvsDestination {
  /** The real server's address (IPv6 in RFC 5952 text). */
  address: string;
  /** The real server's port (0 when it was added without one, as fwmark destinations often are). */
  port: number;
  /** `bypass` destinations read as `masq` here (the file names only Local, Tunnel, Route and Masq). */
  forwarding: IpvsForwarding;
  /** Scheduling weight (`ipvsadm -w`); 0 takes no new connections. */
  weight: number;
  /** Active connections (`ActiveConn` of `ipvsadm -Ln`: TCP connections in ESTABLISHED). */
  activeConns: number;
  /** Inactive connections (`InActConn` of `ipvsadm -Ln`: every other state, and UDP). */
  inactiveConns: number;
}

const FORWARDING: Record<string, IpvsForwarding> = { Masq: 'masq', Local: 'local', Tunnel: 'tunnel', Route: 'route' };
const PROTOCOLS: Record<string, IpvsProtocol> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

function hexIPv4(h: string): string {
  const n = parseInt(h, 16);
  return dottedQuad(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** `[fd00:0000:...:0001]` as the kernel's %pI6 prints it (eight groups of four hex digits), to RFC 5952 text. */
function ipv6(text: string, path: string): string {
  if (!/^[0-9a-f]{4}(:[0-9a-f]{4}){7}$/i.test(text)) throw new DecodeError(path, `bad IPv6 address '${text}'`);
  return formatIPv6(Buffer.from(text.replace(/:/g, ''), 'hex'));
}

/** An address and port: `0A000001:0050` or `[fd00:...:0001]:0050`. */
function addrPort(text: string, path: string): [string, number, IpFamily] {
  if (text.startsWith('[')) {
    const end = text.indexOf(']:');
    if (end < 0) throw new DecodeError(path, `bad address '${text}'`);
    return [ipv6(text.slice(1, end), path), parseInt(text.slice(end + 2), 16), 'inet6'];
  }
  const [a, p] = text.split(':');
  if (!a || !p || a.length !== 8) throw new DecodeError(path, `bad address '${text}'`);
  return [hexIPv4(a), parseInt(p, 16), 'inet'];
}

/** Parses the text of `/proc/net/ip_vs` (ip_vs_ctl.c: ip_vs_info_seq_show). */
export function parseProcIpvs(text: string): ProcIpvsService[] {
  const out: ProcIpvsService[] = [];
  const lines = text.split('\n');
  let current: ProcIpvsService | undefined;
  for (let i = 3; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const path = `proc.ip_vs:${i + 1}`;
    const w = line.trim().split(/\s+/);
    if (w[0] === '->') {
      if (!current) throw new DecodeError(path, 'destination before any service');
      const [address, port] = addrPort(w[1]!, path);
      current.destinations.push({
        address, port,
        forwarding: FORWARDING[w[2]!] ?? 'masq',
        weight: Number(w[3]), activeConns: Number(w[4]), inactiveConns: Number(w[5]),
      });
      continue;
    }
    let k: number;
    let svc: ProcIpvsService;
    if (w[0] === 'FWM') {
      const family: IpFamily = 'inet'; // the file does not say; IPv6 fwmark services print alike
      svc = { fwmark: parseInt(w[1]!, 16), family, scheduler: w[2]!, onePacket: false, destinations: [] };
      k = 3;
    } else {
      const protocol = PROTOCOLS[w[0]!];
      if (!protocol) throw new DecodeError(path, `unknown protocol '${w[0]}'`);
      const [address, port, family] = addrPort(w[1]!, path);
      svc = { protocol, address, port, family, scheduler: w[2]!, onePacket: false, destinations: [] };
      k = 3;
    }
    if (w[k] === 'ops') {
      svc.onePacket = true;
      k++;
    }
    if (w[k] === 'persistent') svc.persistent = { jiffies: Number(w[k + 1]), netmask: w[k + 2] ?? '' };
    out.push(svc);
    current = svc;
  }
  return out;
}

/** Reads and parses `/proc/net/ip_vs` (or the file at `path`, e.g. `/proc/PID/net/ip_vs`). @category Reconcile and snapshots */
export async function readProcIpvs(path = '/proc/net/ip_vs'): Promise<ProcIpvsService[]> {
  return parseProcIpvs(await readFile(path, 'latin1'));
}
