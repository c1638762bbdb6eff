/**
 * Dumps read in one pass: the request goes out lean, the replies land in the connection's
 * reusable buffer, and a decoder of the family's own walks them once (no reply object or
 * attribute record per item). What the decoders report besides their items, and how a read ends.
 *
 * @module
 * @internal
 */
import type { NativeError } from '../native';
import type { Connection, ExchangeOptions } from './connection';
import { NetlinkError, errnoName, type ExtAck } from './errors';
import { decodeErrorReply } from './header';
import { encodeMessages } from './message';
import type { Operation } from './operation';
import { NLMSG_DONE, NLMSG_ERROR, SIZEOF_NLMSGHDR } from '../uapi/netlink';

/** How one dump of a one-pass decoder ended. */
export interface DumpStatus {
  /** Negative errno when the kernel refused the dump or it failed part-way, else 0. */
  errno: number;
  /** The kernel's extended ack of a refusal, when it sent one. */
  extack?: ExtAck;
  /** NLM_F_DUMP_INTR: the state changed during the dump; read it again. */
  interrupted: boolean;
  /** The dump ended (NLMSG_DONE or an error). */
  done: boolean;
}

/**
 * Notes in `r` how a dump ended, for the reply at `off` (its `len`, `type`, `flags`, `seq` read by
 * the decoder): NLMSG_DONE, with the negative errno a dump that failed part-way puts in its
 * payload, or NLMSG_ERROR, with its errno and extended ack. Other types are left alone.
 */
export function endOfDump(replies: Buffer, off: number, len: number, type: number, flags: number, seq: number, r: DumpStatus): void {
  if (type === NLMSG_DONE) {
    const e = len - SIZEOF_NLMSGHDR >= 4 ? replies.readInt32LE(off + SIZEOF_NLMSGHDR) : 0;
    if (e < 0) r.errno = e;
    r.done = true;
  } else if (type === NLMSG_ERROR) {
    const e = decodeErrorReply(replies, {
      len, type, flags, seq, pid: replies.readUInt32LE(off + 12), offset: off, payload: off + SIZEOF_NLMSGHDR, end: off + len,
    });
    r.errno = e.errno;
    if (e.extack) r.extack = e.extack;
    r.done = true;
  }
}

/**
 * Throws for a dump that did not end (the transport's error, else EPROTO: replies that stopped
 * short) or that the kernel refused (its errno and extended ack, with the operation's explanation).
 */
export function checkDump(r: DumpStatus, transport: NativeError | null, op: string, explain: ((code: string) => string | undefined) | undefined): void {
  if (!r.done) {
    const e = transport ?? { code: 'EPROTO', errno: -71, syscall: 'recvmsg' };
    throw new NetlinkError({ code: e.code, errno: e.errno, op, syscall: e.syscall });
  }
  if (r.errno < 0) {
    const code = errnoName(r.errno);
    const detail = explain?.(code);
    throw new NetlinkError({ code, errno: r.errno, op, ...(r.extack && { extack: r.extack }), ...(detail && { detail }) });
  }
}

/**
 * Runs the dump of `o` on `conn` and decodes its replies with `decode(replies, seq)` while they
 * sit in the borrowed buffer (the decoder must copy what it keeps); reads again when the kernel
 * flagged the dump as interrupted, up to three times, as `runOne` does.
 */
export async function readDump<T extends DumpStatus>(
  conn: Connection, o: Operation<unknown>, exchange: ExchangeOptions, decode: (replies: Buffer, seq: number) => T,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let seq = 0;
    const ex = await conn.exchangeEncoded(1, (first) => encodeMessages([o.message], seq = first), { ...exchange, lean: true, borrowReplies: true });
    let r: T;
    try {
      r = decode(ex.replies, seq);
    } finally {
      ex.release?.();
    }
    checkDump(r, ex.error, o.op, o.explain);
    if (!r.interrupted) return r;
    if (attempt >= 3) {
      throw new NetlinkError({
        code: 'EDUMPINTR', errno: -4, op: o.op,
        detail: 'the kernel state changed during the dump (NLM_F_DUMP_INTR); read it again',
      });
    }
  }
}
