/**
 * ipvsadm's command line, read the way ipvsadm 1.31 reads it (popt options, the table of which
 * option goes with which command, the same checks and defaults), for `ipvs restore` lines and
 * the `ipvs` verbs that take ipvsadm's options. Pure: no I/O (a port-name resolver may be given).
 */
import type {
  IpFamily, IpvsChange, IpvsDestinationOptions, IpvsForwarding, IpvsSchedFlag, IpvsServiceKey, IpvsServiceOptions,
  IpvsTunnelChecksum, IpvsTunnelType,
} from '../index';
import { canonicalAddress } from '../index';

/** A mistake on an ipvsadm line: the message is ipvsadm's wording where it has one. */
export class IpvsadmArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpvsadmArgsError';
  }
}

export type IpvsadmCommand =
  | 'add-service' | 'edit-service' | 'delete-service' | 'flush' | 'list' | 'add-server' | 'delete-server'
  | 'edit-server' | 'set' | 'start-daemon' | 'stop-daemon' | 'restore' | 'save' | 'zero';

/** ipvsadm's option names (optnames[] in ipvsadm.c), in the order of its command/option table. */
const OPTS = [
  'numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server',
  'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'mcast-interface', 'timeout', 'daemon', 'stats',
  'rate', 'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'ops', 'pe', 'sched-flags', 'mcast-group',
  'mcast-port', 'mcast-ttl', 'sync-maxlen', 'tun-info', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum',
] as const;
type Opt = typeof OPTS[number];

/**
 * Which option goes with which command, one character per option above, as ipvsadm's
 * commands_v_options: '+' required, 'x' refused, '1' at most one of these, ' ' optional.
 */
const TABLE: Record<IpvsadmCommand, string> = {
  'add-service':    'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  'edit-service':   'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  'delete-service': 'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  flush:            'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  list:             ' 11xxxxxxxxx11       xxxxxxx xxxxx',
  'add-server':     'xx+xxx+    xxxxxxxxxxxxxxxxxx     ',
  'delete-server':  'xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'edit-server':    'xx+xxx+    xxxxxxxxxxxxxxxxxx     ',
  set:              'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'start-daemon':   'xxxxxxxxxxx xxxxxxx xxxx    xxxxxx',
  'stop-daemon':    'xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx',
  restore:          'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  save:             ' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  zero:             'xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
};

type ArgKind = 'none' | 'required' | 'optional';
interface OptionDef {
  long: string;
  short?: string;
  arg: ArgKind;
  /** The command it selects, for command options. */
  command?: IpvsadmCommand;
}
const DEFS: OptionDef[] = [
  { long: 'add-service', short: 'A', arg: 'none', command: 'add-service' },
  { long: 'edit-service', short: 'E', arg: 'none', command: 'edit-service' },
  { long: 'delete-service', short: 'D', arg: 'none', command: 'delete-service' },
  { long: 'clear', short: 'C', arg: 'none', command: 'flush' },
  { long: 'list', short: 'L', arg: 'none', command: 'list' },
  { long: 'list', short: 'l', arg: 'none', command: 'list' },
  { long: 'zero', short: 'Z', arg: 'none', command: 'zero' },
  { long: 'add-server', short: 'a', arg: 'none', command: 'add-server' },
  { long: 'edit-server', short: 'e', arg: 'none', command: 'edit-server' },
  { long: 'delete-server', short: 'd', arg: 'none', command: 'delete-server' },
  { long: 'set', arg: 'none', command: 'set' },
  { long: 'restore', short: 'R', arg: 'none', command: 'restore' },
  { long: 'save', short: 'S', arg: 'none', command: 'save' },
  { long: 'start-daemon', arg: 'required', command: 'start-daemon' },
  { long: 'stop-daemon', arg: 'required', command: 'stop-daemon' },
  { long: 'help', short: 'h', arg: 'none' },
  { long: 'version', short: 'v', arg: 'none' },
  { long: 'tcp-service', short: 't', arg: 'required' },
  { long: 'udp-service', short: 'u', arg: 'required' },
  { long: 'sctp-service', arg: 'required' },
  { long: 'fwmark-service', short: 'f', arg: 'required' },
  { long: 'scheduler', short: 's', arg: 'required' },
  { long: 'persistent', short: 'p', arg: 'optional' },
  { long: 'netmask', short: 'M', arg: 'required' },
  { long: 'real-server', short: 'r', arg: 'required' },
  { long: 'masquerading', short: 'm', arg: 'none' },
  { long: 'ipip', short: 'i', arg: 'none' },
  { long: 'gatewaying', short: 'g', arg: 'none' },
  { long: 'weight', short: 'w', arg: 'required' },
  { long: 'u-threshold', short: 'x', arg: 'required' },
  { long: 'l-threshold', short: 'y', arg: 'required' },
  { long: 'numeric', short: 'n', arg: 'none' },
  { long: 'connection', short: 'c', arg: 'none' },
  { long: 'mcast-interface', arg: 'required' },
  { long: 'syncid', arg: 'required' },
  { long: 'timeout', arg: 'none' },
  { long: 'daemon', arg: 'none' },
  { long: 'stats', arg: 'none' },
  { long: 'rate', arg: 'none' },
  { long: 'thresholds', arg: 'none' },
  { long: 'persistent-conn', arg: 'none' },
  { long: 'nosort', arg: 'none' },
  { long: 'sort', arg: 'none' },
  { long: 'exact', short: 'X', arg: 'none' },
  { long: 'ipv6', short: '6', arg: 'none' },
  { long: 'ops', short: 'o', arg: 'none' },
  { long: 'pe', arg: 'required' },
  { long: 'sched-flags', short: 'b', arg: 'required' },
  { long: 'mcast-group', arg: 'required' },
  { long: 'mcast-port', arg: 'required' },
  { long: 'mcast-ttl', arg: 'required' },
  { long: 'sync-maxlen', arg: 'required' },
  { long: 'tun-info', arg: 'none' },
  { long: 'tun-type', arg: 'required' },
  { long: 'tun-port', arg: 'required' },
  { long: 'tun-nocsum', arg: 'none' },
  { long: 'tun-csum', arg: 'none' },
  { long: 'tun-remcsum', arg: 'none' },
];
const BY_LONG = new Map(DEFS.map((d) => [d.long, d]));
const BY_SHORT = new Map(DEFS.filter((d) => d.short).map((d) => [d.short!, d]));

/** ipvsadm's default persistence timeout (IPVS_SVC_PERSISTENT_TIMEOUT in libipvs.h: 6 minutes). */
export const DEFAULT_PERSISTENT_TIMEOUT = 6 * 60;
/** ipvsadm's longest time-out (MAX_TIMEOUT in ipvsadm.c: 31 days). */
const MAX_TIMEOUT = 86400 * 31;
const INT_MAX = 0x7fffffff;

/** A service or real-server address as ipvsadm's parse_service reads it. */
interface AddrPort {
  address: string;
  family: IpFamily;
  /** Absent when the text had no port. */
  port?: number;
}

/** What a line said, with ipvsadm's defaults applied. */
export interface IpvsadmArgs {
  command: IpvsadmCommand;
  /** Options given, by ipvsadm's names (for the listing verbs). */
  options: Set<Opt | 'ipv6' | 'sort'>;
  service?: IpvsServiceKey;
  /** The service's family (fwmark services: -6). */
  serviceFamily: IpFamily;
  scheduler?: string;
  persistent?: number;
  netmask?: string | number;
  onePacket: boolean;
  pe?: string;
  schedFlags?: IpvsSchedFlag[];
  destination?: IpvsDestinationOptions;
  daemonState?: 'master' | 'backup';
  mcastInterface?: string;
  syncId?: number;
  syncMaxLen?: number;
  mcastGroup?: string;
  mcastPort?: number;
  mcastTtl?: number;
  /** --set's three time-outs (0: leave as it is). */
  timeouts?: [number, number, number];
}

/** Resolves a port name (`http`) for a protocol, or returns undefined; ipvsadm uses getservbyname. */
export type PortResolver = (name: string, protocol: 'tcp' | 'udp' | 'sctp') => number | undefined;

function num(s: string, min: number, max: number): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
function isIPv4(s: string): boolean {
  const m = IPV4.exec(s);
  return !!m && m.slice(1).every((x) => Number(x) <= 255);
}
function isIPv6(s: string): boolean {
  if (!/^[0-9a-f:.]+$/i.test(s) || !s.includes(':')) return false;
  const dot = s.lastIndexOf(':');
  const tail = s.slice(dot + 1);
  let head = s;
  let groups = 8;
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return false;
    head = s.slice(0, dot + 1) + '0';
    groups = 7;
  }
  const dbl = head.split('::');
  if (dbl.length > 2) return false;
  const parts = (x: string) => (x === '' ? [] : x.split(':'));
  const all = dbl.flatMap(parts);
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return false;
  return dbl.length === 2 ? all.length < groups : all.length === groups;
}

/** Canonical IPv6 text (RFC 5952), so saved rules and kernel reads compare equal. */
function canonical6(s: string): string {
  return canonicalAddress(s);
}

/** Answers a host name's IPv4 address (ipvsadm: gethostbyname), or undefined. */
export type HostResolver = (name: string) => string | undefined;

/**
 * ipvsadm's parse_service: `[v6]:port`, `v6`, `v4:port`, `v4`, `name:port`, `name`; a port may be
 * a service name. A host name means its IPv4 address (IPv6 must be numeric, as for ipvsadm).
 */
function parseAddrPort(text: string, protocol: 'tcp' | 'udp' | 'sctp', resolve: PortResolver | undefined, hosts: HostResolver | undefined): AddrPort | undefined {
  if (text === '' || /^\d+$/.test(text)) return undefined;
  let host = text;
  let port: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    port = text.slice(close + 2);
    if (!isIPv6(host)) return undefined;
  } else if (isIPv6(text)) {
    return { address: canonical6(text), family: 'inet6' };
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      host = text.slice(0, colon);
      port = text.slice(colon + 1);
    }
    if (!isIPv4(host)) {
      if (!/^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/i.test(host) || hosts === undefined) return undefined;
      const address = hosts(host);
      if (address === undefined || !isIPv4(address)) return undefined;
      host = address;
    }
  }
  const out: AddrPort = { address: host.includes(':') ? canonical6(host) : host.split('.').map(Number).join('.'), family: host.includes(':') ? 'inet6' : 'inet' };
  if (port !== undefined) {
    const n = num(port, 0, 65535) ?? (/^[a-z][\w.+-]*$/i.test(port) ? resolve?.(port, protocol) : undefined);
    if (n === undefined) return undefined;
    out.port = n;
  }
  return out;
}

function isMulticast(a: string, family: IpFamily): boolean {
  return family === 'inet' ? Number(a.split('.')[0]) >= 224 && Number(a.split('.')[0]) <= 239 : /^ff/i.test(a);
}

/** How {@link parseIpvsadmArgs} reads a line. */
export interface IpvsadmParseOptions {
  /**
   * Keep scheduler and persistence-engine names longer than the kernel's 15 characters whole (the
   * library's check then refuses them, as the API does) instead of cutting them as ipvsadm does.
   */
  keepLongNames?: boolean;
}

/** Splits argv into option occurrences (with their values) and positional arguments, like popt. */
function tokenize(argv: readonly string[]): { occ: [OptionDef, string | undefined, string][]; positional: string[] } {
  const occ: [OptionDef, string | undefined, string][] = [];
  const positional: string[] = [];
  const takeOptional = (i: number) => (i < argv.length && !argv[i]!.startsWith('-') ? argv[i] : undefined);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const def = BY_LONG.get(name);
      if (!def) throw new IpvsadmArgsError(`invalid option \`${a}'`);
      let value: string | undefined;
      if (eq >= 0) {
        if (def.arg === 'none') throw new IpvsadmArgsError(`option \`--${name}' takes no value`);
        value = a.slice(eq + 1);
      } else if (def.arg === 'required') {
        if (i + 1 >= argv.length) throw new IpvsadmArgsError(`option \`--${name}' needs a value`);
        value = argv[++i];
      } else if (def.arg === 'optional') {
        value = takeOptional(i + 1);
        if (value !== undefined) i++;
      }
      occ.push([def, value, `--${name}`]);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const def = BY_SHORT.get(a[j]!);
        if (!def) throw new IpvsadmArgsError(`invalid option \`-${a[j]}'`);
        const rest = a.slice(j + 1);
        let value: string | undefined;
        if (def.arg === 'required') {
          if (rest) value = rest;
          else {
            if (i + 1 >= argv.length) throw new IpvsadmArgsError(`option \`-${a[j]}' needs a value`);
            value = argv[++i];
          }
        } else if (def.arg === 'optional') {
          if (rest) value = rest;
          else {
            value = takeOptional(i + 1);
            if (value !== undefined) i++;
          }
        }
        occ.push([def, value, `-${a[j]}`]);
        if (def.arg !== 'none') break;
      }
      continue;
    }
    positional.push(a);
  }
  return { occ, positional };
}

/**
 * Reads one ipvsadm command line (without the program name) as ipvsadm would: options, values,
 * the command/option table, and process_options' checks and defaults. Throws IpvsadmArgsError.
 */
export function parseIpvsadmArgs(argv: readonly string[], resolve?: PortResolver, hosts?: HostResolver, how: IpvsadmParseOptions = {}): IpvsadmArgs {
  // ipvsadm cuts names at IP_VS_SCHEDNAME_MAXLEN - 1; a rules file for the library keeps them whole, for its check to refuse
  const name = (v: string) => (how.keepLongNames ? v : v.slice(0, 15));
  const { occ, positional } = tokenize(argv);
  let command: IpvsadmCommand | undefined;
  const options = new Set<Opt | 'ipv6' | 'sort'>();
  const set = (o: Opt) => {
    if (options.has(o)) throw new IpvsadmArgsError(`multiple '${o}' options specified`);
    options.add(o);
  };
  let svc: { protocol?: 'tcp' | 'udp' | 'sctp'; ap?: AddrPort; fwmark?: number; family: IpFamily } | undefined;
  let dest: AddrPort | undefined;
  let forwarding: IpvsForwarding = 'route';
  let weight = 1;
  let upper = 0;
  let lower = 0;
  let tunType: IpvsTunnelType = 'ipip';
  let tunPort: number | undefined;
  let tunCsum: IpvsTunnelChecksum | undefined;
  let netmaskText: string | undefined;
  let schedFlagsText: string | undefined;
  const out: Omit<IpvsadmArgs, 'command'> = { options, serviceFamily: 'inet', onePacket: false };

  const rawDest: { text: string }[] = [];
  for (const [def, value, spelled] of occ) {
    if (def.command) {
      if (command) throw new IpvsadmArgsError('multiple commands specified');
      command = def.command;
      if (def.command === 'start-daemon' || def.command === 'stop-daemon') {
        if (value !== 'master' && value !== 'backup') {
          throw new IpvsadmArgsError(def.command === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal stop-daemon parameter specified');
        }
        out.daemonState = value;
      }
      continue;
    }
    const v = value ?? '';
    switch (def.long) {
      case 'help': case 'version':
        throw new IpvsadmArgsError(`${spelled} is not supported here`);
      case 'tcp-service': case 'udp-service': case 'sctp-service': {
        set('service-address');
        const protocol = def.long === 'tcp-service' ? 'tcp' : def.long === 'udp-service' ? 'udp' : 'sctp';
        const ap = parseAddrPort(v, protocol, resolve, hosts);
        if (!ap) throw new IpvsadmArgsError('illegal virtual server address[:port] specified');
        svc = { protocol, ap, family: ap.family };
        break;
      }
      case 'fwmark-service': {
        set('service-address');
        const n = num(v, 1, 0xffffffff);
        if (n === undefined) throw new IpvsadmArgsError(`invalid fwmark value \`${v}' specified`);
        svc = { fwmark: n, family: 'inet' };
        break;
      }
      case 'scheduler':
        set('scheduler');
        out.scheduler = name(v);
        break;
      case 'persistent': {
        set('persistent');
        if (value === undefined) out.persistent = DEFAULT_PERSISTENT_TIMEOUT;
        else {
          const n = num(v, 1, MAX_TIMEOUT);
          if (n === undefined) throw new IpvsadmArgsError(`invalid timeout value \`${v}' specified`);
          out.persistent = n;
        }
        break;
      }
      case 'netmask':
        set('netmask');
        netmaskText = v;
        break;
      case 'real-server':
        set('real-server');
        rawDest.push({ text: v });
        break;
      case 'masquerading': case 'ipip': case 'gatewaying':
        set('forwarding-method');
        forwarding = def.long === 'masquerading' ? 'masq' : def.long === 'ipip' ? 'tunnel' : 'route';
        break;
      case 'weight': {
        set('weight');
        // ipvsadm 1.31 takes 0 to INT_MAX, the kernel's range
        const n = num(v, 0, INT_MAX);
        if (n === undefined) throw new IpvsadmArgsError('illegal weight specified');
        weight = n;
        break;
      }
      case 'u-threshold': case 'l-threshold': {
        set(def.long);
        const n = num(v, 0, INT_MAX);
        if (n === undefined) throw new IpvsadmArgsError(`illegal ${def.long === 'u-threshold' ? 'u_threshold' : 'l_threshold'} specified`);
        if (def.long === 'u-threshold') upper = n;
        else lower = n;
        break;
      }
      case 'numeric': case 'connection': case 'timeout': case 'daemon': case 'stats': case 'rate': case 'thresholds':
      case 'persistent-conn': case 'nosort': case 'exact': case 'tun-info':
        set(def.long);
        break;
      case 'sort':
        options.add('sort');
        break;
      case 'mcast-interface':
        set('mcast-interface');
        out.mcastInterface = v.slice(0, 15);
        break;
      case 'syncid': {
        set('syncid');
        const n = num(v, 0, 255);
        if (n === undefined) throw new IpvsadmArgsError('illegal syncid specified');
        out.syncId = n;
        break;
      }
      case 'ipv6':
        if (!svc?.fwmark) throw new IpvsadmArgsError('-6 used before -f');
        svc.family = 'inet6';
        options.add('ipv6');
        break;
      case 'ops':
        set('ops');
        out.onePacket = true;
        break;
      case 'pe':
        set('pe');
        out.pe = name(v);
        break;
      case 'sched-flags':
        set('sched-flags');
        schedFlagsText = v;
        break;
      case 'mcast-group': {
        set('mcast-group');
        const fam: IpFamily | undefined = v.includes(':') ? (isIPv6(v) ? 'inet6' : undefined) : (isIPv4(v) ? 'inet' : undefined);
        if (!fam || !isMulticast(v, fam)) throw new IpvsadmArgsError(`invalid IPv${v.includes(':') ? 6 : 4} mcast-group \`${v}'`);
        out.mcastGroup = fam === 'inet6' ? canonical6(v) : v;
        break;
      }
      case 'mcast-port': case 'mcast-ttl': case 'sync-maxlen': {
        set(def.long);
        const max = def.long === 'mcast-ttl' ? 255 : def.long === 'sync-maxlen' ? 65535 - 20 - 8 : 65535;
        const n = num(v, 1, max);
        if (n === undefined) throw new IpvsadmArgsError(`illegal ${def.long} specified`);
        if (def.long === 'mcast-port') out.mcastPort = n;
        else if (def.long === 'mcast-ttl') out.mcastTtl = n;
        else out.syncMaxLen = n;
        break;
      }
      case 'tun-type':
        set('tun-type');
        if (v !== 'ipip' && v !== 'gue' && v !== 'gre') throw new IpvsadmArgsError('illegal tunnel type specified');
        tunType = v;
        break;
      case 'tun-port': {
        set('tun-port');
        const n = num(v, 1, 65535);
        if (n === undefined) throw new IpvsadmArgsError('illegal tunnel port specified');
        tunPort = n;
        break;
      }
      case 'tun-nocsum': case 'tun-csum': case 'tun-remcsum':
        set(def.long);
        tunCsum = def.long === 'tun-nocsum' ? 'nocsum' : def.long === 'tun-csum' ? 'csum' : 'remcsum';
        break;
      default:
        throw new IpvsadmArgsError(`invalid option \`${spelled}'`);
    }
  }
  if (!command) throw new IpvsadmArgsError('no command given (-A, -E, -D, -C, -a, -e, -d, -Z, --set, --start-daemon, --stop-daemon, ...)');

  // the table of legal combinations (generic_opt_check)
  const row = TABLE[command];
  let one: Opt | undefined;
  OPTS.forEach((o, j) => {
    const c = row[j];
    if (!options.has(o)) {
      if (c === '+') throw new IpvsadmArgsError(`You need to supply the '${o}' option for the '${command}' command`);
    } else if (c === 'x') {
      throw new IpvsadmArgsError(`Illegal '${o}' option with the '${command}' command`);
    } else if (c === '1') {
      if (one) throw new IpvsadmArgsError(`The option '${o}' conflicts with the '${one}' option in the '${command}' command`);
      one = o;
    }
  });

  if (command === 'set') {
    if (positional.length < 3) throw new IpvsadmArgsError('--set option requires 3 timeout values');
    out.timeouts = positional.slice(0, 3).map((p) => {
      const n = num(p, 0, MAX_TIMEOUT);
      if (n === undefined) throw new IpvsadmArgsError(`invalid timeout value \`${p}' specified`);
      return n;
    }) as [number, number, number];
    positional.splice(0, 3);
  }
  if (positional.length) throw new IpvsadmArgsError(`unexpected argument ${positional[0]}`);

  if (svc) {
    out.serviceFamily = svc.family;
    out.service = svc.fwmark !== undefined
      ? { fwmark: svc.fwmark, ...(svc.family === 'inet6' && { family: 'inet6' as const }) }
      : { protocol: svc.protocol!, address: svc.ap!.address, port: svc.ap!.port ?? 0 };
  }
  if (netmaskText !== undefined) {
    if (out.serviceFamily !== 'inet6') {
      if (!isIPv4(netmaskText)) throw new IpvsadmArgsError('illegal virtual server persistent mask specified');
      out.netmask = netmaskText;
    } else {
      const n = num(netmaskText, 1, 128);
      if (n === undefined) throw new IpvsadmArgsError('illegal ipv6 netmask specified');
      out.netmask = n;
    }
  }
  if (schedFlagsText !== undefined) {
    const sched = out.scheduler || 'wlc';
    out.schedFlags = schedFlagsText.split(',').filter((f) => f !== '').map((f) => {
      if (!['flag-1', 'flag-2', 'flag-3', 'sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'].includes(f)) {
        throw new IpvsadmArgsError(`invalid scheduler flag \`${f}'`);
      }
      if ((f.startsWith('sh-') && sched !== 'sh') || (f.startsWith('mh-') && sched !== 'mh')) {
        throw new IpvsadmArgsError(`incompatible scheduler flag \`${f}'`);
      }
      return f as IpvsSchedFlag;
    });
  }
  if (rawDest.length) {
    const protocol = svc?.protocol ?? 'tcp';
    dest = parseAddrPort(rawDest[0]!.text, protocol, resolve, hosts);
    if (!dest) throw new IpvsadmArgsError('illegal real server address[:port] specified');
  }

  if (command === 'add-service' || command === 'edit-service') {
    const isFwmark = out.service !== undefined && 'fwmark' in out.service;
    if (!isFwmark && out.service && (out.service as { port: number }).port === 0 && out.persistent === undefined) {
      throw new IpvsadmArgsError('Zero port specified for non-persistent service');
    }
    if (out.onePacket && !isFwmark && (out.service as { protocol: string } | undefined)?.protocol !== 'udp') {
      throw new IpvsadmArgsError('One-Packet Scheduling is only for UDP virtual services');
    }
    if (!out.scheduler) out.scheduler = 'wlc';
  }
  if (command === 'start-daemon' && !out.mcastInterface) out.mcastInterface = 'eth0';

  if (dest && out.service) {
    const isFwmark = 'fwmark' in out.service;
    // copy the service's port to the real server when it gives none
    let port = dest.port ?? (isFwmark ? 0 : (out.service as { port: number }).port);
    if (command === 'add-server' || command === 'edit-server') {
      // direct routing and tunnels cannot change the port: ipvsadm sends the service's
      if (!isFwmark && (forwarding === 'tunnel' || forwarding === 'route')) port = (out.service as { port: number }).port;
      if (dest.family !== out.serviceFamily && forwarding !== 'tunnel') {
        throw new IpvsadmArgsError('Different address family is allowed only for tunneling servers');
      }
      const tunOpts = ['tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'] as const;
      if (tunOpts.some((o) => options.has(o)) && forwarding !== 'tunnel') {
        throw new IpvsadmArgsError('Tunnel options conflict with forward method');
      }
      // tunnel_types_v_options: gue needs --tun-port; ipip takes none of these, gre no port nor remcsum
      const allowed: Record<IpvsTunnelType, string> = { ipip: 'xxxx', gue: '+111', gre: 'x11x' };
      let prev: string | undefined;
      (['tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'] as const).forEach((o, j) => {
        const c = allowed[tunType][j];
        if (!options.has(o)) {
          if (c === '+') throw new IpvsadmArgsError(`You need to supply the '${o}' option for the '${tunType}' tunnel type`);
        } else if (c === 'x') {
          throw new IpvsadmArgsError(`Illegal '${o}' option with the '${tunType}' tunnel type`);
        } else if (c === '1') {
          if (prev) throw new IpvsadmArgsError(`The option '${o}' conflicts with the '${prev}' option in the '${tunType}' tunnel type`);
          prev = o;
        }
      });
    }
    const d: IpvsDestinationOptions = { address: dest.address, port };
    if (command !== 'delete-server') {
      d.forwarding = forwarding;
      d.weight = weight;
      d.upperThreshold = upper;
      d.lowerThreshold = lower;
      if (forwarding === 'tunnel') {
        d.tunnelType = tunType;
        if (tunType === 'gue') d.tunnelPort = tunPort!;
        if (tunType !== 'ipip') d.tunnelChecksum = tunCsum ?? 'nocsum';
      }
    }
    out.destination = d;
  }
  return { command, ...out };
}

/** The service options of an add-service or edit-service line. */
function serviceOptions(a: IpvsadmArgs): IpvsServiceOptions {
  const s: IpvsServiceOptions = { ...a.service!, scheduler: a.scheduler ?? 'wlc' };
  if (a.persistent !== undefined) s.persistent = a.persistent;
  if (a.netmask !== undefined) s.netmask = a.netmask;
  if (a.onePacket) s.onePacket = true;
  if (a.schedFlags?.length) s.schedFlags = a.schedFlags;
  if (a.pe !== undefined) s.pe = a.pe;
  return s;
}

/**
 * The library change a rules-file line stands for, or null for a line that changes nothing
 * (`--set 0 0 0`). Throws IpvsadmArgsError for commands a rules file cannot hold (-L, -S, -R).
 */
export function toChange(a: IpvsadmArgs): IpvsChange | null {
  switch (a.command) {
    case 'add-service': return { kind: 'addService', service: serviceOptions(a) };
    case 'edit-service': return { kind: 'editService', service: serviceOptions(a) };
    case 'delete-service': return { kind: 'deleteService', service: a.service! };
    case 'add-server': return { kind: 'addDestination', service: a.service!, destination: a.destination! };
    case 'edit-server': return { kind: 'editDestination', service: a.service!, destination: a.destination! };
    case 'delete-server': return { kind: 'deleteDestination', service: a.service!, destination: { address: a.destination!.address, port: a.destination!.port } };
    case 'flush': return { kind: 'flush' };
    case 'zero': return a.service ? { kind: 'zero', service: a.service } : { kind: 'zero' };
    case 'set': {
      const [tcp, tcpFin, udp] = a.timeouts!;
      // 0 leaves a time-out as it is (the kernel's reading of ipvsadm --set)
      const t = { ...(tcp && { tcp }), ...(tcpFin && { tcpFin }), ...(udp && { udp }) };
      return Object.keys(t).length ? { kind: 'setTimeouts', timeouts: t } : null;
    }
    case 'start-daemon': {
      const daemon = {
        state: a.daemonState!, interface: a.mcastInterface!, syncId: a.syncId ?? 0,
        ...(a.syncMaxLen !== undefined && { syncMaxLen: a.syncMaxLen }),
        ...(a.mcastGroup !== undefined && { group: a.mcastGroup }),
        ...(a.mcastPort !== undefined && { port: a.mcastPort }),
        ...(a.mcastTtl !== undefined && { ttl: a.mcastTtl }),
      };
      return { kind: 'startDaemon', daemon };
    }
    case 'stop-daemon': return { kind: 'stopDaemon', state: a.daemonState! };
    default:
      throw new IpvsadmArgsError(`the '${a.command}' command cannot be part of a rules file`);
  }
}
