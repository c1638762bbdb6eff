import { decodeErrorReply, parseMessages, type RawMessage } from './header';
import type { ExtAck } from './errors';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLM_F_DUMP_INTR } from '../uapi/netlink';

/** What became of one request message. */
export interface MessageOutcome {
  seq: number;
  /**
   * `ok`: acknowledged, or processed without complaint before a later acknowledgement;
   * `error`: the kernel refused it; `unknown`: the exchange stopped before the kernel was known
   * to have processed it (time-out, cancellation, receive-buffer overflow).
   */
  status: 'ok' | 'error' | 'unknown';
  /** Negative errno when `status` is `error`, else 0. */
  errno: number;
  extack?: ExtAck;
  /** Data replies (dump parts or a GET's answer), in arrival order. */
  replies: RawMessage[];
  /** A reply to this request carried NLM_F_DUMP_INTR: the dump may be inconsistent. */
  interrupted: boolean;
  /**
   * The NLMSG_ERROR that refused it, when one did: some families say more there than the errno
   * (ipset echoes a bulk request with the failing entry's line number written into it).
   */
  errorReply?: RawMessage;
}

/**
 * Matches a transaction's replies to the request messages by sequence number, with no I/O.
 *
 * Messages are acknowledged only at the end of each chunk, so a message with no reply of its own
 * that lies within the processed prefix (`doneBytes`) succeeded: the kernel answers every
 * failing message with an error carrying its sequence number.
 */
export function matchReplies(request: Buffer, replies: Buffer, doneBytes: number): MessageOutcome[] {
  const reqs = parseMessages(request, 0, request.length, 'request');
  const bySeq = new Map<number, MessageOutcome>();
  const outcomes = reqs.map((m) => {
    const o: MessageOutcome = { seq: m.seq, status: 'unknown', errno: 0, replies: [], interrupted: false };
    bySeq.set(m.seq, o);
    return o;
  });
  for (const r of parseMessages(replies, 0, replies.length, 'reply')) {
    const o = bySeq.get(r.seq);
    if (!o) continue;
    if (r.flags & NLM_F_DUMP_INTR) o.interrupted = true;
    if (r.type === NLMSG_ERROR) {
      const e = decodeErrorReply(replies, r);
      if (e.errno === 0) {
        if (o.status === 'unknown') o.status = 'ok';
      } else {
        o.status = 'error';
        o.errno = e.errno;
        o.errorReply = r;
        if (e.extack) o.extack = e.extack;
      }
    } else if (r.type === NLMSG_DONE) {
      // A dump that failed part-way puts its negative errno in NLMSG_DONE's payload.
      const err = r.end - r.payload >= 4 ? replies.readInt32LE(r.payload) : 0;
      if (err < 0) {
        o.status = 'error';
        o.errno = err;
      } else if (o.status === 'unknown') {
        o.status = 'ok';
      }
    } else if (r.type !== NLMSG_NOOP) {
      o.replies.push(r);
    }
  }
  for (let i = 0; i < reqs.length; i++) {
    const m = reqs[i]!;
    if (outcomes[i]!.status === 'unknown' && m.offset + m.len <= doneBytes) outcomes[i]!.status = 'ok';
  }
  return outcomes;
}
