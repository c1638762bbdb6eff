import { describe, expect, it } from 'vitest';
import { encodeMessages } from '../../src/netlink/message';
import { matchReplies } from '../../src/netlink/protocol';
import { writeHeader } from '../../src/netlink/header';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP_INTR, NLM_F_MULTI } from '../../src/uapi/netlink';

const REQ_TYPE = 0x20;
const request = (n: number, first = 100) => encodeMessages(
  Array.from({ length: n }, () => ({ type: REQ_TYPE, flags: 0, fixed: Buffer.from([1, 1, 0, 0]) })), first);

/** An NLMSG_ERROR for `seq` (capped), with an optional extack message. */
function errorReply(seq: number, errno: number, msg?: string): Buffer {
  const tlv = msg ? (() => {
    const s = Buffer.from(msg + '\0');
    const b = Buffer.alloc(4 + ((s.length + 3) & ~3));
    b.writeUInt16LE(4 + s.length, 0);
    b.writeUInt16LE(1, 2); // NLMSGERR_ATTR_MSG
    s.copy(b, 4);
    return b;
  })() : Buffer.alloc(0);
  const b = Buffer.alloc(16 + 4 + 16 + tlv.length);
  writeHeader(b, 0, { len: b.length, type: NLMSG_ERROR, flags: NLM_F_CAPPED | (msg ? NLM_F_ACK_TLVS : 0), seq, pid: 1 });
  b.writeInt32LE(errno, 16);
  writeHeader(b, 20, { len: 20, type: REQ_TYPE, flags: 5, seq, pid: 0 });
  tlv.copy(b, 36);
  return b;
}
function dataReply(seq: number, type: number, flags: number, payload = Buffer.alloc(4)): Buffer {
  const b = Buffer.alloc(16 + payload.length);
  writeHeader(b, 0, { len: b.length, type, flags, seq, pid: 1 });
  payload.copy(b, 16);
  return b;
}

describe('matchReplies', () => {
  it('derives a result per message from errors plus the chunk-final ack', () => {
    const req = request(4);
    const replies = Buffer.concat([errorReply(101, -17, 'exists'), errorReply(103, 0)]);
    const out = matchReplies(req, replies, req.length);
    expect(out.map((o) => o.status)).toEqual(['ok', 'error', 'ok', 'ok']);
    expect(out[1]).toMatchObject({ seq: 101, errno: -17, extack: { message: 'exists' } });
  });

  it('leaves messages past the processed prefix unknown', () => {
    const req = request(4);
    const half = req.length / 2; // equal-sized messages
    const out = matchReplies(req, errorReply(101, 0), half);
    expect(out.map((o) => o.status)).toEqual(['ok', 'ok', 'unknown', 'unknown']);
  });

  it('collects dump parts, honours DONE, and its error payload', () => {
    const req = request(2);
    const replies = Buffer.concat([
      dataReply(100, REQ_TYPE, NLM_F_MULTI), dataReply(100, REQ_TYPE, NLM_F_MULTI | NLM_F_DUMP_INTR),
      dataReply(100, NLMSG_DONE, NLM_F_MULTI),
      dataReply(101, NLMSG_DONE, NLM_F_MULTI, Buffer.from([0xfe, 0xff, 0xff, 0xff])),
      dataReply(999, REQ_TYPE, 0), // not ours: ignored
    ]);
    const out = matchReplies(req, replies, 0);
    expect(out[0]!.status).toBe('ok');
    expect(out[0]!.replies).toHaveLength(2);
    expect(out[0]!.interrupted).toBe(true);
    expect(out[1]).toMatchObject({ status: 'error', errno: -2, interrupted: false });
  });
});
