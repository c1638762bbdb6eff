/**
 * The verbs of the `ipvs` command, each with its help and a loader: a verb's module (and the
 * library behind it) is required only when that verb runs, so `ipvs help` and `ipvs --version`
 * load nothing else. The table has no prototype: `ipvs constructor` is an unknown command.
 */
import type { Command, HelpText } from './types';

/** A verb: its help, and how to get its implementation. */
export interface LazyCommand extends HelpText {
  load(): Promise<Command>;
}

// import() compiles to a require() made when the verb runs (and works under the test runner's TypeScript loader)
const ipvs = (name: string) => async (): Promise<Command> => (await import('./ipvs-commands')).ipvsCommands[name]!;

const TABLE: Record<string, LazyCommand> = {
  list: {
    summary: 'list services and destinations as ipvsadm -L does, names resolved unless -n (-c|--connection, --stats, --rate, --exact, --thresholds, --persistent-conn, --tun-info, --nosort, --timeout, --daemon, -t|-u|-f SERVICE, --json, --watch SECONDS [--count N])',
    usage: `usage: ipvs list [-n] [-c|--connection] [--stats | --rate | --thresholds | --persistent-conn | --tun-info]
                 [--exact] [--nosort] [--timeout] [--daemon] [--json]
                 [-t|--tcp-service ADDR:PORT | -u|--udp-service ADDR:PORT | --sctp-service ADDR:PORT | -f|--fwmark-service MARK [-6]]
                 [--watch SECONDS [--count N]]
  As ipvsadm -L: every service with its real servers, or one service.
  -n, --numeric      addresses and ports as numbers (without it, host and service names)
  -c, --connection   the connection table (ipvsadm -Lnc); with --persistent-conn the engine data
  --stats, --rate    counters / rates; --exact prints whole numbers
  --thresholds       upper and lower connection thresholds
  --persistent-conn  persistent connections per real server
  --tun-info         tunnel type, port and checksum
  --timeout          the tcp tcpfin udp time-outs;  --daemon  the sync daemons
  --json             the library's objects as JSON
  --watch SECONDS    refresh every SECONDS (as watch ipvsadm -Ln); --count N refreshes then stop
`,
    load: ipvs('list'),
  },
  save: {
    summary: 'print the rules as ipvsadm -Sn does (-n is implied; --names: host and port names as ipvsadm -S without -n; --thresholds adds -x/-y; --nosort)',
    usage: `usage: ipvs save [-n|--numeric | --names] [--thresholds] [--nosort]
  As ipvsadm -Sn: every service and real server as rules ipvsadm -R and ipvs restore read.
  --names       host and service names, as ipvsadm -S without -n
  --thresholds  add -x UPPER -y LOWER to real servers that have them
  --nosort      the kernel's order instead of ipvsadm's
`,
    load: ipvs('save'),
  },
  restore: {
    summary: 'apply rules in the ipvsadm -S / -R format from FILE or standard input, in one batch; reports each failing line',
    usage: `usage: ipvs restore [-f|--file FILE | FILE | -] [--stop-on-error] [-q|--quiet]
  As ipvsadm -R: one ipvsadm command per line (-A -E -D -a -e -d -C -Z --set --start-daemon
  --stop-daemon with their options), from FILE or standard input. The whole input is checked
  first: a line that does not parse is reported with its number and nothing is applied.
  --stop-on-error  send nothing after the first change the kernel refuses
  -q, --quiet      no progress on a terminal
`,
    load: ipvs('restore'),
  },
  flush: {
    summary: 'delete every service and destination (ipvsadm -C)',
    usage: 'usage: ipvs flush\n  As ipvsadm -C: deletes every virtual service and its real servers.\n',
    load: ipvs('flush'),
  },
  zero: {
    summary: 'zero the counters of every service, or of one (-t|-u|--sctp-service ADDR:PORT, -f MARK [-6]) (ipvsadm -Z)',
    usage: 'usage: ipvs zero [-t|--tcp-service ADDR:PORT | -u|--udp-service ADDR:PORT | --sctp-service ADDR:PORT | -f|--fwmark-service MARK [-6]]\n  As ipvsadm -Z: zeroes the counters of every service, or of one.\n',
    load: ipvs('zero'),
  },
  timeout: {
    summary: 'show the tcp, tcpfin and udp time-outs, or set them: timeout TCP TCPFIN UDP (0 keeps one) (ipvsadm --set)',
    usage: 'usage: ipvs timeout [--json]\n       ipvs timeout TCP TCPFIN UDP\n  As ipvsadm -L --timeout / ipvsadm --set: seconds; 0 leaves that time-out as it is.\n',
    load: ipvs('timeout'),
  },
  daemon: {
    summary: 'sync daemons: daemon [list] | daemon start master|backup [--mcast-interface IF --syncid N --sync-maxlen N --mcast-group G --mcast-port P --mcast-ttl T] | daemon stop master|backup',
    usage: `usage: ipvs daemon [list] [--json]
       ipvs daemon start master|backup [--mcast-interface IF] [--syncid ID] [--sync-maxlen LEN]
                         [--mcast-group ADDR] [--mcast-port PORT] [--mcast-ttl TTL]
       ipvs daemon stop master|backup
  As ipvsadm -L --daemon / --start-daemon / --stop-daemon (the interface defaults to eth0).
`,
    load: ipvs('daemon'),
  },
  set: {
    summary: 'ipsets, ipset-compatible: create, destroy, flush, rename, swap, add, del, test, list, save, restore, version (ipvs set help)',
    usage: '', // the set verbs print their own (ipvs set help)
    load: async () => (await import('./set-commands')).setCommands.set!,
  },
  link: {
    summary: 'links, ip-compatible: add NAME type dummy, del, set NAME up|down, list [--json] (ipvs link help)',
    usage: '',
    load: async () => (await import('./link-commands')).linkCommands.link!,
  },
  addr: {
    summary: 'addresses, ip-compatible: add|del|replace CIDR dev DEV (or DEV CIDR...), list [DEV] [--json] (ipvs addr help)',
    usage: '',
    load: async () => (await import('./addr-commands')).addrCommands.addr!,
  },
  apply: {
    summary: 'make the data plane match a desired-state JSON file (reconcile); --dry-run prints the plan only',
    usage: `usage: ipvs apply [--dry-run] FILE
  Makes IPVS, ipsets and addresses match FILE (JSON: { "ipvs": [...], "sets": [...],
  "addresses": [...], "scope": {...} }), printing the plan one step per line.
  --dry-run  print the plan, change nothing
`,
    load: async () => (await import('./apply-command')).applyCommands.apply!,
  },
  sysctl: {
    summary: 'read or write the IPVS sysctls as sysctl does (NAME, NAME=VALUE, -a, --json)',
    usage: `usage: ipvs sysctl [-a|--all] [--json] [NAME...]
       ipvs sysctl NAME=VALUE...
  As sysctl net.ipv4.vs.NAME: names with or without the net.ipv4.vs. prefix; every value is
  checked before the first write.
`,
    load: async () => (await import('./sysctl-command')).sysctlCommands.sysctl!,
  },
  exporter: {
    summary: 'serve IPVS metrics for Prometheus in node_exporter\'s names (--listen HOST:PORT, default 127.0.0.1:9863)',
    usage: `usage: ipvs exporter [-l|--listen HOST:PORT]
  Serves /metrics over HTTP in node_exporter's ipvs names, read afresh at each scrape.
  -l, --listen HOST:PORT  where to listen (default 127.0.0.1:9863; [IPV6]:PORT)
`,
    load: async () => (await import('./exporter-command')).exporterCommands.exporter!,
  },
};

/** The verbs by name, without a prototype. */
export const COMMANDS: Readonly<Record<string, LazyCommand>> = Object.assign(Object.create(null) as Record<string, LazyCommand>, TABLE);

/** The verbs that have sub-verbs and print their own help (`ipvs set help`, `ipvs set add --help`). */
export const NOUNS = new Set(['set', 'link', 'addr']);
