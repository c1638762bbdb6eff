/**
 * The ipset nfnetlink subsystem (<linux/netfilter/ipset/ip_set.h>), one declarative table per nest.
 *
 * The kernel demands NLA_F_NET_BYTEORDER on every 16-, 32- and 64-bit number (ip_set_attr_netorder,
 * else IPSET_ERR_PROTOCOL) and NLA_F_NESTED on nests (ip_set_core.c: flag_nested); u8 values and
 * strings carry no flag, as the ipset tool sends them. `IPSET_ATTR_DATA` is context-dependent: it
 * holds create attributes for CREATE and in a LIST reply's header, and entry (ADT) attributes for
 * ADD/DEL/TEST and inside IPSET_ATTR_ADT. So there is one command schema per context, chosen with
 * {@link ipsetSchemaFor}.
 *
 * Two asymmetries are declared here too. The kernel insists on NLA_F_NET_BYTEORDER on the address
 * inside IPSET_ATTR_IP from userspace (ip_set_get_ipaddr4) but writes its own without it
 * (nla_put_ipaddr4). Requests use {@link ipsetIpAddr}, replies {@link ipsetIpAddrReply}; both decode
 * alike, and each re-encodes exactly what its side sends. And it reads IPSET_ATTR_MARKMASK as a
 * __be32 but reports it in host order.
 */
import { defineSchema, type Schema } from '../netlink/attr';
import { CONSTANTS as K } from '../uapi/ipset';
import {
  IPSET_CMD_ADD, IPSET_CMD_CREATE, IPSET_CMD_DEL, IPSET_CMD_HEADER, IPSET_CMD_LIST, IPSET_CMD_PROTOCOL, IPSET_CMD_RENAME,
  IPSET_CMD_SAVE, IPSET_CMD_SWAP, IPSET_CMD_TEST, IPSET_CMD_TYPE,
} from '../uapi/ipset';

/** IPSET_ATTR_IP and friends as userspace sends them: a nest holding one address, tagged IPv4 or IPv6. */
export const ipsetIpAddr = defineSchema('ipset.ipaddr', K, {
  ipv4: { nla: 'IPSET_ATTR_IPADDR_IPV4', type: 'addr', netByteOrder: true, doc: 'IPv4 address (4 bytes, network order).' },
  ipv6: { nla: 'IPSET_ATTR_IPADDR_IPV6', type: 'addr', netByteOrder: true, doc: 'IPv6 address (16 bytes).' },
}, { nestFlag: true });

/** The same nest as the kernel writes it (no NLA_F_NET_BYTEORDER). */
export const ipsetIpAddrReply = defineSchema('ipset.ipaddr', K, {
  ipv4: { nla: 'IPSET_ATTR_IPADDR_IPV4', type: 'addr', doc: 'IPv4 address (4 bytes, network order).' },
  ipv6: { nla: 'IPSET_ATTR_IPADDR_IPV6', type: 'addr', doc: 'IPv6 address (16 bytes).' },
}, { nestFlag: true });

const be32 = (nla: string, doc: string) => ({ nla, type: 'be32' as const, netByteOrder: true, doc });
const be16 = (nla: string, doc: string) => ({ nla, type: 'be16' as const, netByteOrder: true, doc });
const be64 = (nla: string, doc: string) => ({ nla, type: 'be64' as const, netByteOrder: true, doc });
const u8 = (nla: string, doc: string) => ({ nla, type: 'u8' as const, doc });
const str = (nla: string, doc: string) => ({ nla, type: 'string' as const, doc });

/** Every ipset schema, for one direction (the address nest differs, see above). */
export interface IpsetSchemas {
  /** IPSET_ATTR_DATA of CREATE, and of the header in LIST/HEADER replies (IPSET_ATTR_CREATE_MAX). */
  createData: Schema;
  /** IPSET_ATTR_DATA of ADD/DEL/TEST, and each entry inside IPSET_ATTR_ADT (IPSET_ATTR_ADT_MAX). */
  adtData: Schema;
  /** CREATE requests, and HEADER / LIST / SAVE replies (DATA holds create attributes). */
  create: Schema;
  /** ADD / DEL / TEST requests: one entry in DATA, or many in ADT with LINENO. */
  adt: Schema;
  /** RENAME / SWAP: IPSET_ATTR_SETNAME2 shares its number with IPSET_ATTR_TYPENAME. */
  rename: Schema;
  /** PROTOCOL request and reply. */
  protocol: Schema;
  /** TYPE request and reply: the revisions of a set type the kernel has. */
  type: Schema;
  /** Commands without data: DESTROY, FLUSH. */
  name: Schema;
}

function build(addr: Schema, direction: 'request' | 'reply'): IpsetSchemas {
  const ip = (nla: string, doc: string) => ({ nla, type: 'nested' as const, nested: addr, doc });
  const createData = defineSchema('ipset.create', K, {
    ip: ip('IPSET_ATTR_IP', 'bitmap:ip range start (or network with cidr).'),
    ipTo: ip('IPSET_ATTR_IP_TO', 'bitmap:ip range end.'),
    cidr: u8('IPSET_ATTR_CIDR', 'bitmap:ip range as a prefix length.'),
    port: be16('IPSET_ATTR_PORT', 'bitmap:port range start.'),
    portTo: be16('IPSET_ATTR_PORT_TO', 'bitmap:port range end.'),
    timeout: be32('IPSET_ATTR_TIMEOUT', 'Default entry timeout in seconds; enables timeouts.'),
    proto: u8('IPSET_ATTR_PROTO', 'Protocol (unused at create).'),
    cadtFlags: be32('IPSET_ATTR_CADT_FLAGS', 'IPSET_FLAG_WITH_COUNTERS, _WITH_COMMENT, _WITH_SKBINFO, _WITH_FORCEADD.'),
    lineno: be32('IPSET_ATTR_CADT_LINENO', 'Restore line number.'),
    mark: be32('IPSET_ATTR_MARK', 'Mark (unused at create).'),
    // The kernel reads a __be32 at create but writes its header's mask in host order
    // (nla_put_u32 in ip_set_hash_gen.h), without NLA_F_NET_BYTEORDER.
    markmask: direction === 'request'
      ? be32('IPSET_ATTR_MARKMASK', 'hash:ip,mark: mask applied to marks.')
      : { nla: 'IPSET_ATTR_MARKMASK', type: 'u32', doc: 'hash:ip,mark: mask applied to marks (host order in replies).' },
    initval: be32('IPSET_ATTR_INITVAL', 'Hash seed (revisions of kernel 5.11+).'),
    hashsize: be32('IPSET_ATTR_HASHSIZE', 'Initial hash size.'),
    maxelem: be32('IPSET_ATTR_MAXELEM', 'Maximal number of elements.'),
    netmask: u8('IPSET_ATTR_NETMASK', 'hash:ip / bitmap:ip: store addresses masked to this prefix length.'),
    bucketsize: u8('IPSET_ATTR_BUCKETSIZE', 'Entries per hash bucket (revisions of kernel 5.11+).'),
    resize: u8('IPSET_ATTR_RESIZE', 'Resize ratio (ignored by current kernels).'),
    size: be32('IPSET_ATTR_SIZE', 'list:set: maximal number of member sets.'),
    elements: be32('IPSET_ATTR_ELEMENTS', 'Number of entries (kernel only).'),
    references: be32('IPSET_ATTR_REFERENCES', 'References to the set from rules and list:set (kernel only).'),
    memsize: be32('IPSET_ATTR_MEMSIZE', 'Memory used, bytes (kernel only).'),
  }, { nestFlag: true });

  const adtData = defineSchema('ipset.entry', K, {
    ip: ip('IPSET_ATTR_IP', 'First address (or range start).'),
    ipTo: ip('IPSET_ATTR_IP_TO', 'Range end of the first address.'),
    cidr: u8('IPSET_ATTR_CIDR', 'Prefix length of the first address.'),
    port: be16('IPSET_ATTR_PORT', 'Port (or range start); ICMP type << 8 | code for icmp.'),
    portTo: be16('IPSET_ATTR_PORT_TO', 'Port range end.'),
    timeout: be32('IPSET_ATTR_TIMEOUT', 'Entry timeout, seconds.'),
    proto: u8('IPSET_ATTR_PROTO', 'IP protocol number of the port.'),
    cadtFlags: be32('IPSET_ATTR_CADT_FLAGS', 'IPSET_FLAG_NOMATCH, _PHYSDEV, _BEFORE.'),
    lineno: be32('IPSET_ATTR_CADT_LINENO', 'Line number of the entry in a bulk message; echoed back on failure.'),
    mark: be32('IPSET_ATTR_MARK', 'hash:ip,mark: the mark.'),
    ether: { nla: 'IPSET_ATTR_ETHER', type: 'binary', doc: 'MAC address (6 bytes).' },
    name: str('IPSET_ATTR_NAME', 'list:set: member set name.'),
    nameref: str('IPSET_ATTR_NAMEREF', 'list:set: the member to insert before or after.'),
    ip2: ip('IPSET_ATTR_IP2', 'Second address (hash:ip,port,ip / ip,port,net).'),
    cidr2: u8('IPSET_ATTR_CIDR2', 'Prefix length of the second address.'),
    ip2To: ip('IPSET_ATTR_IP2_TO', 'Range end of the second address.'),
    iface: str('IPSET_ATTR_IFACE', 'hash:net,iface: interface name.'),
    bytes: be64('IPSET_ATTR_BYTES', 'Byte counter.'),
    packets: be64('IPSET_ATTR_PACKETS', 'Packet counter.'),
    comment: str('IPSET_ATTR_COMMENT', 'Entry comment (at most 255 bytes).'),
    skbmark: be64('IPSET_ATTR_SKBMARK', 'skbinfo mark << 32 | mask.'),
    skbprio: be32('IPSET_ATTR_SKBPRIO', 'skbinfo priority, major << 16 | minor.'),
    skbqueue: be16('IPSET_ATTR_SKBQUEUE', 'skbinfo queue.'),
  }, { nestFlag: true });

  const protocol = u8('IPSET_ATTR_PROTOCOL', 'Protocol version: in every message.');
  const setname = str('IPSET_ATTR_SETNAME', 'Set name.');

  return {
    createData,
    adtData,
    create: defineSchema('ipset', K, {
      protocol,
      setname,
      typename: str('IPSET_ATTR_TYPENAME', 'Set type name (hash:ip, ...).'),
      revision: u8('IPSET_ATTR_REVISION', 'Set type revision.'),
      family: u8('IPSET_ATTR_FAMILY', 'NFPROTO_IPV4, NFPROTO_IPV6 or NFPROTO_UNSPEC.'),
      flags: be32('IPSET_ATTR_FLAGS', 'Command-level flags (IPSET_FLAG_LIST_*).'),
      data: { nla: 'IPSET_ATTR_DATA', type: 'nested', nested: createData, doc: 'Create attributes (set header).' },
      adt: { nla: 'IPSET_ATTR_ADT', type: 'list', itemId: K.IPSET_ATTR_DATA, nested: adtData, doc: 'Entries of a LIST reply.' },
      index: be16('IPSET_ATTR_INDEX', 'Kernel index of the set (protocol 7).'),
    }, { nestFlag: true }),
    adt: defineSchema('ipset', K, {
      protocol,
      setname,
      flags: be32('IPSET_ATTR_FLAGS', 'Command-level flags.'),
      lineno: be32('IPSET_ATTR_LINENO', 'Present: report the failing entry\'s line number; the kernel writes it here in its error reply.'),
      data: { nla: 'IPSET_ATTR_DATA', type: 'nested', nested: adtData, doc: 'One entry.' },
      adt: { nla: 'IPSET_ATTR_ADT', type: 'list', itemId: K.IPSET_ATTR_DATA, nested: adtData, doc: 'Many entries.' },
    }, { nestFlag: true }),
    rename: defineSchema('ipset', K, {
      protocol,
      setname,
      setname2: str('IPSET_ATTR_SETNAME2', 'The new name (rename) or the other set (swap).'),
    }, { nestFlag: true }),
    protocol: defineSchema('ipset', K, {
      protocol,
      protocolMin: u8('IPSET_ATTR_PROTOCOL_MIN', 'Oldest protocol the kernel still speaks.'),
    }, { nestFlag: true }),
    type: defineSchema('ipset', K, {
      protocol,
      typename: str('IPSET_ATTR_TYPENAME', 'Set type name.'),
      family: u8('IPSET_ATTR_FAMILY', 'Family asked for.'),
      revision: u8('IPSET_ATTR_REVISION', 'Newest revision of the type in the kernel.'),
      revisionMin: u8('IPSET_ATTR_REVISION_MIN', 'Oldest revision of the type in the kernel.'),
    }, { nestFlag: true }),
    name: defineSchema('ipset', K, { protocol, setname }, { nestFlag: true }),
  };
}

/** The schemas of messages userspace sends. */
export const ipsetSchemas: IpsetSchemas = build(ipsetIpAddr, 'request');
/** The schemas of the kernel's replies (they decode requests too; only the address flags differ). */
export const ipsetReplySchemas: IpsetSchemas = build(ipsetIpAddrReply, 'reply');

/** The command schema for a message of command `cmd`, as `direction` writes it. */
export function ipsetSchemaFor(cmd: number, direction: 'request' | 'reply' = 'request'): Schema {
  const S = direction === 'request' ? ipsetSchemas : ipsetReplySchemas;
  switch (cmd) {
    case IPSET_CMD_CREATE: case IPSET_CMD_LIST: case IPSET_CMD_SAVE: case IPSET_CMD_HEADER: return S.create;
    case IPSET_CMD_ADD: case IPSET_CMD_DEL: case IPSET_CMD_TEST: return S.adt;
    case IPSET_CMD_RENAME: case IPSET_CMD_SWAP: return S.rename;
    case IPSET_CMD_PROTOCOL: return S.protocol;
    case IPSET_CMD_TYPE: return S.type;
    default: return S.name;
  }
}
