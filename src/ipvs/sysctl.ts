/**
 * The IPVS sysctls, `/proc/sys/net/ipv4/vs/*` (ip_vs_ctl.c: vs_vars, and the lblc/lblcr
 * schedulers' own), by the kernel's names. Each network namespace has its own set.
 *
 * @module
 */
import { quote } from '../validate';

/** How a sysctl's text reads: one integer, two integers (sync_threshold), or free text (a CPU list). @category IPVS */
export type IpvsSysctlKind = 'int' | 'pair' | 'text';

/** What the library knows of one IPVS sysctl. @category IPVS */
export interface IpvsSysctlSpec {
  /** How its value is read and written. */
  kind: IpvsSysctlKind;
  /** Whether the kernel refuses writes (debug_level is mode 0444). */
  readOnly?: boolean;
  /** What it does (ip_vs_sysctl.rst, Documentation/networking/ipvs-sysctl.rst). */
  doc: string;
}

/**
 * The sysctls the library knows by name. A kernel may lack some (conntrack needs
 * CONFIG_IP_VS_NFCT, debug_level CONFIG_IP_VS_DEBUG, lblc_expiration the ip_vs_lblc module,
 * est_cpulist and est_nice arrived in 6.2) and have others: those are read raw.
 * @category IPVS
 */
export const IPVS_SYSCTLS = {
  am_droprate: { kind: 'int', doc: 'Drop rate used by drop_packet mode 3 (1/rate packets dropped).' },
  amemthresh: { kind: 'int', doc: 'Available memory threshold (pages) below which the defense strategies start.' },
  backup_only: { kind: 'int', doc: '1: a backup sync daemon does not also forward for its services (director only as backup).' },
  cache_bypass: { kind: 'int', doc: '1: send packets with no destination available straight to their original destination.' },
  conn_reuse_mode: { kind: 'int', doc: 'How a connection reusing a port of an expiring one is scheduled (bit 1: reschedule; 0 disables; kube-proxy sets 0 on kernels before 5.9).' },
  conntrack: { kind: 'int', doc: '1: keep netfilter conntrack entries for IPVS connections (needed by iptables rules that match them; kube-proxy sets 1).' },
  debug_level: { kind: 'int', readOnly: true, doc: 'IPVS debug verbosity (CONFIG_IP_VS_DEBUG; read-only).' },
  drop_entry: { kind: 'int', doc: 'Randomly drop connection entries under memory pressure (0 off, 1 auto, 2 always, 3 on).' },
  drop_packet: { kind: 'int', doc: 'Drop packets at the am_droprate rate under memory pressure (0 off, 1 auto, 2 always, 3 on).' },
  est_cpulist: { kind: 'text', doc: 'CPUs the rate estimation kthreads may run on (6.2+).' },
  est_nice: { kind: 'int', doc: 'Nice value of the rate estimation kthreads (6.2+).' },
  expire_nodest_conn: { kind: 'int', doc: '1: expire a connection at once when its destination is gone (kube-proxy sets 1).' },
  expire_quiescent_template: { kind: 'int', doc: '1: expire persistence templates of a destination whose weight went to 0 (kube-proxy sets 1).' },
  ignore_tunneled: { kind: 'int', doc: '1: leave tunneled (IPIP/GRE) packets to the stack instead of scheduling them.' },
  lblc_expiration: { kind: 'int', doc: 'lblc scheduler: seconds before an unused entry of its table expires (ip_vs_lblc).' },
  lblcr_expiration: { kind: 'int', doc: 'lblcr scheduler: seconds before an unused entry of its table expires (ip_vs_lblcr).' },
  nat_icmp_send: { kind: 'int', doc: '1: send ICMP errors back for NATed connections whose destination is unavailable.' },
  pmtu_disc: { kind: 'int', doc: '1: path MTU discovery for tunnelled packets (DF and ICMP need-frag).' },
  run_estimation: { kind: 'int', doc: '0: stop the rate estimator (the --rate columns stay 0).' },
  schedule_icmp: { kind: 'int', doc: '1: schedule ICMP packets that start no connection (e.g. echo) to destinations.' },
  secure_tcp: { kind: 'int', doc: 'Stricter TCP state timeouts under attack (0 off, 1 auto, 2 always, 3 on).' },
  sloppy_sctp: { kind: 'int', doc: '1: pick up SCTP connections that started elsewhere (after a fail-over).' },
  sloppy_tcp: { kind: 'int', doc: '1: pick up TCP connections from any packet, not only SYN (after a fail-over).' },
  snat_reroute: { kind: 'int', doc: '1: route NAT replies again after their source changes (policy routing).' },
  sync_persist_mode: { kind: 'int', doc: '1: sync only persistence templates, not each connection.' },
  sync_ports: { kind: 'int', doc: 'How many sync daemon threads and ports (a power of 2).' },
  sync_qlen_max: { kind: 'int', doc: 'Longest queue of sync messages waiting to be sent.' },
  sync_refresh_period: { kind: 'int', doc: 'Seconds between resyncs of a connection whose state did not change (0: by threshold).' },
  sync_retries: { kind: 'int', doc: 'Resends of a sync message for a connection in a non-final state (0-3).' },
  sync_sock_size: { kind: 'int', doc: 'Socket buffer size of the sync daemon (0: default).' },
  sync_threshold: { kind: 'pair', doc: 'Sync a connection after [threshold, period] packets: when the count modulo period equals threshold.' },
  sync_version: { kind: 'int', doc: 'Sync protocol version sent by the master (0 or 1).' },
} as const satisfies Record<string, IpvsSysctlSpec>;

/** The name of a sysctl the library knows. @category IPVS */
export type IpvsSysctlName = keyof typeof IPVS_SYSCTLS;

/** The type of a sysctl's value by its kind: a number, a pair of numbers, or text. @category IPVS */
export type IpvsSysctlValue<K extends IpvsSysctlKind> = K extends 'int' ? number : K extends 'pair' ? [number, number] : string;

/** Known sysctls with their typed values, as {@link Ipvs.sysctls} reads them. @category IPVS */
export type IpvsKnownSysctls = { -readonly [K in IpvsSysctlName]?: IpvsSysctlValue<(typeof IPVS_SYSCTLS)[K]['kind']> };

/** Every IPVS sysctl of a namespace: the known ones typed, the others as the kernel's text. @category IPVS */
export type IpvsSysctls = IpvsKnownSysctls & {
  /** Sysctls of this kernel that the library does not know, by name, as their text (trimmed). */
  unknown: Record<string, string>;
};

/**
 * Values for {@link Ipvs.setSysctls}: known names with typed values (read-only ones refused), and
 * under `unknown` any other sysctl the running kernel has, as text.
 * @category IPVS
 */
export type IpvsSysctlsOptions = Omit<IpvsKnownSysctls, 'debug_level'> & {
  /** Sysctls the library does not know, by name, as the text to write. */
  unknown?: Record<string, string>;
};

/** Where a namespace's IPVS sysctls live (as the opening thread's namespace sees it). */
export const IPVS_SYSCTL_DIR = '/proc/sys/net/ipv4/vs';

function isKnown(name: string): name is IpvsSysctlName {
  return Object.prototype.hasOwnProperty.call(IPVS_SYSCTLS, name);
}

/** A sysctl's text to its typed value: '3\t50' -> [3, 50]. Text that is not what its kind says stays text. */
export function parseSysctl(name: string, text: string): number | [number, number] | string {
  const t = text.trim();
  const kind = isKnown(name) ? IPVS_SYSCTLS[name].kind : 'text';
  if (kind === 'int' && /^-?\d+$/.test(t)) return Number(t);
  if (kind === 'pair') {
    const m = /^(-?\d+)\s+(-?\d+)$/.exec(t);
    if (m) return [Number(m[1]), Number(m[2])];
  }
  return t;
}

const INT32 = 2 ** 31;

function isInt32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= -INT32 && v < INT32;
}


/**
 * The text to write for a known sysctl's value, checked against its kind.
 * @throws TypeError for a read-only sysctl or a value of the wrong type; RangeError outside int32.
 */
export function formatSysctl(name: IpvsSysctlName, value: unknown): string {
  const spec: IpvsSysctlSpec = IPVS_SYSCTLS[name];
  const where = `ipvs.setSysctls: ${name}`;
  if (spec.readOnly) throw new TypeError(`${where} is read-only`);
  switch (spec.kind) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${where} must be an integer, got ${quote(value)}`);
      if (!isInt32(value)) throw new RangeError(`${where} must fit in 32 bits, got ${value}`);
      return `${value}\n`;
    case 'pair':
      if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && Number.isInteger(v))) {
        throw new TypeError(`${where} must be two integers [threshold, period], got ${quote(value)}`);
      }
      if (!value.every(isInt32)) throw new RangeError(`${where} must be two 32-bit integers, got ${quote(value)}`);
      return `${value[0]}\t${value[1]}\n`;
    default:
      return rawSysctlText(where, value);
  }
}

/** The text to write to a sysctl the library does not know (one line). @throws TypeError otherwise. */
export function rawSysctlText(where: string, value: unknown): string {
  if (typeof value !== 'string' || value.includes('\n')) throw new TypeError(`${where} must be one line of text, got ${quote(value)}`);
  return `${value}\n`;
}

/** Whether `name` is a sysctl the library knows. */
export function isKnownSysctl(name: string): name is IpvsSysctlName {
  return isKnown(name);
}
