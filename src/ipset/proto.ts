/**
 * Protocol and ICMP names in ipset's port syntax (`tcp:80`, `icmp:echo-request`, `ipv6-icmp:3/0`).
 *
 * Names are resolved once: a small built-in table for the protocols that carry ports, then
 * `/etc/protocols` (read on first need, as `getprotobyname` would) for the rest. The ipset tool
 * resolves per entry, which dominates its restore time (measured-facts.md).
 */
import { readFileSync } from 'node:fs';
import {
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE,
} from '../uapi/netlink';
import { CONSTANTS as I4 } from '../uapi/icmp';
import { CONSTANTS as I6 } from '../uapi/icmpv6';

const BUILTIN: [string, number][] = [
  ['tcp', IPPROTO_TCP], ['udp', IPPROTO_UDP], ['sctp', IPPROTO_SCTP], ['udplite', IPPROTO_UDPLITE],
  ['icmp', IPPROTO_ICMP], ['ipv6-icmp', IPPROTO_ICMPV6], ['icmpv6', IPPROTO_ICMPV6],
];

let byName: Map<string, number> | undefined;
let byNumber: Map<number, string> | undefined;

function load(): void {
  if (byName) return;
  byName = new Map();
  byNumber = new Map();
  try {
    for (const line of readFileSync('/etc/protocols', 'utf8').split('\n')) {
      const [name, num, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
      const n = Number(num);
      if (!name || !Number.isInteger(n)) continue;
      if (!byNumber.has(n)) byNumber.set(n, name);
      for (const a of [name, ...aliases]) if (!byName.has(a)) byName.set(a, n);
    }
  } catch {
    // No /etc/protocols: the built-in names and numbers still work.
  }
  for (const [name, n] of BUILTIN) {
    if (!byName.has(name)) byName.set(name, n);
    if (!byNumber.has(n)) byNumber.set(n, name);
  }
}

/** The protocol number of a name (`tcp`, `gre`) or decimal text; undefined when unknown. */
export function protocolNumber(name: string): number | undefined {
  if (/^\d+$/.test(name)) {
    const n = Number(name);
    return n <= 255 ? n : undefined;
  }
  for (const [b, n] of BUILTIN) if (b === name) return n;
  load();
  return byName!.get(name);
}

/** The name ipset prints for a protocol number (`getprotobynumber`), or the number itself. */
export function protocolName(n: number): string {
  for (const [b, num] of BUILTIN) if (num === n) return b;
  load();
  return byNumber!.get(n) ?? String(n);
}

// ipset's ICMP names (lib/icmp.c, lib/icmpv6.c), with the kernel's type and code numbers. The
// first name of a pair is the one printed. Router advertisement/solicitation have no constant in
// <linux/icmp.h> and print as `icmp:9/0`, `icmp:10/0`.
const ICMP4: [string, number, number][] = [
  ['echo-reply', I4.ICMP_ECHOREPLY, 0], ['pong', I4.ICMP_ECHOREPLY, 0],
  ['network-unreachable', I4.ICMP_DEST_UNREACH, I4.ICMP_NET_UNREACH],
  ['host-unreachable', I4.ICMP_DEST_UNREACH, I4.ICMP_HOST_UNREACH],
  ['protocol-unreachable', I4.ICMP_DEST_UNREACH, I4.ICMP_PROT_UNREACH],
  ['port-unreachable', I4.ICMP_DEST_UNREACH, I4.ICMP_PORT_UNREACH],
  ['fragmentation-needed', I4.ICMP_DEST_UNREACH, I4.ICMP_FRAG_NEEDED],
  ['source-route-failed', I4.ICMP_DEST_UNREACH, I4.ICMP_SR_FAILED],
  ['network-unknown', I4.ICMP_DEST_UNREACH, I4.ICMP_NET_UNKNOWN],
  ['host-unknown', I4.ICMP_DEST_UNREACH, I4.ICMP_HOST_UNKNOWN],
  ['network-prohibited', I4.ICMP_DEST_UNREACH, I4.ICMP_NET_ANO],
  ['host-prohibited', I4.ICMP_DEST_UNREACH, I4.ICMP_HOST_ANO],
  ['TOS-network-unreachable', I4.ICMP_DEST_UNREACH, I4.ICMP_NET_UNR_TOS],
  ['TOS-host-unreachable', I4.ICMP_DEST_UNREACH, I4.ICMP_HOST_UNR_TOS],
  ['communication-prohibited', I4.ICMP_DEST_UNREACH, I4.ICMP_PKT_FILTERED],
  ['host-precedence-violation', I4.ICMP_DEST_UNREACH, I4.ICMP_PREC_VIOLATION],
  ['precedence-cutoff', I4.ICMP_DEST_UNREACH, I4.ICMP_PREC_CUTOFF],
  ['source-quench', I4.ICMP_SOURCE_QUENCH, 0],
  ['network-redirect', I4.ICMP_REDIRECT, I4.ICMP_REDIR_NET],
  ['host-redirect', I4.ICMP_REDIRECT, I4.ICMP_REDIR_HOST],
  ['TOS-network-redirect', I4.ICMP_REDIRECT, I4.ICMP_REDIR_NETTOS],
  ['TOS-host-redirect', I4.ICMP_REDIRECT, I4.ICMP_REDIR_HOSTTOS],
  ['echo-request', I4.ICMP_ECHO, 0], ['ping', I4.ICMP_ECHO, 0],
  ['ttl-zero-during-transit', I4.ICMP_TIME_EXCEEDED, I4.ICMP_EXC_TTL],
  ['ttl-zero-during-reassembly', I4.ICMP_TIME_EXCEEDED, I4.ICMP_EXC_FRAGTIME],
  ['ip-header-bad', I4.ICMP_PARAMETERPROB, 0],
  ['timestamp-request', I4.ICMP_TIMESTAMP, 0],
  ['timestamp-reply', I4.ICMP_TIMESTAMPREPLY, 0],
  ['address-mask-request', I4.ICMP_ADDRESS, 0],
  ['address-mask-reply', I4.ICMP_ADDRESSREPLY, 0],
];

const ICMP6: [string, number, number][] = [
  ['no-route', I6.ICMPV6_DEST_UNREACH, I6.ICMPV6_NOROUTE],
  ['communication-prohibited', I6.ICMPV6_DEST_UNREACH, I6.ICMPV6_ADM_PROHIBITED],
  ['address-unreachable', I6.ICMPV6_DEST_UNREACH, I6.ICMPV6_ADDR_UNREACH],
  ['port-unreachable', I6.ICMPV6_DEST_UNREACH, I6.ICMPV6_PORT_UNREACH],
  ['packet-too-big', I6.ICMPV6_PKT_TOOBIG, 0],
  ['ttl-zero-during-transit', I6.ICMPV6_TIME_EXCEED, I6.ICMPV6_EXC_HOPLIMIT],
  ['ttl-zero-during-reassembly', I6.ICMPV6_TIME_EXCEED, I6.ICMPV6_EXC_FRAGTIME],
  ['bad-header', I6.ICMPV6_PARAMPROB, I6.ICMPV6_HDR_FIELD],
  ['unknown-header-type', I6.ICMPV6_PARAMPROB, I6.ICMPV6_UNK_NEXTHDR],
  ['unknown-option', I6.ICMPV6_PARAMPROB, I6.ICMPV6_UNK_OPTION],
  ['echo-request', I6.ICMPV6_ECHO_REQUEST, 0], ['ping', I6.ICMPV6_ECHO_REQUEST, 0],
  ['echo-reply', I6.ICMPV6_ECHO_REPLY, 0], ['pong', I6.ICMPV6_ECHO_REPLY, 0],
];

/** True for the protocols whose "port" is an ICMP type and code. */
export function isIcmp(proto: number): boolean {
  return proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6;
}

/** Parses an ICMP name or `type/code` into the kernel's port value (type << 8 | code). */
export function parseIcmp(proto: number, text: string): number | undefined {
  const table = proto === IPPROTO_ICMPV6 ? ICMP6 : ICMP4;
  for (const [name, type, code] of table) if (name.toLowerCase() === text.toLowerCase()) return (type << 8) | code;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) return undefined;
  const type = Number(m[1]);
  const code = Number(m[2]);
  return type <= 255 && code <= 255 ? (type << 8) | code : undefined;
}

/** Prints an ICMP port value as ipset does: the name when it has one, else `type/code`. */
export function formatIcmp(proto: number, port: number): string {
  const type = port >> 8;
  const code = port & 0xff;
  const table = proto === IPPROTO_ICMPV6 ? ICMP6 : ICMP4;
  for (const [name, t, c] of table) if (t === type && c === code) return name;
  return `${type}/${code}`;
}
