/**
 * The IPVS generic-netlink family (<linux/ip_vs.h>), one declarative table per nest.
 * Ids come from the generated UAPI constants by the `nla` name; friendly keys are derived.
 */
import { defineSchema } from '../netlink/attr';
import { CONSTANTS as K } from '../uapi/ip-vs';

/**
 * The IPVS_STATS_ATTR_* counters, shared by the 32-bit and 64-bit sets: friendly key, attribute,
 * its type in the 32-bit set (bytes are 64-bit even there), and doc. Every counter is u64 in the
 * 64-bit set.
 */
const STATS: ReadonlyArray<readonly [key: string, nla: string, type32: 'u32' | 'u64', doc: string]> = [
  ['conns', 'IPVS_STATS_ATTR_CONNS', 'u32', 'Connections scheduled.'],
  ['inpkts', 'IPVS_STATS_ATTR_INPKTS', 'u32', 'Packets in.'],
  ['outpkts', 'IPVS_STATS_ATTR_OUTPKTS', 'u32', 'Packets out.'],
  ['inbytes', 'IPVS_STATS_ATTR_INBYTES', 'u64', 'Bytes in.'],
  ['outbytes', 'IPVS_STATS_ATTR_OUTBYTES', 'u64', 'Bytes out.'],
  ['cps', 'IPVS_STATS_ATTR_CPS', 'u32', 'Current connection rate (per second).'],
  ['inpps', 'IPVS_STATS_ATTR_INPPS', 'u32', 'Current incoming packet rate.'],
  ['outpps', 'IPVS_STATS_ATTR_OUTPPS', 'u32', 'Current outgoing packet rate.'],
  ['inbps', 'IPVS_STATS_ATTR_INBPS', 'u32', 'Current incoming byte rate.'],
  ['outbps', 'IPVS_STATS_ATTR_OUTBPS', 'u32', 'Current outgoing byte rate.'],
];

/** The stats attribute table, in the 32-bit set's types or all u64. */
function statsAttrs(wide: boolean): Record<string, { nla: string; type: 'u32' | 'u64'; doc: string }> {
  return Object.fromEntries(STATS.map(([key, nla, type32, doc]) => [key, { nla, type: wide ? 'u64' : type32, doc }]));
}

/** IPVS_SVC_ATTR_STATS / IPVS_DEST_ATTR_STATS: the 32-bit set (bytes are 64-bit even here). */
export const ipvsStats = defineSchema('ipvs.stats', K, statsAttrs(false));

/** IPVS_SVC_ATTR_STATS64 / IPVS_DEST_ATTR_STATS64 (kernel 4.1+): every counter 64-bit. */
export const ipvsStats64 = defineSchema('ipvs.stats64', K, statsAttrs(true));

/** IPVS_CMD_ATTR_SERVICE: a virtual service. */
export const ipvsService = defineSchema('ipvs.service', K, {
  af: { nla: 'IPVS_SVC_ATTR_AF', type: 'u16', doc: 'Address family: AF_INET or AF_INET6.' },
  protocol: { nla: 'IPVS_SVC_ATTR_PROTOCOL', type: 'u16', doc: 'IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP.' },
  // the kernel sends and ipvsadm writes a whole union nf_inet_addr (16 bytes) even for IPv4
  addr: { nla: 'IPVS_SVC_ATTR_ADDR', type: 'addr', familyFrom: 'af', addrLen: 16, doc: 'Virtual address.' },
  port: { nla: 'IPVS_SVC_ATTR_PORT', type: 'be16', doc: 'Virtual port.' },
  fwmark: { nla: 'IPVS_SVC_ATTR_FWMARK', type: 'u32', doc: 'Firewall mark, for fwmark services.' },
  schedName: { nla: 'IPVS_SVC_ATTR_SCHED_NAME', type: 'string', doc: 'Scheduler name (rr, wlc, ...).' },
  flags: { nla: 'IPVS_SVC_ATTR_FLAGS', type: 'struct32', fields: ['flags', 'mask'], doc: 'struct ip_vs_flags: IP_VS_SVC_F_* bits and the mask of bits being set.' },
  timeout: { nla: 'IPVS_SVC_ATTR_TIMEOUT', type: 'u32', doc: 'Persistence timeout in seconds.' },
  // a __be32 netmask for IPv4 (bytes in network order) and a prefix length (host order) for IPv6
  netmask: { nla: 'IPVS_SVC_ATTR_NETMASK', type: 'u32', doc: 'Persistence granularity: netmask (IPv4) or prefix length (IPv6).' },
  stats: { nla: 'IPVS_SVC_ATTR_STATS', type: 'nested', nested: ipvsStats, doc: 'Counters, 32-bit set.' },
  peName: { nla: 'IPVS_SVC_ATTR_PE_NAME', type: 'string', doc: 'Persistence engine (sip).' },
  stats64: { nla: 'IPVS_SVC_ATTR_STATS64', type: 'nested', nested: ipvsStats64, doc: 'Counters, 64-bit set (4.1+).' },
});

/** IPVS_CMD_ATTR_DEST: a destination (real server). */
export const ipvsDest = defineSchema('ipvs.dest', K, {
  addr: { nla: 'IPVS_DEST_ATTR_ADDR', type: 'addr', familyFrom: 'addrFamily', addrLen: 16, doc: 'Real server address.' },
  port: { nla: 'IPVS_DEST_ATTR_PORT', type: 'be16', doc: 'Real server port.' },
  fwdMethod: { nla: 'IPVS_DEST_ATTR_FWD_METHOD', type: 'u32', doc: 'IP_VS_CONN_F_MASQ, _LOCALNODE, _TUNNEL, _DROUTE or _BYPASS.' },
  weight: { nla: 'IPVS_DEST_ATTR_WEIGHT', type: 'u32', doc: 'Weight (0 stops new connections).' },
  uThresh: { nla: 'IPVS_DEST_ATTR_U_THRESH', type: 'u32', doc: 'Upper connection threshold (0: none).' },
  lThresh: { nla: 'IPVS_DEST_ATTR_L_THRESH', type: 'u32', doc: 'Lower connection threshold.' },
  activeConns: { nla: 'IPVS_DEST_ATTR_ACTIVE_CONNS', type: 'u32', doc: 'Active connections (read only).' },
  inactConns: { nla: 'IPVS_DEST_ATTR_INACT_CONNS', type: 'u32', doc: 'Inactive connections (read only).' },
  persistConns: { nla: 'IPVS_DEST_ATTR_PERSIST_CONNS', type: 'u32', doc: 'Persistent connection templates (read only).' },
  stats: { nla: 'IPVS_DEST_ATTR_STATS', type: 'nested', nested: ipvsStats, doc: 'Counters, 32-bit set.' },
  addrFamily: { nla: 'IPVS_DEST_ATTR_ADDR_FAMILY', type: 'u16', doc: 'Family of the real server address (4.3+), may differ from the service.' },
  stats64: { nla: 'IPVS_DEST_ATTR_STATS64', type: 'nested', nested: ipvsStats64, doc: 'Counters, 64-bit set (4.1+).' },
  tunType: { nla: 'IPVS_DEST_ATTR_TUN_TYPE', type: 'u8', doc: 'Tunnel type: IP_VS_CONN_F_TUNNEL_TYPE_IPIP, _GUE or _GRE (5.2+).' },
  tunPort: { nla: 'IPVS_DEST_ATTR_TUN_PORT', type: 'be16', doc: 'GUE tunnel port (5.2+).' },
  tunFlags: { nla: 'IPVS_DEST_ATTR_TUN_FLAGS', type: 'u16', doc: 'IP_VS_TUNNEL_ENCAP_FLAG_* checksum flags (5.3+).' },
});

/** IPVS_CMD_ATTR_DAEMON: a connection-sync daemon. */
export const ipvsDaemon = defineSchema('ipvs.daemon', K, {
  state: { nla: 'IPVS_DAEMON_ATTR_STATE', type: 'u32', doc: 'IP_VS_STATE_MASTER or IP_VS_STATE_BACKUP.' },
  mcastIfn: { nla: 'IPVS_DAEMON_ATTR_MCAST_IFN', type: 'string', doc: 'Multicast interface name.' },
  syncId: { nla: 'IPVS_DAEMON_ATTR_SYNC_ID', type: 'u32', doc: 'Sync id.' },
  syncMaxlen: { nla: 'IPVS_DAEMON_ATTR_SYNC_MAXLEN', type: 'u16', doc: 'Maximum sync message payload (bytes).' },
  mcastGroup: { nla: 'IPVS_DAEMON_ATTR_MCAST_GROUP', type: 'addr', doc: 'IPv4 multicast group.' },
  mcastGroup6: { nla: 'IPVS_DAEMON_ATTR_MCAST_GROUP6', type: 'addr', doc: 'IPv6 multicast group.' },
  // host order, unlike the service and destination ports: ip_vs_ctl.c uses nla_get_u16/nla_put_u16 and
  // converts with htons() only when it opens the socket (ipvsadm prints it as a plain u16 too)
  mcastPort: { nla: 'IPVS_DAEMON_ATTR_MCAST_PORT', type: 'u16', doc: 'UDP port of the sync messages (host byte order).' },
  mcastTtl: { nla: 'IPVS_DAEMON_ATTR_MCAST_TTL', type: 'u8', doc: 'Multicast TTL.' },
});

/** The IPVS_CMD_GET_INFO reply (sent as IPVS_CMD_SET_INFO): info attributes at the first level. */
export const ipvsInfo = defineSchema('ipvs.info', K, {
  version: { nla: 'IPVS_INFO_ATTR_VERSION', type: 'u32', doc: 'IPVS version, 0x00XXYYZZ.' },
  connTabSize: { nla: 'IPVS_INFO_ATTR_CONN_TAB_SIZE', type: 'u32', doc: 'Connection hash table size.' },
});

/**
 * The first level of every IPVS command. Requests set NLA_F_NESTED on their nests, as ipvsadm
 * does through libnl's nla_nest_start (every kernel accepts the flag); the kernel's own replies
 * carry nests without it (nla_nest_start_noflag), which the decoder ignores.
 */
export const ipvsCmd = defineSchema('ipvs', K, {
  service: { nla: 'IPVS_CMD_ATTR_SERVICE', type: 'nested', nested: ipvsService, doc: 'The service.' },
  dest: { nla: 'IPVS_CMD_ATTR_DEST', type: 'nested', nested: ipvsDest, doc: 'The destination.' },
  daemon: { nla: 'IPVS_CMD_ATTR_DAEMON', type: 'nested', nested: ipvsDaemon, doc: 'The sync daemon.' },
  timeoutTcp: { nla: 'IPVS_CMD_ATTR_TIMEOUT_TCP', type: 'u32', doc: 'TCP established timeout (s).' },
  timeoutTcpFin: { nla: 'IPVS_CMD_ATTR_TIMEOUT_TCP_FIN', type: 'u32', doc: 'TCP FIN-wait timeout (s).' },
  timeoutUdp: { nla: 'IPVS_CMD_ATTR_TIMEOUT_UDP', type: 'u32', doc: 'UDP timeout (s).' },
}, { nestFlag: true });
