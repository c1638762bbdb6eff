/**
 * The commit engine: changes in order, one exchange per run of changes on the same socket (cut into
 * slices of about a megabyte so progress and cancellation have boundaries), one result per change,
 * and the failure policy.
 *
 * @module
 */
import type { HandleContext } from '../handle-context';
import type { NativeError } from '../native';
import type { Exchange } from '../netlink/connection';
import { NetlinkError } from '../netlink/errors';
import { messageSize, writeMessage } from '../netlink/message';
import { refusal } from '../netlink/operation';
import { decodeErrorReply, parseMessages } from '../netlink/header';
import type { MessageOutcome } from '../netlink/protocol';
import { NLMSG_ERROR } from '../uapi/netlink';
import type { BoundFamily, Change, FamilyDriver, FamilyKey, PackedMessage, UndoPlanner } from './change';

/** What happens at the first change the kernel refuses. @category Batch */
export type FailurePolicy = 'stop' | 'continue' | 'undo';

/** Options of {@link Batch.commit}. @category Batch */
export interface CommitOptions {
  /**
   * `'stop'` (default): send nothing after the chunk holding the first refusal. The kernel has
   * already processed the rest of that chunk (it does not stop inside one `sendmsg`), and the
   * results say exactly which of those changes were applied; `maxChunkMessages: 1` makes the stop
   * exact at the price of one round trip per change.
   * `'continue'`: send everything; each change succeeds or fails on its own.
   * `'undo'`: stop as `'stop'` does, then apply compensating changes, newest first, that restore
   * what the applied changes replaced (read before the commit). See {@link UndoOutcome}.
   */
  onError?: FailurePolicy;
  /** Called after every slice (about a megabyte of messages) with how far the commit is. */
  onProgress?: (progress: BatchProgress) => void;
  /**
   * Stops the commit at the next slice boundary; changes not sent are `skipped` with reason
   * `'aborted'`. With `'undo'`, what was applied is then undone. Everything sent is waited for, so
   * results stay exact.
   */
  signal?: AbortSignal;
  /** Upper bound on messages per `sendmsg` (the engine's pacing applies below it). */
  maxChunkMessages?: number;
  /** Give up when the kernel stays silent this long (ms). Default: the handle's (10 s). */
  timeoutMs?: number;
}

/** How far a commit is. @category Batch */
export interface BatchProgress {
  /** `read`: reading what undo may need; `commit`: the changes; `undo`: compensating changes. */
  phase: 'read' | 'commit' | 'undo';
  /** Changes of this phase whose fate is known. */
  done: number;
  /** Changes in this phase: the batch's changes (`read`, `commit`) or the compensating ones (`undo`). */
  total: number;
  /** Of those, refused by the kernel. */
  failed: number;
}

/**
 * `ok`: applied. `error`: refused (see `error`). `skipped`: not applied, and the kernel never saw
 * it (after a stop, an abort, a close of the handle, or a transport failure; see
 * {@link ChangeResult.reason}). `unknown`: sent, but the exchange broke off before the kernel
 * answered (handle closed, time-out, receive-buffer overflow): the kernel may or may not have
 * applied it; read the state back to know.
 * @category Batch
 */
export type ChangeStatus = 'ok' | 'error' | 'skipped' | 'unknown';

/**
 * Why a change is `skipped` or `unknown`:
 * - `'stopped'`: an earlier change was refused and `onError` is `'stop'` or `'undo'` (or, in an
 *   ipset bulk message, an earlier entry of the same message was refused: the kernel stops there);
 * - `'aborted'`: the commit's `signal` was aborted;
 * - `'closed'`: the handle was closed during the commit ({@link CommitResult.closed});
 * - `'timeout'`: the kernel did not answer within `timeoutMs` (`ETIMEDOUT`);
 * - `'overflow'`: the receive buffer overflowed and a reply was lost (`ENOBUFS`);
 * - `'transport'`: another failure of the exchange; {@link CommitResult.firstError} says which.
 * @category Batch
 */
export type SkipReason = 'stopped' | 'aborted' | 'closed' | 'timeout' | 'overflow' | 'transport';

/** What became of one change's undo. @category Batch */
export interface UndoOutcome {
  /**
   * `undone`: the compensating changes were applied (or were found unnecessary).
   * `failed`: one was refused (see `error`). `impossible`: undo had nothing to restore from (see `note`).
   */
  status: 'undone' | 'failed' | 'impossible';
  /** With `failed`: the refusal (or transport failure) of the compensating change. */
  error?: NetlinkError;
  /** What the undo does not restore (counters, connections, timeouts), or why it could not run. */
  note?: string;
}

/** The outcome of one change. @category Batch */
export interface ChangeResult {
  /** Its index in the batch (what the queueing method returned). */
  index: number;
  /** `'ipvs.addDestination'`. */
  op: string;
  /** Whether it was applied; see {@link ChangeStatus}. */
  status: ChangeStatus;
  /**
   * For `error`: the refusal, a NetlinkError carrying `op`, `index`, `errno`, `code` and the
   * kernel's own words (`extack`). For `unknown`: the transport failure that hid the outcome.
   */
  error?: NetlinkError;
  /** For `skipped` and `unknown`: why the change was not (or not known to be) applied. */
  reason?: SkipReason;
  /** With `onError: 'undo'`, for changes that were applied (or may have been). */
  undo?: UndoOutcome;
}

/** The outcome of a commit: one result per change, in batch order, and totals. @category Batch */
export interface CommitResult {
  /** Every change applied. */
  ok: boolean;
  /** One per change, in batch order (built when first read: cheap to skip on large commits). */
  results: ChangeResult[];
  /** Changes with status `ok`. */
  applied: number;
  /** Changes with status `error`: refused by the kernel, or found impossible before sending. */
  failed: number;
  /** Changes with status `skipped`: never sent. */
  skipped: number;
  /** Changes with status `unknown`: sent, fate unknown (read the state back). */
  unknown: number;
  /**
   * The first refusal (by index) or the failure that cut the commit short: a transport failure,
   * or the handle's close (`ECANCELED`, or `EBADF` when it was closed before anything was sent).
   * Undefined when the commit was complete or only the signal stopped it.
   */
  firstError: NetlinkError | undefined;
  /** The signal stopped the commit. */
  aborted: boolean;
  /**
   * The handle was closed before the commit was done: changes it kept from being sent are
   * `skipped`, those of the slice in flight that the kernel had not acknowledged are `unknown`
   * (both with reason `'closed'`), and undo, if asked for, could not run (`undo.status: 'failed'`).
   */
  closed: boolean;
  /**
   * With `onError: 'undo'` after a failure or abort: true when every applied change was undone.
   * Undefined when no undo ran.
   */
  undone: boolean | undefined;
}

/** About a megabyte per exchange: a few of the engine's chunks, and a boundary for progress and abort. */
const SLICE_BYTES = 1 << 20;

export type DriverTable = Readonly<Record<FamilyKey, FamilyDriver | undefined>>;

interface Ctx {
  handle: HandleContext;
  drivers: DriverTable;
  bound: Map<FamilyKey, BoundFamily>;
  options: CommitOptions;
}

function driverOf(drivers: DriverTable, key: FamilyKey): FamilyDriver {
  const d = drivers[key];
  if (!d) throw new Error(`batch: no driver for family ${key}`);
  return d;
}

/**
 * Commits `changes` in order and resolves with one result per change. Rejects only before
 * anything was sent: bad options, input only checkable at commit (TypeError/RangeError), or a
 * family the kernel cannot serve at all (no IPVS). A close of the handle, at any moment, resolves.
 */
export async function commitChanges(
  handle: HandleContext, drivers: DriverTable, changes: readonly Change[], options: CommitOptions = {},
): Promise<CommitResult> {
  const policy = options.onError ?? 'stop';
  if (policy !== 'stop' && policy !== 'continue' && policy !== 'undo') {
    throw new TypeError(`batch.commit: onError must be 'stop', 'continue' or 'undo', got ${String(policy)}`);
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new TypeError('batch.commit: onProgress must be a function');
  }
  const ctx: Ctx = { handle, drivers, bound: new Map(), options };
  const families = familiesOf(changes);
  // Nothing has been sent until `run`: a close here leaves every change skipped, anything else
  // (input checked at bind, a family the kernel lacks) rejects.
  const beforeSend = async <T>(step: () => Promise<T>): Promise<T | typeof CLOSED_BEFORE_SEND> => {
    if (handleClosed(ctx, changes)) return CLOSED_BEFORE_SEND;
    try {
      return await step();
    } catch (err) {
      if (handleClosed(ctx, changes)) return CLOSED_BEFORE_SEND;
      throw err;
    }
  };
  const notSent = () => {
    const t = new Tally(changes);
    t.reason.fill(R_CLOSED);
    return summarise(t, { aborted: false, closed: true, error: closedError('before anything was sent') });
  };
  for (const key of families) {
    const bound = await beforeSend(() => driverOf(drivers, key).bind(handle, ownChanges(changes, key, families)));
    if (bound === CLOSED_BEFORE_SEND) return notSent();
    ctx.bound.set(key, bound);
  }

  let planners: Map<FamilyKey, UndoPlanner> | undefined;
  if (policy === 'undo' && changes.length > 0) {
    options.onProgress?.({ phase: 'read', done: 0, total: changes.length, failed: 0 });
    planners = new Map();
    for (const [key, bound] of ctx.bound) {
      const own = ownChanges(changes, key, families);
      const planner = await beforeSend(() => driverOf(drivers, key).prepareUndo(handle, bound, own, options.signal));
      if (planner === CLOSED_BEFORE_SEND) return notSent();
      planners.set(key, planner);
    }
    options.onProgress?.({ phase: 'read', done: changes.length, total: changes.length, failed: 0 });
  }

  const r = await run(ctx, changes, policy === 'continue' ? 'continue' : 'stop', 'commit', options.signal);
  const summary = summarise(r.tally, r);
  if (policy === 'undo' && (summary.failed > 0 || summary.unknown > 0 || summary.aborted || summary.closed)) {
    const u = await undo(ctx, changes, r.tally, planners!);
    summary.undone = u.all;
    if (u.closed) summary.closed = true;
    summary.ok = false;
  }
  return summary;
}

const CLOSED_BEFORE_SEND = Symbol('closed before send');

/**
 * Whether the handle has been closed: its `connection` throws EBADF then (and only then; a
 * socket that cannot be opened throws its own errno). Probes the protocol the batch uses first,
 * which is open (or about to be) anyway.
 */
function handleClosed(ctx: Ctx, changes: readonly Change[]): boolean {
  const first = changes[0];
  if (!first) return false;
  try {
    ctx.handle.connection(driverOf(ctx.drivers, first.family).protocol);
    return false;
  } catch (err) {
    return err instanceof NetlinkError && err.code === 'EBADF';
  }
}

function closedError(when: string): NetlinkError {
  return when === 'before anything was sent'
    ? new NetlinkError({ code: 'EBADF', errno: -9, op: 'batch.commit', detail: `the handle was closed ${when}` })
    : new NetlinkError({ code: 'ECANCELED', errno: -125, op: 'batch.commit', syscall: 'close', detail: `the handle was closed ${when}` });
}

const SKIPPED = 0, OK = 1, ERROR = 2, UNKNOWN = 3;
const STATUS: readonly ChangeStatus[] = ['skipped', 'ok', 'error', 'unknown'];
const CODE: Record<ChangeStatus, number> = { skipped: SKIPPED, ok: OK, error: ERROR, unknown: UNKNOWN };
/** Reason codes, kept as a byte per change as the status is (0: none yet). */
const R_STOPPED = 1, R_ABORTED = 2, R_CLOSED = 3, R_TIMEOUT = 4, R_OVERFLOW = 5, R_TRANSPORT = 6;
const REASON: readonly (SkipReason | undefined)[] = [undefined, 'stopped', 'aborted', 'closed', 'timeout', 'overflow', 'transport'];

/** The reason code for a transport failure the engine reported. */
function reasonOf(e: NativeError | null, closed: boolean): number {
  if (closed || (e?.code === 'ECANCELED' && e.syscall === 'close')) return R_CLOSED;
  if (!e) return R_TRANSPORT;
  return e.code === 'ECANCELED' ? R_ABORTED : e.code === 'ETIMEDOUT' ? R_TIMEOUT : e.code === 'ENOBUFS' ? R_OVERFLOW : R_TRANSPORT;
}

/**
 * The fate of every change, kept as a status byte and a reason byte each: a commit of 100,000
 * changes builds its result objects only when `results` is read.
 */
class Tally {
  readonly status: Uint8Array;
  readonly reason: Uint8Array;
  readonly errors = new Map<number, NetlinkError>();
  readonly undo = new Map<number, UndoOutcome>();

  constructor(readonly changes: readonly Change[]) {
    this.status = new Uint8Array(changes.length);
    this.reason = new Uint8Array(changes.length);
  }

  set(i: number, status: number, error?: NetlinkError, reason = 0): void {
    this.status[i] = status;
    this.reason[i] = reason;
    if (error) this.errors.set(i, error);
    else if (this.errors.size > 0) this.errors.delete(i);
  }

  result(i: number): ChangeResult {
    const status = this.status[i]!;
    const r: ChangeResult = { index: i, op: this.changes[i]!.op, status: STATUS[status]! };
    const e = this.errors.get(i);
    if (e) r.error = e;
    if (status === SKIPPED || status === UNKNOWN) r.reason = REASON[this.reason[i]!] ?? 'stopped';
    const u = this.undo.get(i);
    if (u) r.undo = u;
    return r;
  }

  list(): ChangeResult[] {
    const out = new Array<ChangeResult>(this.status.length);
    for (let i = 0; i < out.length; i++) out[i] = this.result(i);
    return out;
  }
}

/** The changes of one family; the batch itself when it has no other (no copy of 50,000 slots). */
function ownChanges(changes: readonly Change[], key: FamilyKey, families: Set<FamilyKey>): readonly Change[] {
  return families.size === 1 ? changes : changes.filter((c) => c.family === key);
}

function familiesOf(changes: readonly Change[]): Set<FamilyKey> {
  const out = new Set<FamilyKey>();
  let last: FamilyKey | undefined;
  // indexed: a for-of run once over 50,000 slots is not optimised in time, and each step of the
  // unoptimised array iterator allocates a result object (2 MB of garbage)
  for (let i = 0; i < changes.length; i++) {
    const f = changes[i]!.family;
    if (f !== last) out.add(last = f);
  }
  return out;
}

/** How a run ended, besides the per-change tally. */
interface RunEnd {
  aborted: boolean;
  closed: boolean;
  /** The failure that cut it short (transport, close), for `firstError` when no change carries one. */
  error: NetlinkError | undefined;
}

function summarise(t: Tally, end: RunEnd): CommitResult {
  let applied = 0, failed = 0, skipped = 0, unknown = 0;
  let firstError: NetlinkError | undefined;
  const st = t.status;
  for (let i = 0; i < st.length; i++) {
    const s = st[i]!;
    if (s === OK) applied++;
    else {
      if (s === ERROR) failed++;
      else if (s === SKIPPED) skipped++;
      else unknown++;
      if (!firstError) firstError = t.errors.get(i);
    }
  }
  firstError ??= end.error;
  const out = {
    ok: applied === st.length, applied, failed, skipped, unknown, firstError, aborted: end.aborted, closed: end.closed, undone: undefined,
  } as unknown as CommitResult;
  let results: ChangeResult[] | undefined;
  Object.defineProperty(out, 'results', { enumerable: true, configurable: true, get: () => (results ??= t.list()) });
  return out;
}

/** A failure thrown mid-commit (a look-up before a slice, an exchange that could not start), as a NetlinkError. */
function asNetlinkError(err: unknown): NetlinkError {
  if (err instanceof NetlinkError) return err;
  const e = err as { code?: unknown; errno?: unknown; message?: unknown } | null;
  return new NetlinkError({
    code: typeof e?.code === 'string' ? e.code : 'EIO',
    errno: typeof e?.errno === 'number' ? e.errno : -5,
    op: 'batch.commit',
    detail: `the commit broke off: ${typeof e?.message === 'string' ? e.message : String(err)}`,
  });
}

/**
 * Sends changes in order; `stop` sends nothing more once a change was refused. Never rejects once
 * something may have been sent: a close of the handle, a transport failure or a failed look-up
 * ends the run, and every change not sent is `skipped` with the reason.
 */
async function run(
  ctx: Ctx, changes: readonly Change[], policy: 'stop' | 'continue', phase: 'commit' | 'undo', signal: AbortSignal | undefined,
): Promise<RunEnd & { tally: Tally }> {
  const t = new Tally(changes);
  const slice = new Slice();
  const { options } = ctx;
  let done = 0, failed = 0, aborted = false;
  /** Why the loop ended early (a reason code), and the failure behind it. */
  let stop = R_STOPPED;
  let stopError: NetlinkError | undefined;
  /** Whether anything may have reached the kernel (or a change's fate was recorded) in this run. */
  let started = false;
  const closedAt = (i: number) => {
    stop = R_CLOSED;
    stopError = closedError(`during the commit: changes from index ${i} on were not sent`);
  };
  /**
   * A failure before anything of the slice at `i` was sent: a close, or one that rejects a commit
   * that sent nothing yet (thrown), or one that ends the run for the transport's sake.
   */
  const failedBeforeSend = (i: number, err: unknown) => {
    if (handleClosed(ctx, changes)) closedAt(i);
    else if (!started && phase === 'commit') throw err;
    else {
      stop = R_TRANSPORT;
      stopError = asNetlinkError(err);
    }
  };
  for (let i = 0; i < changes.length;) {
    if (signal?.aborted) {
      aborted = true;
      stop = R_ABORTED;
      break;
    }
    if (handleClosed(ctx, changes)) {
      closedAt(i);
      break;
    }
    try {
      await ctx.bound.get(changes[i]!.family)!.beforeSlice?.(changes, i);
    } catch (err) {
      failedBeforeSend(i, err);
      break;
    }
    // its look-ups may have been cut short by a close: their verdicts do not count then
    if (handleClosed(ctx, changes)) {
      closedAt(i);
      break;
    }
    // Changes a driver found impossible at commit fail without being sent.
    const pre = changes[i]!.failed;
    if (pre) {
      t.set(i, ERROR, pre);
      failed++;
      started = true;
      i++;
      if (policy === 'stop') break;
      continue;
    }
    planSlice(ctx, changes, i, policy, slice);
    const driver = driverOf(ctx.drivers, changes[i]!.family);
    let firstSeq = 0;
    let ex: Exchange;
    try {
      const conn = ctx.handle.connection(driver.protocol);
      ex = await conn.exchangeEncoded(slice.count, (seq) => {
        firstSeq = seq;
        return writeSlice(ctx, changes, slice, seq);
      }, {
        ...ctx.handle.exchangeOptions,
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
        ...(options.maxChunkMessages !== undefined && { maxChunkMessages: options.maxChunkMessages }),
        stopOnError: policy === 'stop',
        lean: true,
      });
    } catch (err) {
      // Refused before the engine sent anything of this slice: closed while it waited its turn
      // on the socket, or a failure that is not the kernel's (those reject only a fresh commit).
      failedBeforeSend(i, err);
      break;
    }
    started = true;
    const unknownReason = ex.error ? reasonOf(ex.error, handleClosed(ctx, changes)) : R_TRANSPORT;
    const errors = refusals(ex.replies);
    let refused = false;
    let resumeAt = -1;
    let off = 0;
    for (let m = 0; m < slice.count; m++) {
      const first = slice.first[m]!;
      const end = off + slice.sizes[m]!;
      off = end;
      const refusedWith = errors.size > 0 ? errors.get((firstSeq + m) >>> 0) : undefined;
      const packed = slice.packed?.[m];
      // the common case, without an outcome object: a message acknowledged with the rest of its chunk
      if (!refusedWith && !packed && end <= ex.doneBytes) {
        t.status[first] = OK;
        continue;
      }
      const outcome: MessageOutcome = refusedWith
        ?? { seq: (firstSeq + m) >>> 0, status: end <= ex.doneBytes ? 'ok' : 'unknown', errno: 0, replies: [], interrupted: false };
      const sent = end <= ex.sentBytes;
      if (packed) {
        if (outcome.status === 'unknown') {
          if (sent) for (let k = 0; k < packed.count; k++) t.set(first + k, UNKNOWN, transportError(ex.error, changes[first + k]!.op, first + k), unknownReason);
          continue;
        }
        if (outcome.status === 'ok') {
          // every change it carries applied: no verdict per change
          if (t.errors.size > 0) for (let k = 0; k < packed.count; k++) t.set(first + k, OK);
          else t.status.fill(OK, first, first + packed.count);
          continue;
        }
        const verdicts = ctx.bound.get(changes[first]!.family)!.unpack!(packed, changes, outcome, ex.replies);
        verdicts.forEach((v, k) => {
          // not applied after a refused entry: the kernel stops a bulk message there
          t.set(first + k, CODE[v.status], v.error, v.status === 'unknown' ? unknownReason : v.status === 'skipped' ? R_STOPPED : 0);
          if (v.status === 'error') { failed++; refused = true; }
          // With `continue`, sent again in the next slice.
          if (v.status === 'skipped' && policy === 'continue' && resumeAt < 0) resumeAt = first + k;
        });
        continue;
      }
      // one change per message, not acknowledged (handled above): refused, or its outcome unknown
      if (outcome.status === 'error') {
        const c = changes[first]!;
        const op = c.generic ?? ctx.bound.get(c.family)!.operation(c, first, changes);
        t.set(first, ERROR, refusal(op, outcome, first, ex.replies));
        failed++;
        refused = true;
      } else if (sent) {
        t.set(first, UNKNOWN, transportError(ex.error, changes[first]!.op, first), unknownReason);
      }
    }
    i = resumeAt > i ? resumeAt : slice.end;
    done = i;
    if (ex.error) {
      // The transport broke off (close, time-out, overflow): what the kernel did with the rest is unknown.
      stop = unknownReason;
      stopError = stop === R_CLOSED
        ? closedError(`during the commit, while changes ${slice.first[0]}..${slice.end - 1} were in flight`)
        : transportError(ex.error, phase === 'commit' ? 'batch.commit' : 'batch.undo', undefined);
      options.onProgress?.({ phase, done, total: changes.length, failed });
      break;
    }
    // after the tally is complete: a close from here on leaves this slice's results intact
    options.onProgress?.({ phase, done, total: changes.length, failed });
    if (refused && policy === 'stop') break;
  }
  // every change never sent is skipped, for the reason the run ended
  const st = t.status, rs = t.reason;
  for (let i = 0; i < st.length; i++) if (st[i] === SKIPPED && rs[i] === 0) rs[i] = stop;
  return { tally: t, aborted, closed: stop === R_CLOSED, error: stopError };
}

function transportError(e: { code: string; errno: number; syscall: string } | null, op: string, index: number | undefined): NetlinkError {
  const err = e ?? { code: 'ECANCELED', errno: -125, syscall: 'transact' };
  return new NetlinkError({ code: err.code, errno: err.errno, op, syscall: err.syscall, ...(index !== undefined && { index }) });
}

/**
 * The messages of a slice: per message its first change, its size, and the packed form when the
 * family packs. One per commit, refilled slice after slice (typed arrays rather than three arrays
 * of tens of thousands of boxed entries per slice).
 */
class Slice {
  /** Exclusive end, in changes. */
  end = 0;
  count = 0;
  first = new Int32Array(256);
  sizes = new Int32Array(256);
  /** Only packed messages have an entry; null while none has. */
  packed: PackedMessage[] | null = null;

  reset(start: number): void {
    this.end = start;
    this.count = 0;
    this.packed = null;
  }

  add(first: number, size: number, packed?: PackedMessage): void {
    const m = this.count++;
    if (m === this.first.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.first = grow(this.first);
      this.sizes = grow(this.sizes);
    }
    this.first[m] = first;
    this.sizes[m] = size;
    if (packed) (this.packed ??= [])[m] = packed;
  }
}

/**
 * Fills `slice` with consecutive changes on one socket, up to about SLICE_BYTES. With `continue`,
 * a packed message (an ipset bulk) ends its slice: the kernel stops inside one at a refused entry,
 * and the entries after it are sent again, still before anything that follows them.
 */
function planSlice(ctx: Ctx, changes: readonly Change[], start: number, policy: 'stop' | 'continue', slice: Slice): void {
  const protocol = driverOf(ctx.drivers, changes[start]!.family).protocol;
  slice.reset(start);
  let bytes = 0;
  let i = start;
  while (i < changes.length && bytes < SLICE_BYTES) {
    const c = changes[i]!;
    if (c.family !== changes[start]!.family && driverOf(ctx.drivers, c.family).protocol !== protocol) break;
    const bound = ctx.bound.get(c.family)!;
    if (i > start && (c.failed || (bound.ready && !bound.ready(c, start)))) break;
    const msgs = bound.pack?.(changes, i, changes.length);
    if (msgs && msgs.length > 0) {
      for (const p of msgs) {
        slice.add(p.first, p.size, p);
        bytes += p.size;
        i = p.first + p.count;
        if (policy === 'continue' || bytes >= SLICE_BYTES) break;
      }
      if (policy === 'continue') break;
      continue;
    }
    let size: number;
    if (c.fast) size = c.fast.size;
    else {
      const m = c.generic!.message;
      m.type = bound.fixType(m);
      size = messageSize(m);
    }
    slice.add(i, size);
    bytes += size;
    i++;
  }
  slice.end = i;
}

/**
 * One encoding buffer reused by every slice: fresh memory costs a page fault per 4 KiB, which is
 * what dominates in a VM. Safe to share: the engine copies a request when it is handed over, and
 * lean exchanges do not read it again.
 */
let pool: Buffer | undefined;
const POOL_MAX = 8 << 20;

function scratch(n: number): Buffer {
  if (n > POOL_MAX) return Buffer.allocUnsafe(n);
  if (!pool || pool.length < n) pool = Buffer.allocUnsafe(Math.max(n, SLICE_BYTES + (64 << 10)));
  return pool.subarray(0, n);
}

/** Refused messages of an exchange by seq (acknowledgements say nothing more than the done prefix). */
function refusals(replies: Buffer): Map<number, MessageOutcome> {
  const out = new Map<number, MessageOutcome>();
  for (const r of parseMessages(replies, 0, replies.length, 'reply')) {
    if (r.type !== NLMSG_ERROR) continue;
    const e = decodeErrorReply(replies, r);
    if (e.errno === 0) continue;
    out.set(r.seq, { seq: r.seq, status: 'error', errno: e.errno, ...(e.extack && { extack: e.extack }), replies: [], interrupted: false, errorReply: r });
  }
  return out;
}

function writeSlice(ctx: Ctx, changes: readonly Change[], slice: Slice, firstSeq: number): Buffer {
  let total = 0;
  for (let m = 0; m < slice.count; m++) total += slice.sizes[m]!;
  const buf = scratch(total);
  let off = 0;
  for (let m = 0; m < slice.count; m++) {
    const size = slice.sizes[m]!;
    const seq = (firstSeq + m) >>> 0;
    const p = slice.packed?.[m];
    const c = changes[slice.first[m]!]!;
    if (p) p.write(buf, off, seq);
    else if (c.fast) c.fast.write(buf, off, seq, ctx.bound.get(c.family)!);
    else writeMessage(buf, off, c.generic!.message, size, seq);
    off += size;
  }
  return buf;
}

// ---- undo -----------------------------------------------------------------------------------------

/**
 * Applies the compensations of every change that was (or may have been) applied; `all` says
 * whether each was undone, `closed` that the handle's close kept some from being sent.
 */
async function undo(ctx: Ctx, changes: readonly Change[], t: Tally, planners: Map<FamilyKey, UndoPlanner>): Promise<{ all: boolean; closed: boolean }> {
  // Compensations per family, derived by replaying that family's applied changes in order.
  const maybeApplied: number[] = [];
  for (let i = 0; i < t.status.length; i++) if (t.status[i] === OK || t.status[i] === UNKNOWN) maybeApplied.push(i);
  const byIndex = new Map<number, ReturnType<UndoPlanner['compensate']>[number]>();
  for (const [key, planner] of planners) {
    const own = maybeApplied.filter((i) => changes[i]!.family === key);
    const comps = planner.compensate(own.map((i) => changes[i]!), own);
    own.forEach((i, k) => byIndex.set(i, comps[k]!));
  }
  // Newest first; each change's own compensations in the order given.
  const plan: Change[] = [];
  const owner: number[] = [];
  for (let k = maybeApplied.length - 1; k >= 0; k--) {
    const i = maybeApplied[k]!;
    const comp = byIndex.get(i)!;
    if (comp.changes === null) {
      t.undo.set(i, { status: 'impossible', note: comp.reason });
      continue;
    }
    t.undo.set(i, { status: 'undone', ...(comp.note !== undefined && { note: comp.note }) });
    for (const c of comp.changes) {
      plan.push(c);
      owner.push(i);
    }
  }
  const undoCtx: Ctx = { ...ctx, bound: new Map(), options: { ...ctx.options } };
  const planFamilies = familiesOf(plan);
  try {
    for (const key of planFamilies) {
      undoCtx.bound.set(key, await driverOf(ctx.drivers, key).bind(ctx.handle, ownChanges(plan, key, planFamilies)));
    }
  } catch (err) {
    // nothing of the undo was sent (the handle was closed, or a family could not be reached)
    const closed = handleClosed(ctx, plan);
    const error = closed ? closedError('before undo could run') : asNetlinkError(err);
    for (const i of new Set(owner)) {
      const prior = t.undo.get(i)!;
      if (prior.status === 'undone') t.undo.set(i, { status: 'failed', error, ...(prior.note !== undefined && { note: prior.note }) });
    }
    return { all: false, closed };
  }
  const r = await run(undoCtx, plan, 'continue', 'undo', undefined);
  let all = maybeApplied.every((i) => t.undo.get(i)!.status === 'undone');
  for (let k = 0; k < plan.length; k++) {
    const status = r.tally.status[k];
    if (status === OK) continue;
    const error = r.tally.errors.get(k) ?? r.error;
    if (status === ERROR && error && driverOf(ctx.drivers, plan[k]!.family).harmlessUndoError(plan[k]!, error.code)) continue;
    const i = owner[k]!;
    const prior = t.undo.get(i)!;
    if (prior.status === 'undone') {
      t.undo.set(i, { status: 'failed', ...(error && { error }), ...(prior.note !== undefined && { note: prior.note }) });
    }
    all = false;
  }
  return { all, closed: r.closed };
}
