/**
 * Counters over time: the IPVS state read every `intervalMs` on the snapshot path (one dump per
 * service, with destination counters), each service's and destination's counters compared with
 * the read before to give what happened in between and its rate per second.
 *
 * @module
 */
import { zeroStats, type IpvsStats } from '../ipvs/stats';
import { describeService, serviceKey } from '../ipvs/service';
import type { IpvsDestinationState } from './ipvs-decode';
import type { IpvsServiceState } from './ipvs-read';

/** The five counters of {@link IpvsStats} (not the kernel's rate estimates). @category IPVS */
export type IpvsCounterName = 'conns' | 'inpkts' | 'outpkts' | 'inbytes' | 'outbytes';

const COUNTERS: readonly IpvsCounterName[] = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'];

/** How much each counter grew since the previous read. @category IPVS */
export type IpvsCounterDelta = Record<IpvsCounterName, bigint>;
/** Each counter's growth per second since the previous read. @category IPVS */
export type IpvsCounterRate = Record<IpvsCounterName, number>;

/** What changed for one service or destination between two reads. @category IPVS */
export interface IpvsStatsChange {
  /**
   * Growth since the previous read; null on the first read of this object and after its counters
   * went backwards (zeroed with `ipvsadm -Z`, or the object deleted and added again).
   */
  delta: IpvsCounterDelta | null;
  /** The same per second of the time between the reads; null where delta is. */
  rate: IpvsCounterRate | null;
}

/** A destination with its counters and their change. @category IPVS */
export type IpvsDestinationStatsSample = IpvsDestinationState & {
  /** The destination's counters and rates as of this read. */
  stats: IpvsStats;
} & IpvsStatsChange;

/** A service with its counters, its destinations' and their change. @category IPVS */
export type IpvsServiceStatsSample = Omit<IpvsServiceState, 'destinations'> & IpvsStatsChange & {
  /** The service's destinations, each with its counters and their change. */
  destinations: IpvsDestinationStatsSample[];
};

/** One read of {@link Ipvs.watchStats}. @category IPVS */
export interface IpvsStatsSample {
  /** When this read began. */
  readAt: Date;
  /** Milliseconds since the previous read began; 0 for the first. */
  intervalMs: number;
  /** Every service, in the kernel's order. */
  services: IpvsServiceStatsSample[];
}

/** Options of {@link Ipvs.watchStats}. @category IPVS */
export interface IpvsWatchStatsOptions {
  /**
   * Time between reads, in milliseconds (from the start of one to the start of the next; a read
   * that takes longer is followed at once). Default 1000. The kernel folds its per-CPU counters
   * into what it reports every 2 s (estimation_timer), so shorter intervals show steps.
   */
  intervalMs?: number;
  /** Ends the iteration (after the read in progress, if any). */
  signal?: AbortSignal;
}

function change(cur: IpvsStats, prev: IpvsStats | undefined, seconds: number): IpvsStatsChange {
  if (prev === undefined || seconds <= 0) return { delta: null, rate: null };
  const delta = {} as IpvsCounterDelta;
  const rate = {} as IpvsCounterRate;
  for (const k of COUNTERS) {
    const d = cur[k] - prev[k];
    if (d < 0n) return { delta: null, rate: null };
    delta[k] = d;
    rate[k] = Number(d) / seconds;
  }
  return { delta, rate };
}

function destId(d: IpvsDestinationState): string {
  return `${d.address}|${d.port}`;
}

/** Counters of the previous read, by service and destination. */
export interface StatsMemory {
  services: Map<string, IpvsStats>;
  destinations: Map<string, IpvsStats>;
}

/**
 * The sample of `state` given what the previous read saw (`memory`, updated in place), `elapsedMs`
 * after it. Pure: the watcher's clock and reads stay outside.
 */
export function statsSample(state: readonly IpvsServiceState[], memory: StatsMemory, readAt: Date, elapsedMs: number): IpvsStatsSample {
  const seconds = elapsedMs / 1000;
  const services = new Map<string, IpvsStats>();
  const destinations = new Map<string, IpvsStats>();
  const out: IpvsServiceStatsSample[] = state.map((s) => {
    const id = describeService(serviceKey(s));
    services.set(id, s.stats);
    const dests = s.destinations.map((d) => {
      const stats = d.stats ?? zero;
      const did = `${id}>${destId(d)}`;
      destinations.set(did, stats);
      return { ...d, stats, ...change(stats, memory.destinations.get(did), seconds) };
    });
    return { ...s, destinations: dests, ...change(s.stats, memory.services.get(id), seconds) };
  });
  memory.services = services;
  memory.destinations = destinations;
  return { readAt, intervalMs: elapsedMs, services: out };
}

const zero: IpvsStats = zeroStats();

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Reads with `read` every `intervalMs` and yields a sample each time, until `signal` aborts or the
 * consumer stops iterating. A failed read ends the iteration with its error.
 * @throws RangeError for an interval that is not a number of milliseconds from 10 to 2^31 - 1.
 */
export async function* watchStats(
  read: () => Promise<IpvsServiceState[]>,
  options: IpvsWatchStatsOptions = {},
): AsyncGenerator<IpvsStatsSample, void, undefined> {
  const intervalMs = options.intervalMs ?? 1000;
  if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs < 10 || intervalMs > 2 ** 31 - 1) {
    throw new RangeError(`ipvs.watchStats: intervalMs must be a number of milliseconds from 10 to 2147483647, got ${String(intervalMs).slice(0, 40)}`);
  }
  const { signal } = options;
  const memory: StatsMemory = { services: new Map(), destinations: new Map() };
  let previous: number | undefined;
  while (!signal?.aborted) {
    const started = performance.now();
    const readAt = new Date();
    const state = await read();
    yield statsSample(state, memory, readAt, previous === undefined ? 0 : started - previous);
    previous = started;
    await sleep(Math.max(0, started + intervalMs - performance.now()), signal);
  }
}
