/**
 * The IPVS verbs of the `ipvs` command, ipvsadm-compatible: list, save, restore, flush, zero,
 * timeout, daemon. Built on the public API, and the internal Ipvs.listInGroups for numeric
 * listings.
 */
import type { Handle, IpvsDestination, IpvsService, IpvsServiceEntry } from '../index';
import { UsageError, type CliIo, type Command } from './types';
import { withHandle } from './handle';
import { IpvsadmArgsError, parseIpvsadmArgs, toChange, type IpvsadmArgs } from './ipvs-args';
import {
  formatDaemons, formatListInto, formatListOne, formatRulesInto, formatTimeouts, listHeader, listServiceInto, rulesServiceInto,
  type ListFormatOptions, type ListLayout,
} from './ipvs-format';
import { TextBuffer } from './text-buffer';
import { sortDestinations, sortServices } from './ipvs-order';
import { formatConnections } from './conn-format';
import { etcServices, lookupNames, withHostNames } from './names';
import { runRestore } from './ipvs-restore';
import { stdoutWrite } from './process-io';

/** ipvsadm's options for one of our verbs, as if given with `first` (its command option); host names resolved. */
async function ipvsadmArgs(first: string[], args: string[], verb: string): Promise<IpvsadmArgs> {
  try {
    return await withHostNames((hosts) => parseIpvsadmArgs([...first, ...args], etcServices(), hosts));
  } catch (err) {
    if (err instanceof IpvsadmArgsError) throw new UsageError(`${verb}: ${err.message}`);
    throw err;
  }
}

/** Takes our own flags (not ipvsadm's) out of the arguments. */
function takeFlags(args: string[], flags: string[]): { rest: string[]; has: Set<string> } {
  const has = new Set<string>();
  const rest = args.filter((a) => {
    if (!flags.includes(a)) return true;
    has.add(a);
    return false;
  });
  return { rest, has };
}

/** JSON with bigint counters as numbers (strings past 2^53). */
function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v), 2)}\n`;
}

/** `--watch SECONDS` (and `--count N`, how many refreshes before it ends) taken out of the arguments. */
function takeWatch(args: string[]): { rest: string[]; watch?: { seconds: number; count: number } } {
  const rest: string[] = [];
  let seconds: number | undefined;
  let count = Infinity;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a !== '--watch' && a !== '--count') {
      rest.push(a);
      continue;
    }
    const v = Number(args[++i]);
    if (a === '--watch') {
      if (!(v >= 0.1 && v <= 86400)) throw new UsageError('list: --watch takes seconds between refreshes (0.1 to 86400)');
      seconds = v;
    } else {
      if (!Number.isInteger(v) || v < 1) throw new UsageError('list: --count takes a whole number of refreshes');
      count = v;
    }
  }
  if (seconds === undefined && count !== Infinity) throw new UsageError('list: --count goes with --watch');
  return seconds === undefined ? { rest } : { rest, watch: { seconds, count } };
}

/**
 * `ipvs list ... --watch N`: the listing again every N seconds, as `watch ipvsadm -Ln --rate`
 * shows it: on a terminal the screen is cleared before each, elsewhere the listings follow each
 * other. Ends after `--count` refreshes, or on SIGINT/SIGTERM.
 */
async function watchList(watch: { seconds: number; count: number }, io: CliIo, once: (io: CliIo) => Promise<number>): Promise<number> {
  let stop = false;
  let wake: () => void = () => undefined;
  const onSignal = () => {
    stop = true;
    wake();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (let n = 0; n < watch.count && !stop; n++) {
      let text = '';
      const code = await once({ ...io, out: (t) => { text += t; } });
      if (code !== 0) return code;
      const tty = process.stdout.isTTY === true && io.out === stdoutWrite;
      io.out(tty ? `\x1b[H\x1b[2JEvery ${watch.seconds}s: ipvs list\n\n${text}` : `${n > 0 ? '\n' : ''}${text}`);
      if (n + 1 < watch.count) await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, watch.seconds * 1000); });
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * A numeric listing written a group of services at a time as their destinations are read (see
 * Ipvs.listInGroups), services in ipvsadm's order unless `nosort`: a group's objects die young,
 * and the first lines are out before the last dump is read.
 */
async function writeInGroups(
  h: Handle, io: CliIo, stats: boolean, nosort: boolean | undefined,
  write: (out: TextBuffer, s: IpvsService, dests: readonly IpvsDestination[]) => void,
): Promise<void> {
  const out = new TextBuffer();
  await h.ipvs.listInGroups({ stats, ...(!nosort && { order: sortServices }) }, (services, dests) => {
    // counters are read (`stats`) for the layouts that print them
    for (let k = 0; k < services.length; k++) write(out, services[k]!, dests[k]! as IpvsDestination[]);
    // a copy: the stream may still hold what it was given when the buffer is written again
    io.out(Buffer.from(out.bytes()));
    out.clear();
  });
}

const list: Command = {
  summary: 'list services and destinations as ipvsadm -L does, names resolved unless -n (-c|--connection, --stats, --rate, --exact, --thresholds, --persistent-conn, --tun-info, --nosort, --timeout, --daemon, -t|-u|-f SERVICE, --json, --watch SECONDS [--count N])',
  async run(args, global, io) {
    const { rest: unwatched, watch } = takeWatch(args);
    const { rest, has } = takeFlags(unwatched, ['--json']);
    const a = await ipvsadmArgs(['-L'], rest, 'list');
    if (watch) return watchList(watch, io, (out) => list.run(rest.concat(has.has('--json') ? ['--json'] : []), global, out));
    const json = has.has('--json');
    const layout: ListLayout = a.options.has('stats') ? 'stats' : a.options.has('rate') ? 'rate'
      : a.options.has('thresholds') ? 'thresholds' : a.options.has('persistent-conn') ? 'persistent-conn'
        : a.options.has('tun-info') ? 'tun-info' : 'default';
    const fmt: ListFormatOptions = { layout, exact: a.options.has('exact'), nosort: a.options.has('nosort') };
    // without -n, names where they have them, as ipvsadm -L prints them
    const numeric = a.options.has('numeric');
    await withHandle(global, async (h) => {
      if (a.options.has('connection')) {
        const conns = await h.ipvs.listConnections();
        // always numeric, as -Lnc: a reverse lookup per client address would make it unusable
        io.out(json ? toJson(conns) : formatConnections(conns, layout === 'persistent-conn'));
      } else if (a.options.has('timeout')) {
        const t = await h.ipvs.getTimeouts();
        io.out(json ? toJson(t) : formatTimeouts(t));
      } else if (a.options.has('daemon')) {
        const d = await h.ipvs.listDaemons();
        io.out(json ? toJson(d) : formatDaemons(d));
      } else if (a.service) {
        const s = await h.ipvs.getService(a.service);
        const entry: IpvsServiceEntry = { ...s, destinations: await h.ipvs.listDestinations(a.service) };
        // sorted once, from the kernel's order (re-sorting with ipvsadm's comparator may reorder)
        if (json) io.out(toJson(fmt.nosort ? entry : { ...entry, destinations: sortDestinations(entry.destinations) }));
        else io.out(formatListOne(entry, numeric ? fmt : { ...fmt, names: await lookupNames([entry]) }));
      } else {
        const info = await h.ipvs.getInfo();
        const stats = layout === 'stats' || layout === 'rate';
        if (json) {
          const all = await h.ipvs.listAll();
          const sorted = fmt.nosort ? all : sortServices(all).map((s) => ({ ...s, destinations: sortDestinations(s.destinations) }));
          io.out(toJson(sorted));
        } else if (numeric) {
          io.out(listHeader(info, layout));
          await writeInGroups(h, io, stats, fmt.nosort, (out, s, dests) => listServiceInto(out, s, dests, fmt));
        } else {
          // names need every service first (all looked up at once)
          const all = (await h.snapshot({ ipvs: { stats } })).ipvs! as IpvsServiceEntry[];
          io.out(formatListInto(new TextBuffer(), info, all, { ...fmt, names: await lookupNames(all) }).bytes());
        }
      }
    });
    return 0;
  },
};

const save: Command = {
  summary: 'print the rules as ipvsadm -Sn does (-n is implied; --names: host and port names as ipvsadm -S without -n; --thresholds adds -x/-y; --nosort)',
  async run(args, global, io) {
    const { rest, has } = takeFlags(args, ['--thresholds', '--nosort', '-n', '--numeric', '--names']);
    if (rest.length) throw new UsageError(`save: unexpected argument ${rest[0]}`);
    const o = { thresholds: has.has('--thresholds'), nosort: has.has('--nosort') };
    await withHandle(global, async (h) => {
      if (!has.has('--names') || has.has('-n') || has.has('--numeric')) {
        await writeInGroups(h, io, false, o.nosort, (out, s, dests) => rulesServiceInto(out, s, dests, o));
        return;
      }
      const all = (await h.snapshot({ ipvs: true })).ipvs! as IpvsServiceEntry[];
      io.out(formatRulesInto(new TextBuffer(), all, { ...o, names: await lookupNames(all) }).bytes());
    });
    return 0;
  },
};

const restore: Command = {
  summary: 'apply rules in the ipvsadm -S / -R format from FILE or standard input, in one batch; reports each failing line',
  run: (args, global, io) => runRestore(args, global, io),
};

const flush: Command = {
  summary: 'delete every service and destination (ipvsadm -C)',
  async run(args, global) {
    if (args.length) throw new UsageError(`flush: unexpected argument ${args[0]}`);
    await withHandle(global, (h) => h.ipvs.flush());
    return 0;
  },
};

const zero: Command = {
  summary: 'zero the counters of every service, or of one (-t|-u|--sctp-service ADDR:PORT, -f MARK [-6]) (ipvsadm -Z)',
  async run(args, global) {
    const a = await ipvsadmArgs(['-Z'], args, 'zero');
    await withHandle(global, (h) => h.ipvs.zero(a.service));
    return 0;
  },
};

const timeout: Command = {
  summary: 'show the tcp, tcpfin and udp time-outs, or set them: timeout TCP TCPFIN UDP (0 keeps one) (ipvsadm --set)',
  async run(args, global, io) {
    const { rest, has } = takeFlags(args, ['--json']);
    if (rest.length === 0) {
      await withHandle(global, async (h) => {
        const t = await h.ipvs.getTimeouts();
        io.out(has.has('--json') ? toJson(t) : formatTimeouts(t));
      });
      return 0;
    }
    const change = toChange(await ipvsadmArgs(['--set'], rest, 'timeout'));
    if (change?.kind === 'setTimeouts') await withHandle(global, (h) => h.ipvs.setTimeouts(change.timeouts));
    return 0;
  },
};

const daemon: Command = {
  summary: 'sync daemons: daemon [list] | daemon start master|backup [--mcast-interface IF --syncid N --sync-maxlen N --mcast-group G --mcast-port P --mcast-ttl T] | daemon stop master|backup',
  async run(args, global, io) {
    const [sub = 'list', ...rest] = args;
    if (sub === 'list' || sub === '--json') {
      const json = sub === '--json' || rest.includes('--json');
      await withHandle(global, async (h) => {
        const d = await h.ipvs.listDaemons();
        io.out(json ? toJson(d) : formatDaemons(d));
      });
      return 0;
    }
    if (sub !== 'start' && sub !== 'stop') throw new UsageError(`daemon: expected list, start or stop, got '${sub}'`);
    const change = toChange(await ipvsadmArgs([`--${sub}-daemon`], rest, `daemon ${sub}`));
    await withHandle(global, async (h) => {
      if (change?.kind === 'startDaemon') await h.ipvs.startDaemon(change.daemon);
      else if (change?.kind === 'stopDaemon') await h.ipvs.stopDaemon(change.state);
    });
    return 0;
  },
};

/** The IPVS verbs, for the dispatcher in main.ts. */
export const ipvsCommands: Record<string, Command> = { list, save, restore, flush, zero, timeout, daemon };
