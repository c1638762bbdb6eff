// Replies a hostile or broken kernel could send, each of which once threw a plain RangeError or
// read the next message's bytes as part of this one: every one must be a DecodeError with a path.
import { describe, expect, it } from 'vitest';
import { decodeErrorReply, parseMessages, writeHeader } from '../../src/netlink/header';
import { DecodeError } from '../../src/netlink/errors';
import { endOfDump, type DumpStatus } from '../../src/netlink/dump';
import { matchReplies, type MessageOutcome } from '../../src/netlink/protocol';
import { encodeMessages } from '../../src/netlink/message';
import { linkReplies } from '../../src/link/ops';
import { decodeAddressMessage, listAddressesOp } from '../../src/address/ops';
import { decodeAddressDump } from '../../src/address/list-decode';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_MULTI } from '../../src/uapi/netlink';
import { RTM_NEWADDR, RTM_NEWLINK } from '../../src/uapi/rtnetlink';

function message(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(16 + ((payload.length + 3) & ~3));
  writeHeader(b, 0, { len: 16 + payload.length, type, flags, seq, pid: 0 });
  payload.copy(b, 16);
  return b;
}

/** An uncapped NLMSG_ERROR with NLM_F_ACK_TLVS whose echoed request claims `echoedLen` bytes. */
function uncappedError(seq: number, echoedLen: number): Buffer {
  const p = Buffer.alloc(4 + 16 + 8);
  p.writeInt32LE(-22, 0);
  writeHeader(p, 4, { len: 16, type: 0x20, flags: 5, seq, pid: 0 });
  p.writeUInt32LE(echoedLen >>> 0, 4);
  p.writeUInt16LE(8, 20); // an NLMSGERR_ATTR_OFFS after the echo
  p.writeUInt16LE(2, 22);
  return message(NLMSG_ERROR, NLM_F_ACK_TLVS, seq, p);
}

const outcomeOf = (replies: Buffer): MessageOutcome => ({
  seq: 1, status: 'ok', errno: 0, replies: parseMessages(replies), interrupted: false,
});

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error('did not throw');
}

describe('extended ack with a huge echoed nlmsg_len', () => {
  for (const len of [0x80000000, 0xfffffffc, 0xffffffff, 0x7ffffffc, 1000, 3]) {
    it(`echoed length 0x${len.toString(16)}: DecodeError in decodeErrorReply, matchReplies and endOfDump`, () => {
      const buf = uncappedError(7, len);
      const [m] = parseMessages(buf);
      expect(decodeError(() => decodeErrorReply(buf, m!)).path).toBe('netlink.error.extack');
      const req = encodeMessages([{ type: 0x20, flags: 0, fixed: Buffer.alloc(4) }], 7);
      decodeError(() => matchReplies(req, buf, req.length));
      const r: DumpStatus = { errno: 0, interrupted: false, done: false };
      decodeError(() => endOfDump(buf, 0, m!.len, m!.type, m!.flags, m!.seq, r));
    });
  }

  it('still reads an uncapped reply whose echo fits', () => {
    const buf = uncappedError(7, 16);
    const [m] = parseMessages(buf);
    expect(decodeErrorReply(buf, m!)).toMatchObject({ errno: -22, extack: { offset: 0 } });
  });
});

describe('link and address messages shorter than their fixed header', () => {
  const done = message(NLMSG_DONE, NLM_F_MULTI, 1, Buffer.alloc(4));
  for (const n of [0, 4, 8, 15]) {
    it(`RTM_NEWLINK with ${n} payload bytes, last in the buffer or followed by another message`, () => {
      const short = message(RTM_NEWLINK, NLM_F_MULTI, 1, Buffer.alloc(n, 0xee));
      for (const replies of [short, Buffer.concat([short, done])]) {
        const e = decodeError(() => linkReplies(replies, outcomeOf(replies)));
        expect(e.path).toBe('link');
        expect(e.message).toMatch(/shorter than ifinfomsg/);
      }
    });
  }
  for (const n of [0, 4, 7]) {
    it(`RTM_NEWADDR with ${n} payload bytes: the general path, the one-pass dump and events`, () => {
      const short = message(RTM_NEWADDR, NLM_F_MULTI, 1, Buffer.alloc(n, 0xee));
      for (const replies of [short, Buffer.concat([short, done])]) {
        const e = decodeError(() => listAddressesOp().decode!(replies, outcomeOf(replies)));
        expect(e.path).toBe('address');
        expect(e.message).toMatch(/shorter than ifaddrmsg/);
        // events decode each notification with decodeAddressMessage
        decodeError(() => decodeAddressMessage(replies, parseMessages(replies)[0]!));
        decodeError(() => decodeAddressDump(replies, 1, {}));
      }
    });
  }
});

describe('a GET_SERVICE reply without a service (found by npm run fuzz)', () => {
  it('is the NetlinkError EPROTO other empty replies give, not a TypeError', async () => {
    const { getServiceOp } = await import('../../src/ipvs/ops');
    const { NetlinkError } = await import('../../src/netlink/errors');
    const f = { name: 'IPVS', id: 0x1c, version: 1, hdrsize: 0, maxattr: 10, commands: new Set<number>(), groups: new Map<string, number>() };
    const op = getServiceOp(f, { protocol: 'tcp', address: '10.0.0.1', port: 80 });
    // the fuzzer's input: an IPVS reply whose only content is the genlmsghdr
    const replies = Buffer.from('140000001c0005033bc505013704c06604010000', 'hex');
    const o = matchReplies(encodeMessages([op.message], 0x0105c53b), replies, 1 << 20)[0]!;
    let err: unknown;
    try {
      op.decode!(replies, o);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as InstanceType<typeof NetlinkError>).code).toBe('EPROTO');
  });
});
