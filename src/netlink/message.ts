import { align4, writeHeader } from './header';
import { recordSize, writeRecord, type AttrRecord, type Schema } from './attr';
import { NLM_F_REQUEST, SIZEOF_NLMSGHDR } from '../uapi/netlink';

/** A request to encode: header fields, the family's fixed header, and attributes by schema. */
export interface OutMessage {
  /** nlmsg_type: a generic-netlink family id, `(subsystem << 8) | cmd` for nfnetlink, `RTM_*`. */
  type: number;
  /** NLM_F_* flags; NLM_F_REQUEST is always added. */
  flags: number;
  /** The family header that follows nlmsghdr (genlmsghdr, nfgenmsg, ifaddrmsg, ...). */
  fixed: Uint8Array;
  schema?: Schema;
  attrs?: AttrRecord;
}

/** Size of one encoded message (aligned). */
export function messageSize(m: OutMessage): number {
  const body = m.schema && m.attrs ? recordSize(m.schema, m.attrs) : 0;
  return SIZEOF_NLMSGHDR + align4(m.fixed.length) + body;
}

/**
 * Writes one message at `off` (its aligned size is `len`, from {@link messageSize}) with sequence
 * number `seq`; returns the offset after it. Padding is zeroed.
 */
export function writeMessage(buf: Buffer, off: number, m: OutMessage, len: number, seq: number): number {
  writeHeader(buf, off, { len, type: m.type, flags: m.flags | NLM_F_REQUEST, seq: seq >>> 0, pid: 0 });
  let p = off + SIZEOF_NLMSGHDR;
  buf.set(m.fixed, p);
  const fixedEnd = p + m.fixed.length;
  p = align4(fixedEnd);
  buf.fill(0, fixedEnd, p);
  if (m.schema && m.attrs) p = writeRecord(buf, p, m.schema, m.attrs);
  if (p !== off + len) throw new Error(`encoder size mismatch: wrote ${p - off}, sized ${len}`);
  return p;
}

/**
 * Encodes messages into one Buffer, sequence numbers `firstSeq`, `firstSeq + 1`, ...
 * Sizes are computed first, then everything is written once; padding is zeroed.
 */
export function encodeMessages(msgs: readonly OutMessage[], firstSeq: number): Buffer {
  const sizes = new Array<number>(msgs.length);
  let total = 0;
  for (let i = 0; i < msgs.length; i++) total += sizes[i] = messageSize(msgs[i]!);
  const buf = Buffer.allocUnsafe(total);
  let off = 0;
  for (let i = 0; i < msgs.length; i++) off = writeMessage(buf, off, msgs[i]!, sizes[i]!, firstSeq + i);
  return buf;
}
