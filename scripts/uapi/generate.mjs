#!/usr/bin/env node
// Generates src/uapi/*.ts from the kernel's UAPI headers, so no constant is retyped by hand.
// Names are taken from the headers themselves (object-like #defines and enum members with the
// given prefixes); their values are computed by the C compiler, which includes the headers.
// Usage: node scripts/uapi/generate.mjs [outdir]   (default: src/uapi)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = process.argv[2] ?? join(root, 'src', 'uapi');
const include = '/usr/include';

/** One generated module per header: the prefixes of the names it exports, plus computed extras. */
const modules = [
  {
    file: 'netlink.ts',
    header: 'linux/netlink.h',
    prefixes: ['NLMSG_NOOP', 'NLMSG_ERROR', 'NLMSG_DONE', 'NLMSG_OVERRUN', 'NLMSG_MIN_TYPE', 'NLMSG_HDRLEN',
      'NLMSG_ALIGNTO', 'NLM_F_', 'NETLINK_', 'NLA_F_', 'NLA_TYPE_MASK', 'NLA_ALIGNTO', 'NLA_HDRLEN', 'NLMSGERR_ATTR_'],
    exclude: ['NETLINK_ADD_MEMBERSHIP', 'NETLINK_DROP_MEMBERSHIP'],
    extras: {
      SIZEOF_NLMSGHDR: 'sizeof(struct nlmsghdr)',
      SIZEOF_NLMSGERR: 'sizeof(struct nlmsgerr)',
      SIZEOF_NLATTR: 'sizeof(struct nlattr)',
      AF_UNSPEC: 'AF_UNSPEC',
      AF_INET: 'AF_INET',
      AF_INET6: 'AF_INET6',
      AF_NETLINK: 'AF_NETLINK',
      IPPROTO_TCP: 'IPPROTO_TCP',
      IPPROTO_UDP: 'IPPROTO_UDP',
      IPPROTO_SCTP: 'IPPROTO_SCTP',
      IPPROTO_UDPLITE: 'IPPROTO_UDPLITE',
      IPPROTO_ICMP: 'IPPROTO_ICMP',
      IPPROTO_ICMPV6: 'IPPROTO_ICMPV6',
    },
    extraIncludes: ['sys/socket.h', 'netinet/in.h'],
  },
  {
    file: 'genetlink.ts',
    header: 'linux/genetlink.h',
    prefixes: ['GENL_ID_CTRL', 'GENL_HDRLEN', 'GENL_NAMSIZ', 'CTRL_CMD_', 'CTRL_ATTR_'],
    extras: { SIZEOF_GENLMSGHDR: 'sizeof(struct genlmsghdr)' },
  },
  {
    file: 'ip-vs.ts',
    header: 'linux/ip_vs.h',
    prefixes: ['IP_VS_', 'IPVS_'],
    exclude: ['IP_VS_VERSION_CODE'],
  },
  {
    file: 'nfnetlink.ts',
    header: 'linux/netfilter/nfnetlink.h',
    prefixes: ['NFNETLINK_V0', 'NFNL_SUBSYS_', 'NFNL_MSG_BATCH_'],
    extras: { SIZEOF_NFGENMSG: 'sizeof(struct nfgenmsg)' },
  },
  { file: 'netfilter.ts', header: 'linux/netfilter.h', prefixes: ['NFPROTO_'] },
  {
    file: 'ipset.ts',
    header: 'linux/netfilter/ipset/ip_set.h',
    prefixes: ['IPSET_'],
  },
  {
    file: 'rtnetlink.ts',
    header: 'linux/rtnetlink.h',
    prefixes: ['RTM_NEW', 'RTM_DEL', 'RTM_GET', 'RTM_SET', 'RTMGRP_', 'RTNLGRP_', 'RT_SCOPE_', 'RTEXT_FILTER_'],
    extras: { SIZEOF_IFINFOMSG: 'sizeof(struct ifinfomsg)', SIZEOF_IFADDRMSG: 'sizeof(struct ifaddrmsg)' },
  },
  { file: 'if-addr.ts', header: 'linux/if_addr.h', prefixes: ['IFA_'], extras: { SIZEOF_IFA_CACHEINFO: 'sizeof(struct ifa_cacheinfo)' } },
  { file: 'if-link.ts', header: 'linux/if_link.h', prefixes: ['IFLA_INFO_', 'IFLA_IFNAME', 'IFLA_MTU', 'IFLA_LINK', 'IFLA_ADDRESS', 'IFLA_OPERSTATE', 'IFLA_LINKINFO', 'IFLA_GROUP', 'IFLA_TXQLEN', 'IFLA_IFALIAS', 'IFLA_MASTER', 'IFLA_NET_NS_FD', 'IFLA_NET_NS_PID', 'IFLA_BROADCAST',
    'IFLA_QDISC', 'IFLA_PROMISCUITY', 'IFLA_NUM_TX_QUEUES', 'IFLA_NUM_RX_QUEUES', 'IFLA_CARRIER', 'IFLA_MIN_MTU', 'IFLA_MAX_MTU',
    'IFLA_ALT_IFNAME', 'IFLA_PERM_ADDRESS', 'IFLA_EXT_MASK', 'IFLA_PROTO_DOWN', 'IFLA_GSO_MAX_', 'IFLA_GRO_MAX_SIZE', 'IFLA_TSO_MAX_', 'IFLA_ALLMULTI', 'IFLA_PROP_LIST',
    'IFLA_STATS', 'IFLA_COST', 'IFLA_PRIORITY', 'IFLA_WIRELESS', 'IFLA_PROTINFO', 'IFLA_MAP', 'IFLA_WEIGHT', 'IFLA_NUM_VF',
    'IFLA_VFINFO_LIST', 'IFLA_VF_PORTS', 'IFLA_PORT_SELF', 'IFLA_AF_SPEC', 'IFLA_PHYS_', 'IFLA_PAD', 'IFLA_XDP', 'IFLA_EVENT',
    'IFLA_NEW_NETNSID', 'IFLA_IF_NETNSID', 'IFLA_TARGET_NETNSID', 'IFLA_NEW_IFINDEX', 'IFLA_PARENT_DEV_'] },
  { file: 'if.ts', header: 'linux/if.h', prefixes: ['IFF_', 'IFNAMSIZ', 'IF_OPER_', 'IF_LINK_MODE_'], extraIncludes: ['sys/socket.h'] },
  { file: 'if-arp.ts', header: 'linux/if_arp.h', prefixes: ['ARPHRD_'] },
  { file: 'if-ether.ts', header: 'linux/if_ether.h', prefixes: ['ETH_ALEN'] },
  // Type-specific ipset error codes: each set type numbers its own from IPSET_ERR_TYPE_SPECIFIC.
  { file: 'ipset-hash.ts', header: 'linux/netfilter/ipset/ip_set_hash.h', prefixes: ['IPSET_ERR_'] },
  { file: 'ipset-bitmap.ts', header: 'linux/netfilter/ipset/ip_set_bitmap.h', prefixes: ['IPSET_ERR_'] },
  { file: 'ipset-list.ts', header: 'linux/netfilter/ipset/ip_set_list.h', prefixes: ['IPSET_ERR_'] },
  // ICMP type/code numbers for ipset's `icmp:echo-request` port syntax.
  { file: 'icmp.ts', header: 'linux/icmp.h', prefixes: ['ICMP_'], exclude: ['ICMP_FILTER'] },
  { file: 'icmpv6.ts', header: 'linux/icmpv6.h', prefixes: ['ICMPV6_'] },
];

/** Names with one of the prefixes: object-like #defines and enum members (never `__X`). */
function namesIn(text, prefixes, exclude = []) {
  const found = new Set();
  const wanted = (n) => prefixes.some((p) => n.startsWith(p)) && !exclude.includes(n);
  for (const m of text.matchAll(/^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)(?![\w(])[ \t]+(\S.*)$/gm)) {
    if (wanted(m[1])) found.add(m[1]);
  }
  for (const block of text.matchAll(/\benum\b[^{;]*\{([^}]*)\}/g)) {
    const body = block[1].replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/^\s*#.*$/gm, '');
    for (const m of body.matchAll(/(?:^|,)\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:=[^,]*)?/g)) {
      if (wanted(m[1])) found.add(m[1]);
    }
  }
  return [...found];
}

function cString(s) {
  return JSON.stringify(s);
}

const work = mkdtempSync(join(tmpdir(), 'ipvs-uapi-'));
try {
  const entries = [];
  const includes = new Set();
  for (const mod of modules) {
    includes.add(mod.header);
    for (const h of mod.extraIncludes ?? []) includes.add(h);
    const text = readFileSync(join(include, mod.header), 'utf8');
    for (const name of namesIn(text, mod.prefixes, mod.exclude)) entries.push({ mod: mod.file, name, expr: name });
    for (const [name, expr] of Object.entries(mod.extras ?? {})) entries.push({ mod: mod.file, name, expr });
  }
  const order = ['sys/socket.h', 'netinet/in.h', 'linux/netlink.h'];
  const sortedIncludes = [...order, ...[...includes].filter((h) => !order.includes(h))];
  const c = [
    '#include <stdio.h>',
    ...sortedIncludes.map((h) => `#include <${h}>`),
    'static void pi(const char *m, const char *n, long long v) { printf("%s\\t%s\\t%lld\\n", m, n, v); }',
    'static void ps(const char *m, const char *n, const char *v) { printf("%s\\t%s\\t\\"%s\\"\\n", m, n, v); }',
    '#define P(m, n, e) _Generic((e), char *: ps, const char *: ps, default: pi)(m, n, e)',
    'int main(void) {',
    ...entries.map((e) => `  P(${cString(e.mod)}, ${cString(e.name)}, ${e.expr});`),
    '  return 0;',
    '}',
  ].join('\n');
  writeFileSync(join(work, 'gen.c'), c);
  execFileSync('cc', ['-std=c11', '-w', '-o', join(work, 'gen'), join(work, 'gen.c')], { stdio: 'inherit' });
  const out = execFileSync(join(work, 'gen'), { encoding: 'utf8' });
  let kernel = 'unknown';
  try {
    kernel = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'linux-libc-dev'], { encoding: 'utf8' });
  } catch { /* not Debian: leave the version unknown */ }
  const perModule = new Map(modules.map((m) => [m.file, []]));
  for (const line of out.trim().split('\n')) {
    const [mod, name, value] = line.split('\t');
    perModule.get(mod).push([name, value]);
  }
  mkdirSync(outDir, { recursive: true });
  for (const mod of modules) {
    const names = perModule.get(mod.file).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const body = [
      `// Generated by scripts/uapi/generate.mjs from <${mod.header}> (linux-libc-dev ${kernel}). Do not edit.`,
      ...names.map(([name, value]) => `export const ${name} = ${value};`),
      '',
      '/**',
      ' * Every constant above in one plain object, for lookups by name (the schemas\', the error tables\').',
      ' * A bundler\'s namespace object (`import * as`) reads each through a getter of its own, which',
      ' * V8 compiles the first time it runs: hundreds of them cost a command\'s start-up ~70 ms in the VM.',
      ' */',
      `export const CONSTANTS = {\n${names.map(([name]) => `  ${name},`).join('\n')}\n} as const;`,
      '',
    ].join('\n');
    writeFileSync(join(outDir, mod.file), body);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
