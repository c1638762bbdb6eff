/**
 * rtnetlink links (<linux/rtnetlink.h>, <linux/if_link.h>): the ifinfomsg header and the IFLA_*
 * attributes. Every attribute the kernel sends in a link message is declared (the ones this
 * library does not interpret as raw bytes), so a message re-encodes in its own order. Nests use
 * the legacy form without NLA_F_NESTED, as iproute2 sends and the kernel writes them.
 */
import { defineSchema } from '../netlink/attr';
import { DecodeError } from '../netlink/errors';
import { CONSTANTS as K } from '../uapi/if-link';
import { SIZEOF_IFINFOMSG } from '../uapi/rtnetlink';

/** `struct ifinfomsg`. */
export interface Ifinfomsg {
  /** AF_UNSPEC for links (AF_PACKET in iproute2's GETLINK by name). */
  family: number;
  /** ARPHRD_* link type. */
  type: number;
  /** Interface index (0: pick by name, or the kernel assigns one). */
  index: number;
  /** IFF_* flags. */
  flags: number;
  /** Which IFF_* flags to change (requests). */
  change: number;
}

export function encodeIfinfomsg(h: Partial<Ifinfomsg>): Buffer {
  const b = Buffer.alloc(SIZEOF_IFINFOMSG);
  b.writeUInt8(h.family ?? 0, 0);
  b.writeUInt16LE(h.type ?? 0, 2);
  b.writeInt32LE(h.index ?? 0, 4);
  b.writeUInt32LE((h.flags ?? 0) >>> 0, 8);
  b.writeUInt32LE((h.change ?? 0) >>> 0, 12);
  return b;
}

/**
 * The ifinfomsg at `off` of a message whose payload ends at `end`: DecodeError (at `path`) when the
 * payload is shorter than the header, rather than reading past the buffer or into the next message.
 */
export function decodeIfinfomsg(buf: Buffer, off: number, end: number, path = 'link'): Ifinfomsg {
  if (end - off < SIZEOF_IFINFOMSG) throw new DecodeError(path, `payload length ${end - off} < ${SIZEOF_IFINFOMSG}, shorter than ifinfomsg`);
  return {
    family: buf.readUInt8(off),
    type: buf.readUInt16LE(off + 2),
    index: buf.readInt32LE(off + 4),
    flags: buf.readUInt32LE(off + 8),
    change: buf.readUInt32LE(off + 12),
  };
}

const linkInfo = (kindNul: boolean) => defineSchema('link.linkinfo', K, {
  kind: { nla: 'IFLA_INFO_KIND', type: 'string', ...(!kindNul && { nul: false as const }), doc: 'Link type: dummy, veth, bridge, ...' },
  data: { nla: 'IFLA_INFO_DATA', type: 'binary', doc: 'Kind-specific attributes.' },
  xstats: { nla: 'IFLA_INFO_XSTATS', type: 'binary', doc: 'Kind-specific statistics.' },
  slaveKind: { nla: 'IFLA_INFO_SLAVE_KIND', type: 'string', doc: 'Kind of the master this link is enslaved to.' },
  slaveData: { nla: 'IFLA_INFO_SLAVE_DATA', type: 'binary', doc: 'Per-slave attributes.' },
});

/** IFLA_LINKINFO as the kernel writes it. */
export const rtnlLinkInfo = linkInfo(true);
/** IFLA_LINKINFO as iproute2 writes it: IFLA_INFO_KIND without its NUL (addattr_l with strlen). */
export const rtnlLinkInfoRequest = linkInfo(false);

const bin = (nla: string, doc: string) => ({ nla, type: 'binary' as const, doc });
const u32 = (nla: string, doc: string) => ({ nla, type: 'u32' as const, doc });
const u8 = (nla: string, doc: string) => ({ nla, type: 'u8' as const, doc });

const linkSchema = (info: typeof rtnlLinkInfo) => defineSchema('link', K, {
  address: bin('IFLA_ADDRESS', 'Hardware address.'),
  broadcast: bin('IFLA_BROADCAST', 'Hardware broadcast address.'),
  ifname: { nla: 'IFLA_IFNAME', type: 'string', doc: 'Interface name (under IFNAMSIZ bytes).' },
  mtu: u32('IFLA_MTU', 'MTU.'),
  link: u32('IFLA_LINK', 'Index of the underlying link.'),
  qdisc: { nla: 'IFLA_QDISC', type: 'string', doc: 'Root queueing discipline.' },
  stats: bin('IFLA_STATS', 'struct rtnl_link_stats (32-bit counters).'),
  cost: bin('IFLA_COST', 'Unused.'),
  priority: bin('IFLA_PRIORITY', 'Unused.'),
  master: u32('IFLA_MASTER', 'Index of the master link.'),
  wireless: bin('IFLA_WIRELESS', 'Wireless extension event.'),
  protinfo: bin('IFLA_PROTINFO', 'Protocol-specific information.'),
  txqlen: u32('IFLA_TXQLEN', 'Transmit queue length.'),
  map: bin('IFLA_MAP', 'struct rtnl_link_ifmap.'),
  weight: bin('IFLA_WEIGHT', 'Unused.'),
  operstate: u8('IFLA_OPERSTATE', 'IF_OPER_* (RFC 2863).'),
  linkmode: u8('IFLA_LINKMODE', 'IF_LINK_MODE_*.'),
  linkinfo: { nla: 'IFLA_LINKINFO', type: 'nested', nested: info, doc: 'Kind and kind-specific data.' },
  netNsPid: u32('IFLA_NET_NS_PID', 'Move to the namespace of this process.'),
  ifalias: { nla: 'IFLA_IFALIAS', type: 'string', doc: 'Alias.' },
  numVf: u32('IFLA_NUM_VF', 'Number of SR-IOV virtual functions.'),
  vfinfoList: bin('IFLA_VFINFO_LIST', 'SR-IOV virtual functions.'),
  stats64: bin('IFLA_STATS64', 'struct rtnl_link_stats64.'),
  vfPorts: bin('IFLA_VF_PORTS', 'SR-IOV ports.'),
  portSelf: bin('IFLA_PORT_SELF', 'Port profile of this link.'),
  afSpec: bin('IFLA_AF_SPEC', 'Per-address-family settings (inet, inet6).'),
  group: u32('IFLA_GROUP', 'Link group.'),
  netNsFd: u32('IFLA_NET_NS_FD', 'Move to the namespace of this file descriptor.'),
  extMask: u32('IFLA_EXT_MASK', 'RTEXT_FILTER_* for GET requests.'),
  promiscuity: u32('IFLA_PROMISCUITY', 'Promiscuity count.'),
  numTxQueues: u32('IFLA_NUM_TX_QUEUES', 'Transmit queues.'),
  numRxQueues: u32('IFLA_NUM_RX_QUEUES', 'Receive queues.'),
  carrier: u8('IFLA_CARRIER', 'Carrier present.'),
  physPortId: bin('IFLA_PHYS_PORT_ID', 'Physical port id.'),
  carrierChanges: u32('IFLA_CARRIER_CHANGES', 'Carrier changes.'),
  physSwitchId: bin('IFLA_PHYS_SWITCH_ID', 'Switch id.'),
  linkNetnsid: { nla: 'IFLA_LINK_NETNSID', type: 's32', doc: 'Namespace id of the peer link.' },
  physPortName: { nla: 'IFLA_PHYS_PORT_NAME', type: 'string', doc: 'Physical port name.' },
  protoDown: u8('IFLA_PROTO_DOWN', 'Protocol down.'),
  gsoMaxSegs: u32('IFLA_GSO_MAX_SEGS', 'GSO maximal segments.'),
  gsoMaxSize: u32('IFLA_GSO_MAX_SIZE', 'GSO maximal size.'),
  pad: bin('IFLA_PAD', 'Alignment padding.'),
  xdp: bin('IFLA_XDP', 'XDP program state.'),
  event: u32('IFLA_EVENT', 'IFLA_EVENT_* in notifications.'),
  newNetnsid: { nla: 'IFLA_NEW_NETNSID', type: 's32', doc: 'Namespace id the link moved to.' },
  targetNetnsid: { nla: 'IFLA_TARGET_NETNSID', type: 's32', doc: 'Act in the namespace of this id.' },
  carrierUpCount: u32('IFLA_CARRIER_UP_COUNT', 'Carrier up transitions.'),
  carrierDownCount: u32('IFLA_CARRIER_DOWN_COUNT', 'Carrier down transitions.'),
  newIfindex: { nla: 'IFLA_NEW_IFINDEX', type: 's32', doc: 'Index the link got in another namespace.' },
  minMtu: u32('IFLA_MIN_MTU', 'Smallest MTU the link allows.'),
  maxMtu: u32('IFLA_MAX_MTU', 'Largest MTU the link allows.'),
  propList: bin('IFLA_PROP_LIST', 'Property list (alternative names).'),
  permAddress: bin('IFLA_PERM_ADDRESS', 'Permanent hardware address.'),
  protoDownReason: bin('IFLA_PROTO_DOWN_REASON', 'Why protocol down.'),
  parentDevName: { nla: 'IFLA_PARENT_DEV_NAME', type: 'string', doc: 'Parent device.' },
  parentDevBusName: { nla: 'IFLA_PARENT_DEV_BUS_NAME', type: 'string', doc: 'Parent device bus.' },
  groMaxSize: u32('IFLA_GRO_MAX_SIZE', 'GRO maximal size.'),
  tsoMaxSize: u32('IFLA_TSO_MAX_SIZE', 'TSO maximal size.'),
  tsoMaxSegs: u32('IFLA_TSO_MAX_SEGS', 'TSO maximal segments.'),
  allmulti: u32('IFLA_ALLMULTI', 'Allmulti count.'),
});

/** RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK attributes as the kernel writes them (replies, notifications). */
export const rtnlLink = linkSchema(rtnlLinkInfo);
/** The same as iproute2 writes them in requests (the link kind without NUL); both decode alike. */
export const rtnlLinkRequest = linkSchema(rtnlLinkInfoRequest);
