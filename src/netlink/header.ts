import { DecodeError } from './errors';
import {
  NLMSG_ERROR, NLMSG_DONE, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS,
  NLA_TYPE_MASK, SIZEOF_NLMSGHDR,
} from '../uapi/netlink';
import type { ExtAck } from './errors';

/** Netlink's 4-byte alignment (NLMSG_ALIGN / NLA_ALIGN). */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** The 16-byte `struct nlmsghdr`, in host byte order. */
export interface MessageHeader {
  len: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

/** One message found in a buffer: its header and where its payload lies. */
export interface RawMessage extends MessageHeader {
  /** Offset of the message (its header) in the buffer. */
  offset: number;
  /** Offset just past the header: where the family header starts. */
  payload: number;
  /** Offset just past the message (unaligned end). */
  end: number;
}

export function writeHeader(buf: Buffer, off: number, h: MessageHeader): void {
  buf.writeUInt32LE(h.len, off);
  buf.writeUInt16LE(h.type, off + 4);
  buf.writeUInt16LE(h.flags, off + 6);
  buf.writeUInt32LE(h.seq >>> 0, off + 8);
  buf.writeUInt32LE(h.pid >>> 0, off + 12);
}

/** Splits a buffer of concatenated messages; every length is checked before it is used. */
export function parseMessages(buf: Buffer, start = 0, end = buf.length, path = 'netlink'): RawMessage[] {
  const out: RawMessage[] = [];
  let off = start;
  while (off < end) {
    const len = messageLength(buf, off, end, path);
    out.push({
      len,
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      offset: off,
      payload: off + SIZEOF_NLMSGHDR,
      end: off + len,
    });
    off += align4(len);
  }
  return out;
}

/** The text of a string payload `buf[p, q)`, without the NUL (and padding) the kernel ends it with. */
export function nulString(buf: Buffer, p: number, q: number): string {
  while (q > p && buf[q - 1] === 0) q--;
  return buf.toString('utf8', p, q);
}

/** The nlmsg_len of the message at `off` in `buf[.., end)`, checked: DecodeError when it does not fit. */
export function messageLength(buf: Buffer, off: number, end: number, path: string): number {
  if (end - off < SIZEOF_NLMSGHDR) throw new DecodeError(path, `${end - off} trailing bytes, shorter than a message header`);
  const len = buf.readUInt32LE(off);
  if (len < SIZEOF_NLMSGHDR) throw new DecodeError(path, `message length ${len} < ${SIZEOF_NLMSGHDR}`);
  if (off + len > end) throw new DecodeError(path, `message length ${len} runs past the end (${end - off} bytes left)`);
  return len;
}

/** What an NLMSG_ERROR message says: errno 0 is an acknowledgement. */
export interface ErrorReply {
  /** Negative errno, or 0 for an ack. */
  errno: number;
  /** The request's header, echoed. */
  request: MessageHeader;
  extack: ExtAck | undefined;
}

/** Decodes the payload of an NLMSG_ERROR message (`struct nlmsgerr` plus extended-ack TLVs). */
export function decodeErrorReply(buf: Buffer, m: RawMessage): ErrorReply {
  const path = 'netlink.error';
  if (m.type !== NLMSG_ERROR) throw new DecodeError(path, `message type ${m.type} is not NLMSG_ERROR`);
  if (m.end - m.payload < 4 + SIZEOF_NLMSGHDR) throw new DecodeError(path, `payload length ${m.end - m.payload} < 20`);
  const errno = buf.readInt32LE(m.payload);
  const o = m.payload + 4;
  const request: MessageHeader = {
    len: buf.readUInt32LE(o),
    type: buf.readUInt16LE(o + 4),
    flags: buf.readUInt16LE(o + 6),
    seq: buf.readUInt32LE(o + 8),
    pid: buf.readUInt32LE(o + 12),
  };
  let extack: ExtAck | undefined;
  if (m.flags & NLM_F_ACK_TLVS) {
    // With NLM_F_CAPPED only the request's header was echoed; otherwise the whole request, whose
    // echoed nlmsg_len must fit in this message (checked before align4: it works on int32 and
    // would wrap a length of 0x80000000 or more to a negative offset).
    let echoed = SIZEOF_NLMSGHDR;
    if (!(m.flags & NLM_F_CAPPED)) {
      if (request.len < SIZEOF_NLMSGHDR || request.len > m.end - o) {
        throw new DecodeError(`${path}.extack`, `echoed request length ${request.len} does not fit the ${m.end - o} bytes after the errno`);
      }
      echoed = align4(request.len);
    }
    let a = o + echoed;
    while (a + 4 <= m.end) {
      const alen = buf.readUInt16LE(a);
      const atype = buf.readUInt16LE(a + 2) & NLA_TYPE_MASK;
      if (alen < 4 || a + alen > m.end) throw new DecodeError(`${path}.extack`, `attribute length ${alen} out of bounds`);
      if (atype === NLMSGERR_ATTR_MSG) {
        extack ??= {};
        extack.message = nulString(buf, a + 4, a + alen);
      } else if (atype === NLMSGERR_ATTR_OFFS && alen >= 8) {
        extack ??= {};
        extack.offset = buf.readUInt32LE(a + 4);
      }
      a += align4(alen);
    }
  }
  return { errno, request, extack };
}

/** True for the message that ends a dump. */
export function isDone(m: MessageHeader): boolean {
  return m.type === NLMSG_DONE;
}
