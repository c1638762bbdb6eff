import type { Connection, Exchange, ExchangeOptions } from './connection';
import type { OutMessage } from './message';
import type { MessageOutcome } from './protocol';
import { NetlinkError, errnoName } from './errors';

/**
 * One change or query, ready to travel in a batch: its message, how to explain a refusal in the
 * user's terms, and how to turn the kernel's replies into a result.
 */
export interface Operation<T = void> {
  /** Facade name: `'ipvs.addService'`. */
  op: string;
  message: OutMessage;
  /** Per-operation meaning of an error code (ESRCH on a destination call means "no such service"). */
  explain?: (code: string) => string | undefined;
  /** Turns the replies into a result (for GETs and dumps). */
  decode?: (replies: Buffer, outcome: MessageOutcome) => T;
  /**
   * Builds the error for a refusal itself, for families whose errors carry more than an errno
   * (ipset's own codes, the failing entry of a bulk add). Absent: {@link refusal}'s default.
   */
  refuse?: (replies: Buffer, outcome: MessageOutcome, index: number | undefined) => NetlinkError;
}

/** What became of one operation of a batch. @category Batch */
export type OperationResult<T = unknown> =
  | {
      /** The kernel acknowledged it. */
      status: 'ok';
      /** What it returned (undefined for changes). */
      value: T;
    }
  | {
      /** The kernel refused it. */
      status: 'error';
      /** The refusal: its `code` says why (`'EEXIST'`, `'ESRCH'`, ...). */
      error: NetlinkError;
    }
  | {
      /** The exchange stopped before the kernel was known to have processed it: read the state back to find out. */
      status: 'unknown';
      /** Why the exchange stopped (`'ETIMEDOUT'`, `'ECANCELED'`, `'ENOBUFS'`, ...). */
      error: NetlinkError;
    };

/** The error for a refused operation, with the per-operation explanation. */
export function refusal(o: Operation<unknown>, outcome: MessageOutcome, index?: number, replies?: Buffer): NetlinkError {
  if (o.refuse && replies) return o.refuse(replies, outcome, index);
  const code = errnoName(outcome.errno);
  const detail = o.explain?.(code);
  return new NetlinkError({
    code, errno: outcome.errno, op: o.op,
    ...(index !== undefined && { index }),
    ...(outcome.extack && { extack: outcome.extack }),
    ...(detail && { detail }),
  });
}

/**
 * Sends operations in one exchange (one buffer, paced by the native engine) and returns one
 * result per operation, in order. Not atomic: the kernel applies each message on its own.
 */
export async function runOperations(
  conn: Connection,
  ops: readonly Operation<unknown>[],
  options: ExchangeOptions & { indexBase?: number } = {},
): Promise<OperationResult[]> {
  const ex = await conn.exchange(ops.map((o) => o.message), options);
  const base = options.indexBase;
  // With `borrowReplies`, the buffer goes back once every result is decoded (they keep nothing of it).
  try {
    return results(ops, ex, base);
  } finally {
    ex.release?.();
  }
}

function results(ops: readonly Operation<unknown>[], ex: Exchange, base: number | undefined): OperationResult[] {
  return ops.map((o, i): OperationResult => {
    const outcome = ex.outcomes[i]!;
    const index = base === undefined ? undefined : base + i;
    if (outcome.status === 'error') return { status: 'error', error: refusal(o, outcome, index, ex.replies) };
    if (outcome.status === 'unknown') {
      const e = ex.error ?? { code: 'ECANCELED', errno: -125, syscall: 'transact' };
      return {
        status: 'unknown',
        error: new NetlinkError({ code: e.code, errno: e.errno, op: o.op, syscall: e.syscall, ...(index !== undefined && { index }) }),
      };
    }
    if (outcome.interrupted) {
      return {
        status: 'error',
        error: new NetlinkError({
          code: 'EDUMPINTR', errno: -4, op: o.op, ...(index !== undefined && { index }),
          detail: 'the kernel state changed during the dump (NLM_F_DUMP_INTR); read it again',
        }),
      };
    }
    try {
      return { status: 'ok', value: o.decode ? o.decode(ex.replies, outcome) : undefined };
    } catch (err) {
      return { status: 'error', error: err as NetlinkError };
    }
  });
}

/** Runs one operation and returns its value, or throws its error. Retries interrupted dumps. */
export async function runOne<T>(conn: Connection, o: Operation<T>, options: ExchangeOptions = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const [r] = await runOperations(conn, [o as Operation<unknown>], options);
    if (r!.status === 'ok') return r!.value as T;
    if (r!.error.code === 'EDUMPINTR' && attempt < 3) continue;
    throw r!.error;
  }
}
