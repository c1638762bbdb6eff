/**
 * Links as `ip -j link` shows them: the same keys (`ifindex`, `ifname`, `flags`, `mtu`, `qdisc`,
 * `operstate`, `linkmode`, `group`, `txqlen`, `link_type`, `address`, `broadcast`), plus
 * `linkinfo.info_kind` as `ip -d -j link` has it.
 */
import type { AttrRecord } from '../netlink/attr';
import type { Ifinfomsg } from '../schema/rtnl-link';
import { CONSTANTS as F } from '../uapi/if';
import { CONSTANTS as A } from '../uapi/if-arp';
import { IFNAMSIZ } from '../uapi/if';
import { quote } from '../validate';

/** A link (network interface). @category Links and addresses */
export interface Link {
  /** Interface index (the `N:` of `ip link`); stable while the link exists, reused after. */
  ifindex: number;
  /** Interface name (IFLA_IFNAME), at most 15 bytes: `kube-ipvs0`. */
  ifname: string;
  /** IFF_* flags by iproute2's names, in its order: `['BROADCAST', 'NOARP', 'UP', 'LOWER_UP']`. */
  flags: string[];
  /** MTU in bytes (IFLA_MTU). */
  mtu: number;
  /** Queueing discipline (`noqueue`, `fq_codel`, ...), when the link has one. */
  qdisc?: string;
  /** RFC 2863 state: `UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`, ... */
  operstate: string;
  /** Link mode (IFLA_LINKMODE): `DEFAULT`, `DORMANT` or `TESTING`. */
  linkmode: string;
  /** `default` for group 0, else the number. */
  group: string;
  /** Transmit queue length in packets (IFLA_TXQLEN, `qlen` in `ip link`). */
  txqlen?: number;
  /** `ether`, `loopback`, `none`, ... (ARPHRD_*). */
  link_type: string;
  /** Hardware address, `aa:bb:cc:dd:ee:ff`. */
  address?: string;
  /** Link-layer broadcast address, `ff:ff:ff:ff:ff:ff` on Ethernet. */
  broadcast?: string;
  /** The link's kind when it has one (`dummy`, `veth`, ...). */
  linkinfo?: {
    /** IFLA_INFO_KIND: `dummy`, `veth`, `bridge`, ... */
    info_kind: string;
  };
}

/** A link by name or by index. @category Links and addresses */
export type LinkRef = string | number;

// iproute2's print_link_flags order; NO-CARRIER is printed for UP without RUNNING.
const FLAG_NAMES: [number, string][] = [
  [F.IFF_LOOPBACK, 'LOOPBACK'], [F.IFF_BROADCAST, 'BROADCAST'], [F.IFF_POINTOPOINT, 'POINTOPOINT'],
  [F.IFF_MULTICAST, 'MULTICAST'], [F.IFF_NOARP, 'NOARP'], [F.IFF_ALLMULTI, 'ALLMULTI'], [F.IFF_PROMISC, 'PROMISC'],
  [F.IFF_NOTRAILERS, 'NOTRAILERS'], [F.IFF_DEBUG, 'DEBUG'], [F.IFF_DYNAMIC, 'DYNAMIC'], [F.IFF_AUTOMEDIA, 'AUTOMEDIA'],
  [F.IFF_PORTSEL, 'PORTSEL'], [F.IFF_MASTER, 'MASTER'], [F.IFF_SLAVE, 'SLAVE'], [F.IFF_UP, 'UP'],
  [F.IFF_LOWER_UP, 'LOWER_UP'], [F.IFF_DORMANT, 'DORMANT'], [F.IFF_ECHO, 'ECHO'],
];

export function flagNames(flags: number): string[] {
  const out: string[] = [];
  if (flags & F.IFF_UP && !(flags & F.IFF_RUNNING)) out.push('NO-CARRIER');
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) out.push(name);
  return out;
}

const OPERSTATES: [number, string][] = [
  [F.IF_OPER_UNKNOWN, 'UNKNOWN'], [F.IF_OPER_NOTPRESENT, 'NOTPRESENT'], [F.IF_OPER_DOWN, 'DOWN'],
  [F.IF_OPER_LOWERLAYERDOWN, 'LOWERLAYERDOWN'], [F.IF_OPER_TESTING, 'TESTING'], [F.IF_OPER_DORMANT, 'DORMANT'],
  [F.IF_OPER_UP, 'UP'],
];
const LINKMODES: [number, string][] = [
  [F.IF_LINK_MODE_DEFAULT, 'DEFAULT'], [F.IF_LINK_MODE_DORMANT, 'DORMANT'], [F.IF_LINK_MODE_TESTING, 'TESTING'],
];
// The ARPHRD names iproute2 prints (lib/ll_types.c) for the link types a host commonly has.
const LINK_TYPES: [number, string][] = [
  [A.ARPHRD_NETROM, 'netrom'], [A.ARPHRD_ETHER, 'ether'], [A.ARPHRD_IEEE802, 'ieee802'], [A.ARPHRD_INFINIBAND, 'infiniband'],
  [A.ARPHRD_SLIP, 'slip'], [A.ARPHRD_PPP, 'ppp'], [A.ARPHRD_TUNNEL, 'ipip'], [A.ARPHRD_TUNNEL6, 'tunnel6'],
  [A.ARPHRD_SIT, 'sit'], [A.ARPHRD_IPGRE, 'gre'], [A.ARPHRD_LOOPBACK, 'loopback'], [A.ARPHRD_IP6GRE, 'gre6'],
  [A.ARPHRD_NETLINK, 'netlink'], [A.ARPHRD_IEEE80211, 'ieee802.11'], [A.ARPHRD_CAN, 'can'],
  [A.ARPHRD_VOID, 'void'], [A.ARPHRD_NONE, 'none'],
];

function nameOf(table: [number, string][], v: number): string {
  for (const [n, name] of table) if (n === v) return name;
  return String(v);
}

/** Bytes as `aa:bb:cc`. */
export function formatHwaddr(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Decoded RTM_NEWLINK (header and attributes) to the typed link, keys in `ip -j link`'s order. */
export function toLink(h: Ifinfomsg, rec: AttrRecord): Link {
  const group = (rec.group as number | undefined) ?? 0;
  const kind = (rec.linkinfo as AttrRecord | undefined)?.kind as string | undefined;
  return {
    ifindex: h.index,
    ifname: (rec.ifname as string | undefined) ?? '',
    flags: flagNames(h.flags),
    mtu: (rec.mtu as number | undefined) ?? 0,
    ...(rec.qdisc !== undefined && { qdisc: rec.qdisc as string }),
    operstate: nameOf(OPERSTATES, (rec.operstate as number | undefined) ?? F.IF_OPER_UNKNOWN),
    linkmode: nameOf(LINKMODES, (rec.linkmode as number | undefined) ?? F.IF_LINK_MODE_DEFAULT),
    group: group === 0 ? 'default' : String(group),
    ...(rec.txqlen !== undefined && { txqlen: rec.txqlen as number }),
    link_type: nameOf(LINK_TYPES, h.type),
    ...(rec.address !== undefined && { address: formatHwaddr(rec.address as Buffer) }),
    ...(rec.broadcast !== undefined && { broadcast: formatHwaddr(rec.broadcast as Buffer) }),
    ...(kind && { linkinfo: { info_kind: kind } }),
  };
}

/** Link names: 1-15 bytes, no `/`, whitespace or `:` (dev_valid_name). */
export function checkLinkName(name: unknown, op: string): string {
  if (typeof name !== 'string' || name === '' || Buffer.byteLength(name) >= IFNAMSIZ || name === '.' || name === '..' || /[/:\s]/.test(name)) {
    throw new TypeError(`${op}: ${quote(name)} is not a link name (1-${IFNAMSIZ - 1} bytes, no '/', ':' or spaces)`);
  }
  return name;
}

/** A link index: a positive integer that fits the kernel's int. */
export function isLinkIndex(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 0x7fffffff;
}

/** Checks a link reference: a name, or an index (positive integer). */
export function checkLinkRef(ref: unknown, op: string): LinkRef {
  if (typeof ref === 'number') {
    if (!isLinkIndex(ref)) throw new RangeError(`${op}: link index must be a positive integer, got ${quote(ref)}`);
    return ref;
  }
  return checkLinkName(ref, op);
}

/** A link reference in messages: `kube-ipvs0` or `link #3`. */
export function describeLink(ref: LinkRef): string {
  return typeof ref === 'number' ? `link #${ref}` : `link ${ref}`;
}
