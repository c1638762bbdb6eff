import { native, NETLINK_NETFILTER, type NativeError, type NativeSocket, type OpenOptions } from '../native';
import { encodeMessages, type OutMessage } from './message';
import { matchReplies, type MessageOutcome } from './protocol';
import { NetlinkError } from './errors';

/** Options of one exchange with the kernel. */
export interface ExchangeOptions {
  /** Give up when the kernel is silent this long (ms). Default 10 s. */
  timeoutMs?: number;
  /** Send no further chunks once a message has been refused. */
  stopOnError?: boolean;
  /** Upper bound on messages per sendmsg. */
  maxChunkMessages?: number;
  /** Cancels promptly, even while waiting for a chunk's replies; messages whose fate is unknown say so. */
  signal?: AbortSignal;
  /**
   * Leave `outcomes` empty: the caller matches `replies` itself (a large batch, where most messages
   * draw no reply of their own). The request is then not read after it was handed to the engine,
   * so its buffer may be reused at once.
   */
  lean?: boolean;
  /**
   * Receive into the connection's reusable reply buffer instead of a new one (replies that do not
   * fit it still arrive, in a new buffer). The caller must be done with `replies` before it calls
   * {@link Exchange.release}, and must call it to let the next exchange reuse the buffer. For
   * large dumps read once and decoded at once: fresh memory costs a page fault per 4 KiB, which
   * inside a VM cost more than the kernel's work for 20 MB of destination dumps.
   */
  borrowReplies?: boolean;
}

/** The request, the raw replies, and one outcome per request message. */
export interface Exchange {
  request: Buffer;
  replies: Buffer;
  outcomes: MessageOutcome[];
  /** Bytes of the request handed to the kernel: messages past it were never sent. */
  sentBytes: number;
  /** Length of the request prefix known to be fully processed (acknowledged or dump done). */
  doneBytes: number;
  /** A transport failure that cut the exchange short (time-out, cancellation, overflow). */
  error: NativeError | null;
  /** With `borrowReplies`: hands the reply buffer back; `replies` must not be read afterwards. */
  release?: () => void;
}

/**
 * Reply buffers lent to exchanges with `borrowReplies`, shared by every connection of the process
 * (a handle opened per task would otherwise fault a fresh one in each time); at most two are kept.
 */
const REPLY_POOL_BYTES = 4 << 20;
const REPLY_POOL_KEEP = 2;
const replyPool: Buffer[] = [];

/** Opens a socket, turning the addon's system error into a NetlinkError in the user's terms. */
function openSocket(protocol: number, options: OpenOptions): NativeSocket {
  try {
    return native().open(protocol, options);
  } catch (err) {
    const e = err as Partial<NativeError> & Error;
    if (typeof e.code !== 'string' || typeof e.errno !== 'number') throw err;
    const netns = options.netns;
    const detail = e.code === 'ENOENT' && netns ? `network namespace ${netns} does not exist`
      : e.code === 'EINVAL' && netns ? `${netns} is not a network namespace`
        : e.code === 'EPERM' || e.code === 'EACCES' ? 'not permitted: entering a namespace or opening netlink needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)'
          : e.code === 'EPROTONOSUPPORT' && protocol === NETLINK_NETFILTER ? 'the kernel has no nfnetlink (NETLINK_NETFILTER), which ipset needs: load the nfnetlink and ip_set modules (modprobe ip_set)'
            : e.message;
    throw new NetlinkError({ code: e.code, errno: e.errno, op: 'netlink.open', syscall: e.syscall ?? 'open', detail });
  }
}

let seqBase = (Date.now() & 0x3fffffff) >>> 0;

/**
 * One netlink socket of one protocol in one network namespace, with its sequence numbers.
 * Exchanges are queued: the kernel serves one dump per socket at a time.
 */
export class Connection {
  private sock: NativeSocket | null;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly protocol: number,
    openOptions: OpenOptions,
  ) {
    this.sock = openSocket(protocol, openOptions);
  }

  /** Encodes `msgs` into one buffer, sends it through the native engine, matches the replies. */
  exchange(msgs: readonly OutMessage[], options: ExchangeOptions = {}): Promise<Exchange> {
    return this.exchangeEncoded(msgs.length, (firstSeq) => encodeMessages(msgs, firstSeq), options);
  }

  /**
   * Like {@link exchange}, for a caller that encodes the request itself (a batch's fast paths):
   * `encode(firstSeq)` must return exactly `count` messages numbered `firstSeq`, `firstSeq + 1`, ...
   * It runs when the exchange's turn on this socket comes.
   */
  exchangeEncoded(count: number, encode: (firstSeq: number) => Buffer, options: ExchangeOptions = {}): Promise<Exchange> {
    const run = this.tail.then(() => this.run(count, encode, options));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async run(count: number, encode: (firstSeq: number) => Buffer, options: ExchangeOptions): Promise<Exchange> {
    if (this.closed) {
      throw new NetlinkError({ code: 'EBADF', errno: -9, op: 'netlink', detail: 'the handle is closed' });
    }
    const binding = native();
    // The engine drains what a cancelled or timed-out exchange left queued, so the socket stays usable.
    const sock = this.sock!;
    const first = seqBase;
    seqBase = (seqBase + count + 1) >>> 0;
    if (seqBase < first) seqBase = 1;
    const request = encode(first);
    const onAbort = () => binding.cancel(sock);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (options.signal?.aborted) {
        return { request, replies: Buffer.alloc(0), outcomes: options.lean ? [] : matchReplies(request, Buffer.alloc(0), 0), sentBytes: 0, doneBytes: 0, error: { code: 'ECANCELED', errno: -125, syscall: 'transact' } };
      }
      let into: Buffer | undefined;
      if (options.borrowReplies) into = replyPool.pop() ?? Buffer.allocUnsafeSlow(REPLY_POOL_BYTES);
      const r = await binding.transact(sock, request, {
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
        ...(options.maxChunkMessages !== undefined && { maxChunkMessages: options.maxChunkMessages }),
        stopOnError: options.stopOnError ?? false,
        ...(into && { into }),
      });
      const replies = r.replies ?? into!.subarray(0, r.repliesLength);
      const outcomes = options.lean ? [] : matchReplies(request, replies, r.doneBytes);
      if (r.dumpInterrupted && !outcomes.some((o) => o.interrupted)) outcomes.forEach((o) => { o.interrupted = true; });
      const ex: Exchange = { request, replies, outcomes, sentBytes: r.sentBytes, doneBytes: r.doneBytes, error: r.error };
      if (into) {
        let held = true;
        ex.release = () => {
          if (held && replyPool.length < REPLY_POOL_KEEP) replyPool.push(into);
          held = false;
        };
      }
      return ex;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Closes the socket now; an exchange in flight ends with ECANCELED. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.sock) native().close(this.sock);
    this.sock = null;
  }
}
