/**
 * Text ipvsadm prints, from the library's objects: the `ipvsadm -Ln` table in each of its layouts
 * and the `ipvsadm -Sn` rules. Pure functions, so the layouts are unit-tested column by column;
 * widths and quirks follow ipvsadm 1.31's print_title / print_service_entry / print_largenum.
 */
import type { IpvsDaemon, IpvsDestination, IpvsInfo, IpvsService, IpvsServiceEntry, IpvsTimeouts } from '../index';
import { sortDestinations, sortServices } from './ipvs-order';
import type { NameTable } from './names';
import type { TextBuffer } from './text-buffer';

/** Which table `ipvs list` prints (ipvsadm's --stats, --rate, --thresholds, --persistent-conn, --tun-info). */
export type ListLayout = 'default' | 'stats' | 'rate' | 'thresholds' | 'persistent-conn' | 'tun-info';

export interface ListFormatOptions {
  layout?: ListLayout;
  /** --exact: whole numbers instead of K, M, G, T. */
  exact?: boolean;
  /** --nosort: the kernel's order. */
  nosort?: boolean;
  /** Without -n: host and port names where they have one (see names.ts's lookupNames). */
  names?: NameTable;
}

/** C's printf %-Ns / %Ns (no truncation). */
const left = (s: string | number, n: number) => String(s).padEnd(n);
const right = (s: string | number, n: number) => String(s).padStart(n);

/** print_largenum: 9 columns, scaled by K, M, G, T unless exact. */
export function largenum(n: bigint | number, exact: boolean): string {
  const i = BigInt(n);
  if (exact) {
    const s = i.toString();
    return right(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (i < 100000000n) return right(i.toString(), 9);
  if (i < 1000000000n) return `${right((i / 1000n).toString(), 8)}K`;
  if (i < 100000000000n) return `${right((i / 1000000n).toString(), 8)}M`;
  if (i < 100000000000000n) return `${right((i / 1000000000n).toString(), 8)}G`;
  return `${right((i / 1000000000000n).toString(), 8)}T`;
}

/** `addr:port` as ipvsadm writes it, IPv6 in brackets; with names (no -n), `host:service` where they have them. */
function addrPort(address: string, port: number, names?: NameTable, protocol?: 'tcp' | 'udp' | 'sctp'): string {
  const host = names?.host(address) ?? address;
  const p = names?.port(port, protocol) ?? port;
  return address.includes(':') ? `[${host}]:${p}` : `${host}:${p}`;
}

/** The service's protocol, for port names: none for a firewall mark. */
const protocolOf = (s: IpvsService) => ('fwmark' in s ? undefined : s.protocol);

const PROTO_NAME = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' } as Record<string, string>;
const PROTO_OPTION = { tcp: '-t', udp: '-u', sctp: '--sctp-service' } as Record<string, string>;
/** fwd_name / fwd_switch; glibc prints "(null)" for the NULL that bypass gets. */
const FWD_NAME = { masq: 'Masq', local: 'Local', tunnel: 'Tunnel', route: 'Route', bypass: '(null)' } as Record<string, string>;
const FWD_SWITCH = { masq: '-m', tunnel: '-i', local: '-g', route: '-g', bypass: '(null)' } as Record<string, string>;
const CSUM_SHORT = { nocsum: '-c', csum: '+c', remcsum: 'r+c' } as Record<string, string>;

/** The service's name in the listing (`TCP  10.0.0.1:80`, `FWM  5 IPv6`), as ipvsadm truncates it. */
function listName(s: IpvsService, names?: NameTable): string {
  // ipvsadm prints the mark with %d: marks from 2^31 on come out negative (the rules keep them unsigned)
  if ('fwmark' in s) return s.family === 'inet6' ? `FWM  ${s.fwmark | 0} IPv6` : `FWM  ${s.fwmark | 0}`;
  const name = `${left(PROTO_NAME[s.protocol] ?? '?', 4)} ${addrPort(s.address, s.port, names, s.protocol)}`;
  // svc_name[33] = '\0' for all but IPv6
  return s.family === 'inet6' ? name : name.slice(0, 33);
}

/**
 * The service's options in a rule (`-t 10.0.0.1:80`, `-f 5 -6`). A mark from 2^31 on is printed
 * unsigned, which `ipvsadm -R` reads back; ipvsadm -S prints it negative and cannot read that.
 */
function ruleName(s: IpvsService, names?: NameTable): string {
  if ('fwmark' in s) return s.family === 'inet6' ? `-f ${s.fwmark} -6` : `-f ${s.fwmark}`;
  return `${PROTO_OPTION[s.protocol] ?? '--xxx-service'} ${addrPort(s.address, s.port, names, s.protocol)}`;
}

function destName(d: IpvsDestination, names?: NameTable, protocol?: 'tcp' | 'udp' | 'sctp'): string {
  const n = addrPort(d.address, d.port, names, protocol);
  // dname[28] = '\0' for all but IPv6
  return d.family === 'inet6' ? n : n.slice(0, 28);
}

function maskText(s: IpvsService): string | undefined {
  if (s.family === 'inet6') return s.netmask !== 128 ? String(s.netmask) : undefined;
  return s.netmask !== '255.255.255.255' ? String(s.netmask) : undefined;
}

/** The header lines of a layout (print_title). */
export function listTitle(layout: ListLayout): string {
  switch (layout) {
    case 'stats':
      return `${left('Prot LocalAddress:Port', 33)} ${right('Conns', 8)} ${right('InPkts', 8)} ${right('OutPkts', 8)} ${right('InBytes', 8)} ${right('OutBytes', 8)}\n  -> RemoteAddress:Port\n`;
    case 'rate':
      return `${left('Prot LocalAddress:Port', 33)} ${right('CPS', 8)} ${right('InPPS', 8)} ${right('OutPPS', 8)} ${right('InBPS', 8)} ${right('OutBPS', 8)}\n  -> RemoteAddress:Port\n`;
    case 'thresholds':
      return `${left('Prot LocalAddress:Port', 33)} ${left('Uthreshold', 10)} ${left('Lthreshold', 10)} ${left('ActiveConn', 10)} ${left('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
    case 'persistent-conn':
      return `${left('Prot LocalAddress:Port', 33)} ${left('Weight', 9)} ${left('PersistConn', 11)} ${left('ActiveConn', 10)} ${left('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
    case 'tun-info':
      return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n';
    default:
      return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
  }
}

/** fwd_tun_info: `ipip`, `gue:6080:+c`, `gre:-c`, else n/a. */
function tunInfo(d: IpvsDestination): string {
  if (d.forwarding !== 'tunnel' || !d.tunnelType) return 'n/a';
  if (d.tunnelType === 'ipip') return 'ipip';
  const csum = CSUM_SHORT[d.tunnelChecksum ?? 'nocsum'];
  return d.tunnelType === 'gue' ? `gue:${d.tunnelPort ?? 0}:${csum}` : `gre:${csum}`;
}

/** One service and its destinations in a listing layout. */
export function formatListEntry(s: IpvsServiceEntry, o: ListFormatOptions = {}): string {
  const layout = o.layout ?? 'default';
  const exact = o.exact ?? false;
  const name = listName(s, o.names);
  let line: string;
  if (layout === 'stats' || layout === 'rate') {
    const st = s.stats;
    const v = layout === 'stats' ? [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes] : [st.cps, st.inpps, st.outpps, st.inbps, st.outbps];
    line = left(name, 33) + v.map((x) => largenum(x, exact)).join('');
  } else {
    line = `${name} ${s.scheduler}`;
    if (s.schedFlags.length) line += ` (${s.schedFlags.join(',')})`;
    if (s.persistent > 0) {
      line += ` persistent ${s.persistent}`;
      const mask = maskText(s);
      if (mask !== undefined) line += ` mask ${mask}`;
      if (s.pe) line += ` pe ${s.pe}`;
    }
    if (s.onePacket) line += ' ops';
  }
  const lines = [line];
  for (const d of o.nosort ? s.destinations : sortDestinations(s.destinations)) {
    const dn = destName(d, o.names, protocolOf(s));
    const st = d.stats;
    switch (layout) {
      case 'stats':
        lines.push(`  -> ${left(dn, 28)}${[st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes].map((x) => largenum(x, exact)).join('')}`);
        break;
      case 'rate':
        // the packet rates are printed plainly (%8llu), the byte rates as large numbers
        lines.push(`  -> ${left(dn, 28)} ${right(st.cps.toString(), 8)} ${right(st.inpps.toString(), 8)} ${right(st.outpps.toString(), 8)}${largenum(st.inbps, exact)}${largenum(st.outbps, exact)}`);
        break;
      case 'thresholds':
        lines.push(`  -> ${left(dn, 28)} ${left(d.upperThreshold, 10)} ${left(d.lowerThreshold, 10)} ${left(d.activeConns, 10)} ${left(d.inactiveConns, 10)}`);
        break;
      case 'persistent-conn':
        lines.push(`  -> ${left(dn, 28)} ${left(d.weight, 9)} ${left(d.persistentConns, 11)} ${left(d.activeConns, 10)} ${left(d.inactiveConns, 10)}`);
        break;
      case 'tun-info':
        lines.push(`  -> ${left(dn, 28)} ${left(FWD_NAME[d.forwarding] ?? '(null)', 7)} ${left(tunInfo(d), 13)} ${left(d.weight, 6)} ${left(d.activeConns, 10)} ${left(d.inactiveConns, 10)}`);
        break;
      default:
        lines.push(`  -> ${left(dn, 28)} ${left(FWD_NAME[d.forwarding] ?? '(null)', 7)} ${left(d.weight, 6)} ${left(d.activeConns, 10)} ${left(d.inactiveConns, 10)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `ipvsadm -Ln [layout options]`: the version line, the title, every service sorted as ipvsadm sorts. */
export function formatList(info: IpvsInfo, services: readonly IpvsServiceEntry[], o: ListFormatOptions = {}): string {
  const head = `IP Virtual Server version ${info.version} (size=${info.connTableSize})\n`;
  const sorted = o.nosort ? services : sortServices(services);
  return head + listTitle(o.layout ?? 'default') + sorted.map((s) => formatListEntry(s, o)).join('');
}

/** `ipvsadm -Ln -t VIP:PORT`: one service, no version line. */
export function formatListOne(service: IpvsServiceEntry, o: ListFormatOptions = {}): string {
  return listTitle(o.layout ?? 'default') + formatListEntry(service, o);
}

export interface RulesFormatOptions {
  /** Add `-x U -y L` to destinations whose thresholds are set (ipvsadm -S leaves them out; -R reads them). */
  thresholds?: boolean;
  nosort?: boolean;
  /** Without -n: host and port names where they have one. */
  names?: NameTable;
}

/** The rule lines of one service and its destinations (print_service_entry with FMT_RULE). */
export function formatRulesEntry(s: IpvsServiceEntry, o: RulesFormatOptions = {}): string {
  const name = ruleName(s, o.names);
  let line = `-A ${name} -s ${s.scheduler}`;
  if (s.persistent > 0) {
    line += ` -p ${s.persistent}`;
    const mask = maskText(s);
    if (mask !== undefined) line += ` -M ${mask}`;
  }
  if (s.pe) line += ` --pe ${s.pe}`;
  if (s.onePacket) line += ' -o';
  if (s.schedFlags.length) line += ` -b ${s.schedFlags.join(',')}`;
  const lines = [line];
  for (const d of o.nosort ? s.destinations : sortDestinations(s.destinations)) {
    let l = `-a ${name} -r ${addrPort(d.address, d.port, o.names, protocolOf(s))} ${FWD_SWITCH[d.forwarding] ?? '(null)'} -w ${d.weight}`;
    if (d.forwarding === 'tunnel') {
      const csum = `--tun-${d.tunnelChecksum ?? 'nocsum'}`;
      if (d.tunnelType === 'ipip') l += ' --tun-type ipip';
      else if (d.tunnelType === 'gue') l += ` --tun-type gue --tun-port ${d.tunnelPort ?? 0} ${csum}`;
      else if (d.tunnelType === 'gre') l += ` --tun-type gre ${csum}`;
    }
    if (o.thresholds && (d.upperThreshold || d.lowerThreshold)) l += ` -x ${d.upperThreshold} -y ${d.lowerThreshold}`;
    lines.push(l);
  }
  return `${lines.join('\n')}\n`;
}

/** `ipvsadm -Sn`: every service and destination as rules, sorted as ipvsadm sorts them. */
export function formatRules(services: readonly IpvsServiceEntry[], o: RulesFormatOptions = {}): string {
  const sorted = o.nosort ? services : sortServices(services);
  return sorted.map((s) => formatRulesEntry(s, o)).join('');
}

/**
 * {@link formatRules} written into one buffer: the lines of plain real servers (IPv4, not
 * tunnels, no thresholds to print) byte by byte, the others as formatRulesEntry writes them.
 */
export function formatRulesInto(out: TextBuffer, services: readonly IpvsServiceEntry[], o: RulesFormatOptions = {}): TextBuffer {
  if (o.names) return out.str(formatRules(services, o));
  for (const s of o.nosort ? services : sortServices(services)) rulesServiceInto(out, s, s.destinations, o);
  return out;
}

/**
 * The rules of one service and its destinations (sorted here unless `o.nosort`), as
 * {@link formatRulesInto} writes each; numeric (`o.names` is for formatRules).
 */
export function rulesServiceInto(out: TextBuffer, s: IpvsService, destinations: readonly IpvsDestination[], o: RulesFormatOptions = {}): void {
  const dests = o.nosort ? destinations as IpvsDestination[] : sortDestinations(destinations);
  const plain = { ...o, nosort: true };
  if (dests.some((d) => d.family === 'inet6' || d.forwarding === 'tunnel' || FWD_SWITCH[d.forwarding] === undefined || (o.thresholds && (d.upperThreshold || d.lowerThreshold)))) {
    out.str(formatRulesEntry({ ...s, destinations: dests }, plain));
    return;
  }
  out.str(formatRulesEntry({ ...s, destinations: [] }, plain));
  const name = ruleName(s);
  for (const d of dests) {
    out.str('-a ').str(name).str(' -r ').str(d.address).byte(0x3a).uint(d.port).byte(0x20).str(FWD_SWITCH[d.forwarding]!).str(' -w ').uint(d.weight).byte(0x0a);
  }
}

/**
 * {@link formatList} of the default layout written into one buffer: the lines of IPv4 real
 * servers byte by byte, the others as formatListEntry writes them.
 */
export function formatListInto(out: TextBuffer, info: IpvsInfo, services: readonly IpvsServiceEntry[], o: ListFormatOptions = {}): TextBuffer {
  if (o.names) return out.str(formatList(info, services, o));
  out.str(listHeader(info, o.layout ?? 'default'));
  for (const s of o.nosort ? services : sortServices(services)) listServiceInto(out, s, s.destinations, o);
  return out;
}

/** The version line and the column titles of a listing. */
export function listHeader(info: IpvsInfo, layout: ListLayout): string {
  return `IP Virtual Server version ${info.version} (size=${info.connTableSize})\n${listTitle(layout)}`;
}

/**
 * One service and its destinations (sorted here unless `o.nosort`) in a listing, as
 * {@link formatListInto} writes each; numeric (`o.names` is for formatList).
 */
export function listServiceInto(out: TextBuffer, s: IpvsService, destinations: readonly IpvsDestination[], o: ListFormatOptions = {}): void {
  const layout = o.layout ?? 'default';
  const dests = o.nosort ? destinations as IpvsDestination[] : sortDestinations(destinations);
  const plain = { ...o, nosort: true };
  if (layout !== 'default' || dests.some((d) => d.family === 'inet6')) {
    out.str(formatListEntry({ ...s, destinations: dests }, plain));
    return;
  }
  out.str(formatListEntry({ ...s, destinations: [] }, plain));
  for (const d of dests) {
    out.str('  -> ');
    // an IPv4 address:port is at most 21 characters: never cut at 28
    const start = out.length;
    out.str(d.address).byte(0x3a).uint(d.port).padFrom(start, 28).byte(0x20).left(FWD_NAME[d.forwarding] ?? '(null)', 7).byte(0x20)
      .leftUint(d.weight, 6).byte(0x20).leftUint(d.activeConns, 10).byte(0x20).leftUint(d.inactiveConns, 10).byte(0x0a);
  }
}

/** `ipvsadm -L --timeout`. */
export function formatTimeouts(t: IpvsTimeouts): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpFin} ${t.udp}\n`;
}

/** `ipvsadm -L --daemon`. */
export function formatDaemons(daemons: readonly IpvsDaemon[]): string {
  return daemons.map((d) => {
    let s = `${d.state} sync daemon (mcast=${d.interface}, syncid=${d.syncId}`;
    if (d.syncMaxLen) s += `, maxlen=${d.syncMaxLen}`;
    if (d.group !== undefined) s += `, group=${d.group}`;
    if (d.port) s += `, port=${d.port}`;
    if (d.ttl) s += `, ttl=${d.ttl}`;
    return `${s})\n`;
  }).join('');
}
