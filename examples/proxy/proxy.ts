/**
 * The proxy's loop: load the config (keeping the last good one when a new one is bad), turn it
 * into the desired data plane, and sync that into the kernel whenever something may have drifted:
 *
 * - the config file changed (fs.watch on its folder, so editors that replace the file work, and a
 *   stat on every periodic tick, for file systems where watching is unreliable);
 * - an address the proxy keeps disappeared from its link (address events, when the data plane
 *   offers them: the repair comes at once instead of at the next tick);
 * - the periodic tick (`syncPeriodMs`): IPVS has no change notifications, so a service deleted
 *   with ipvsadm is put back on the next tick;
 * - destinations are draining: a short follow-up, until they are gone.
 *
 * One sync runs at a time; requests arriving meanwhile are merged into the next one. Each sync
 * logs exactly one line. Stopping (SIGTERM) leaves the data plane as it is.
 */
import { promises as fsp, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigError, parseConfig, type ProxyConfig } from './config';
import { desiredPlane, planSize, type DesiredPlane } from './desired';
import type { Metrics, ObjectKind } from './metrics';

/** What one sync did, as the data plane reports it. */
export interface SyncReport {
  /** Changes applied, by kind: `service+`, `destination~`, `address-`, `ipset_entry+`, ... */
  changes: Record<string, number>;
  /** Destinations at weight 0 still waiting for connections to end. */
  draining: number;
  /** What the proxy keeps in the kernel after the sync. */
  objects: Record<ObjectKind, number>;
}

/** The kernel side: implemented over the library in dataplane.ts, by a fake in the unit tests. */
export interface Dataplane {
  /** Makes the kernel match `plane` (creating what is missing, draining and deleting what is not wanted). */
  sync(plane: DesiredPlane): Promise<SyncReport>;
  /** Calls `onDrift` when something the proxy keeps changed behind its back; returns a stop function. */
  watch?(onDrift: (why: string) => void): () => void;
  /** Once before the first sync: the kernel settings the proxy needs (IPVS sysctls); resolves with a log line. */
  prepare?(): Promise<string>;
}

export interface ProxyOptions {
  configPath: string;
  dataplane: Dataplane;
  metrics: Metrics;
  /** One line, no newline. */
  log: (line: string) => void;
  /** Full resync period. Default 30 s. */
  syncPeriodMs?: number;
  /** Follow-up while destinations drain. Default 1 s. */
  drainPollMs?: number;
  /** Quiet time before a requested sync starts, merging bursts (an editor's several writes). Default 50 ms. */
  debounceMs?: number;
  /** A config check beyond the file's own: return a ConfigError to refuse it (e.g. an IP outside the owned ranges). */
  validate?: (config: ProxyConfig, file: string) => void;
}

export class Proxy {
  private plane: DesiredPlane | null = null;
  private loadedAt = '';
  private fileStamp = '';
  /** Reasons for the next sync, with when each is due. */
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private periodic: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private watcher: FSWatcher | null = null;
  private reloadTimer: NodeJS.Timeout | null = null;
  private stopWatch: (() => void) | null = null;
  private stopped = false;
  private syncs = 0;
  private failures = 0;
  private readonly o: Required<Omit<ProxyOptions, 'validate'>> & Pick<ProxyOptions, 'validate'>;

  constructor(options: ProxyOptions) {
    this.o = { syncPeriodMs: 30_000, drainPollMs: 1000, debounceMs: 50, ...options };
  }

  /** The plane in force (from the last good config), or null before any good config. */
  get desired(): DesiredPlane | null {
    return this.plane;
  }

  /** Loads the config, starts watching and syncs once. Resolves after that first sync (or config error). */
  async start(): Promise<void> {
    if (this.o.dataplane.prepare) {
      try {
        this.o.log(await this.o.dataplane.prepare());
      } catch (e) {
        this.o.log(`sysctl: could not set the IPVS sysctls (${(e as Error).message}); going on without them`);
      }
    }
    await this.reload('start');
    const dir = dirname(this.o.configPath);
    const name = basename(this.o.configPath);
    try {
      // Editors and config tools write in steps (truncate, write, rename): reload once they are quiet.
      this.watcher = watch(dir, (_event, file) => {
        if (file !== null && file.toString() !== name) return;
        if (this.reloadTimer) clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => {
          this.reloadTimer = null;
          void this.reload('config changed');
        }, this.o.debounceMs);
      });
      this.watcher.on('error', (e) => this.o.log(`config: watching ${dir} failed (${e.message}); relying on the periodic check`));
    } catch (e) {
      this.o.log(`config: cannot watch ${dir} (${(e as Error).message}); relying on the periodic check`);
    }
    this.stopWatch = this.o.dataplane.watch?.((why) => this.request(why)) ?? null;
    this.periodic = setInterval(() => {
      void this.reload('config changed').then(() => this.request('periodic'));
    }, this.o.syncPeriodMs);
    this.request('start');
    await this.idle();
  }

  /** Stops watching and syncing; the data plane stays as it is. Waits for a sync in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.stopWatch?.();
    if (this.timer) clearTimeout(this.timer);
    if (this.periodic) clearInterval(this.periodic);
    await this.running;
  }

  /** Resolves when no sync is running or due within the debounce time (a drain poll or retry later does not count). */
  async idle(): Promise<void> {
    while (this.running || (this.timer && this.timerDue - Date.now() <= this.o.debounceMs)) {
      await (this.running ?? new Promise((r) => setTimeout(r, this.o.debounceMs)));
    }
  }

  /** Asks for a sync within `delayMs`; `why` appears in its log line. Requests merge: the earliest wins. */
  request(why: string, delayMs = this.o.debounceMs): void {
    if (this.stopped) return;
    const due = Date.now() + delayMs;
    this.pending.set(why, Math.min(this.pending.get(why) ?? Infinity, due));
    this.schedule();
  }

  /** Arms the timer for the earliest pending request, unless a sync is running (it re-arms when done). */
  private schedule(): void {
    if (this.running || this.stopped || this.pending.size === 0) return;
    const due = Math.min(...this.pending.values());
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.syncNow().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, Math.max(0, due - Date.now()));
  }

  /** Re-reads the config if the file changed; a bad file is logged and the last good plane stays. */
  private async reload(why: string): Promise<void> {
    let text: string;
    let stamp: string;
    try {
      const st = await fsp.stat(this.o.configPath);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (stamp === this.fileStamp) return;
      text = await fsp.readFile(this.o.configPath, 'utf8');
    } catch (e) {
      const msg = `config: cannot read ${this.o.configPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      if (this.fileStamp !== 'missing') this.refuse(msg);
      this.fileStamp = 'missing';
      return;
    }
    this.fileStamp = stamp;
    let plane: DesiredPlane;
    try {
      const config = parseConfig(text, this.o.configPath);
      this.o.validate?.(config, this.o.configPath);
      plane = desiredPlane(config);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      this.refuse(`config: ${e.message}`);
      return;
    }
    this.o.metrics.recordReload(true);
    const same = this.plane !== null && JSON.stringify(plane) === JSON.stringify(this.plane);
    this.plane = plane;
    this.loadedAt = new Date().toISOString();
    if (!same) {
      const n = planSize(plane);
      this.o.log(`config: loaded ${this.o.configPath}: ${n.services} services, ${n.destinations} ready endpoints, ${n.addresses} addresses`);
      if (why !== 'start') this.request(why);
    }
  }

  private refuse(msg: string): void {
    this.o.metrics.recordReload(false);
    this.o.log(`${msg}; ${this.plane ? `keeping the config loaded at ${this.loadedAt}` : 'nothing loaded yet, the data plane is left alone'}`);
  }

  private async syncNow(): Promise<void> {
    // A sync is a full sync: it serves every pending reason, even those due later.
    const reasons = [...this.pending.keys()].join(', ');
    this.pending.clear();
    if (!this.plane) return;
    const n = ++this.syncs;
    const t0 = process.hrtime.bigint();
    const secs = () => Number(process.hrtime.bigint() - t0) / 1e9;
    try {
      const r = await this.o.dataplane.sync(this.plane);
      const s = secs();
      this.failures = 0;
      this.o.metrics.recordSync(true, s, r.changes);
      this.o.metrics.setObjects(r.objects, r.draining);
      this.o.log(`sync ${n} (${reasons}): ${(s * 1000).toFixed(1)} ms, ${describeChanges(r)}`);
      if (r.draining > 0) this.request('draining', this.o.drainPollMs);
    } catch (e) {
      const s = secs();
      this.failures++;
      const partial = e instanceof SyncError ? e.changes : {};
      this.o.metrics.recordSync(false, s, partial);
      const applied = Object.values(partial).some((n) => n > 0) ? ` (applied before it: ${describeChanges({ changes: partial, draining: 0, objects: NO_OBJECTS })})` : '';
      const retry = Math.min(this.o.syncPeriodMs, 500 * 2 ** Math.min(this.failures, 6));
      this.o.log(`sync ${n} (${reasons}): FAILED after ${(s * 1000).toFixed(1)} ms: ${(e as Error).message}${applied}; retrying in ${(retry / 1000).toFixed(1)} s`);
      this.request('retry', retry);
    }
  }
}

const NO_OBJECTS: Record<ObjectKind, number> = { service: 0, destination: 0, address: 0, ipset_entry: 0 };

/** A sync that failed part way: what it had changed before the failure, for the log and metrics. */
export class SyncError extends Error {
  constructor(
    message: string,
    readonly changes: Record<string, number>,
  ) {
    super(message);
    this.name = 'SyncError';
  }
}

const KIND_LABEL: Record<string, string> = { service: 'services', destination: 'destinations', address: 'addresses', ipset_entry: 'ipset entries', ipset: 'ipsets', link: 'links' };

/** `services +1, destinations +2 ~1 -1 (1 draining), addresses +1` or `no changes`. */
export function describeChanges(r: SyncReport): string {
  const byKind = new Map<string, string[]>();
  for (const [key, count] of Object.entries(r.changes)) {
    if (!count) continue;
    const kind = key.slice(0, -1);
    const op = key.slice(-1);
    const list = byKind.get(kind) ?? [];
    list.push(`${op}${count}`);
    byKind.set(kind, list);
  }
  const order = ['link', 'service', 'destination', 'address', 'ipset', 'ipset_entry'];
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  const parts = [...byKind]
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([k, ops]) => `${KIND_LABEL[k] ?? k} ${ops.sort((x, y) => '+~-'.indexOf(x[0]!) - '+~-'.indexOf(y[0]!)).join(' ')}`);
  const text = parts.length ? parts.join(', ') : 'no changes';
  return r.draining ? `${text} (${r.draining} draining)` : text;
}
