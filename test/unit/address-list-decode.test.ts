// The one-pass decoder of address dumps must read what the general path reads (matchReplies, then
// listAddressesOp's decode over decodeRecord + toAddress): same addresses, same keys in the same
// order, same filters, same end of dump, and DecodeError on malformed bytes.
import { describe, expect, it } from 'vitest';
import { readHex } from '../golden/ipset-rtnl-golden';
import { mulberry32 } from './random';
import { decodeAddressDump } from '../../src/address/list-decode';
import { Addresses } from '../../src/address/addresses';
import type { HandleContext } from '../../src/handle-context';
import type { Links } from '../../src/link/links';
import type { Exchange, ExchangeOptions } from '../../src/netlink/connection';
import { listAddressesOp, type AddressFilter } from '../../src/address/ops';
import { DecodeError, NetlinkError } from '../../src/netlink/errors';
import { encodeMessages, type OutMessage } from '../../src/netlink/message';
import { parseMessages } from '../../src/netlink/header';
import { matchReplies } from '../../src/netlink/protocol';
import { encodeIfaddrmsg, rtnlAddr, type Ifaddrmsg } from '../../src/schema/rtnl-addr';
import type { AttrRecord } from '../../src/netlink/attr';
import * as F from '../../src/uapi/if-addr';
import { RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR } from '../../src/uapi/rtnetlink';
import {
  AF_INET, AF_INET6, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
  NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP_FILTERED, NLM_F_DUMP_INTR, NLM_F_MULTI,
} from '../../src/uapi/netlink';

const SEQ = 0x6b05c7ae;

/** What the general path makes of `replies` for the dump request numbered `seq`. */
function general(replies: Buffer, seq: number, filter: AddressFilter) {
  const o = listAddressesOp(filter);
  const request = encodeMessages([o.message], seq);
  const [outcome] = matchReplies(request, replies, 0);
  return { outcome: outcome!, addresses: o.decode!(replies, outcome!) };
}

/** Both paths agree on `replies`: the same JSON (key order included), end of dump and errno. */
function agree(replies: Buffer, filter: AddressFilter = {}, seq = SEQ) {
  const mine = decodeAddressDump(replies, seq, filter);
  const theirs = general(replies, seq, filter);
  expect(JSON.stringify(mine.addresses)).toBe(JSON.stringify(theirs.addresses));
  expect(mine.done).toBe(theirs.outcome.status !== 'unknown');
  expect(mine.errno).toBe(theirs.outcome.errno);
  expect(mine.interrupted).toBe(theirs.outcome.interrupted);
  return mine;
}

interface Reply {
  header: Partial<Ifaddrmsg>;
  attrs?: AttrRecord;
  /** More nlmsg flags than NLM_F_MULTI. */
  flags?: number;
  type?: number;
}

/** Replies as the kernel writes them: every message numbered `seq` and flagged NLM_F_MULTI, then NLMSG_DONE with status `done` (null: none). */
function replies(rs: readonly Reply[], done: number | null = 0, seq = SEQ): Buffer {
  const msgs: OutMessage[] = rs.map((r) => ({
    type: r.type ?? RTM_NEWADDR, flags: 0, fixed: encodeIfaddrmsg(r.header), ...(r.attrs && { schema: rtnlAddr, attrs: r.attrs }),
  }));
  if (done !== null) {
    const status = Buffer.alloc(4);
    status.writeInt32LE(done);
    msgs.push({ type: NLMSG_DONE, flags: 0, fixed: status });
  }
  const b = encodeMessages(msgs, 0);
  parseMessages(b).forEach((m, i) => {
    b.writeUInt16LE(NLM_F_MULTI | (rs[i]?.flags ?? 0), m.offset + 6);
    b.writeUInt32LE(seq, m.offset + 8);
  });
  return b;
}

/** The kernel's refusal of the dump numbered `seq`: struct nlmsgerr with the request's header (capped), NLMSGERR_ATTR_MSG and NLMSGERR_ATTR_OFFS. */
function refusal(seq: number): Buffer {
  const text = Buffer.from('Invalid values in header for address dump request\0');
  const msgAttr = 4 + text.length;
  const len = 16 + 4 + 16 + ((msgAttr + 3) & ~3) + 8;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(NLMSG_ERROR, 4);
  b.writeUInt16LE(NLM_F_CAPPED | NLM_F_ACK_TLVS, 6);
  b.writeUInt32LE(seq, 8);
  b.writeInt32LE(-22, 16);
  encodeMessages([listAddressesOp({ index: 3 }).message], seq).copy(b, 20, 0, 16);
  b.writeUInt16LE(msgAttr, 36);
  b.writeUInt16LE(NLMSGERR_ATTR_MSG, 38);
  text.copy(b, 40);
  const offs = 36 + ((msgAttr + 3) & ~3);
  b.writeUInt16LE(8, offs);
  b.writeUInt16LE(NLMSGERR_ATTR_OFFS, offs + 2);
  b.writeUInt32LE(20, offs + 4);
  return b;
}

const forever = { preferred: 0xffffffff, valid: 0xffffffff, cstamp: 100, tstamp: 100 };
const PERM = F.IFA_F_PERMANENT;

// The kinds of address `ip addr` shows, as the kernel sends them (inet_fill_ifaddr, inet6_fill_ifaddr).
const KINDS: Reply[] = [
  // a host address with the link's label, IFA_ADDRESS = IFA_LOCAL
  { header: { family: AF_INET, prefixlen: 32, flags: PERM, scope: 0, index: 3 }, attrs: { address: '10.96.0.1', local: '10.96.0.1', label: 'kube-ipvs0', flags: PERM, cacheinfo: forever } },
  // a subnet with broadcast, a label with a suffix, a secondary
  { header: { family: AF_INET, prefixlen: 24, flags: PERM | F.IFA_F_SECONDARY, scope: 0, index: 3 }, attrs: { address: '10.96.1.7', local: '10.96.1.7', broadcast: '10.96.1.255', label: 'kube-ipvs0:svc', flags: PERM | F.IFA_F_SECONDARY, cacheinfo: forever } },
  // a point-to-point peer (IFA_ADDRESS != IFA_LOCAL), host scope, lifetimes (not permanent: dynamic)
  { header: { family: AF_INET, prefixlen: 32, flags: 0, scope: 254, index: 4 }, attrs: { address: '192.0.2.2', local: '192.0.2.1', label: 'tun0', flags: 0, cacheinfo: { preferred: 30, valid: 60, cstamp: 1, tstamp: 2 } } },
  // the same label as an earlier address, but not the one just before
  { header: { family: AF_INET, prefixlen: 8, flags: PERM, scope: 254, index: 1 }, attrs: { address: '127.0.0.1', local: '127.0.0.1', label: 'kube-ipvs0', flags: PERM, cacheinfo: forever } },
  // a label of the same length as the previous one, other bytes
  { header: { family: AF_INET, prefixlen: 8, flags: PERM, scope: 254, index: 1 }, attrs: { address: '127.0.0.2', local: '127.0.0.2', label: 'kube-ipvs1', flags: PERM, cacheinfo: forever } },
  // IPv4 without IFA_LOCAL, without lifetimes; the header's flags only; a site scope
  { header: { family: AF_INET, prefixlen: 16, flags: F.IFA_F_SECONDARY, scope: 200, index: 5 }, attrs: { address: '172.16.0.1' } },
  // IPv6: IFA_FLAGS beyond the header's 8 bits, and differing from them
  { header: { family: AF_INET6, prefixlen: 128, flags: PERM, scope: 0, index: 3 }, attrs: { address: 'fd00::1', cacheinfo: forever, flags: PERM | F.IFA_F_NODAD | F.IFA_F_NOPREFIXROUTE } },
  // IPv6 temporary (the secondary bit), tentative, deprecated, optimistic, link scope, lifetimes
  { header: { family: AF_INET6, prefixlen: 64, flags: 0, scope: 253, index: 3 }, attrs: { address: 'fe80::c063:d2ff:fe7b:d4e1', cacheinfo: { preferred: 0, valid: 7200, cstamp: 5, tstamp: 6 }, flags: F.IFA_F_TEMPORARY | F.IFA_F_TENTATIVE | F.IFA_F_DEPRECATED | F.IFA_F_OPTIMISTIC } },
  // every other flag, an unnamed scope, a peer
  {
    header: { family: AF_INET6, prefixlen: 64, flags: 0, scope: 7, index: 6 },
    attrs: { local: '2001:db8::1', address: '2001:db8::2', flags: PERM | F.IFA_F_HOMEADDRESS | F.IFA_F_MANAGETEMPADDR | F.IFA_F_MCAUTOJOIN | F.IFA_F_DADFAILED | F.IFA_F_STABLE_PRIVACY },
  },
  // attributes the decoder skips, and one the schema does not know
  { header: { family: AF_INET6, prefixlen: 96, flags: PERM, scope: 0, index: 6 }, attrs: { address: '::ffff:10.0.0.1', rtPriority: 7, proto: 3, anycast: 'fd00::9', unknown: [{ id: 99, flags: 0, bytes: Buffer.from([1, 2, 3]) }] } },
  // no attributes at all
  { header: { family: AF_INET, prefixlen: 0, flags: 0, scope: 0, index: 2 } },
];

describe('decodeAddressDump, the kernel\'s dump', () => {
  const hex = readHex('rtnl-addr-show');
  const i = hex.datagrams.findIndex((d) => d.direction === '>' && d.bytes.readUInt16LE(4) === RTM_GETADDR);
  const request = hex.datagrams[i]!.bytes;
  const seq = request.readUInt32LE(8);
  const buf = Buffer.concat(hex.datagrams.slice(i + 1).map((d) => d.bytes));

  it('ip -j addr show dev kube-ipvs0: the addresses the general path reads, keys in the same order', () => {
    const r = agree(buf, { index: 3 }, seq);
    expect(r).toMatchObject({ done: true, errno: 0, interrupted: false });
    expect(r.addresses.map((a) => a.local)).toEqual(['10.96.0.1', '10.96.0.2', 'fd00::1', 'fe80::c063:d2ff:fe7b:d4e1']);
  });

  it.each<AddressFilter>([{}, { family: 'inet' }, { family: 'inet6' }, { index: 3, family: 'inet6' }, { index: 4 }])('filtered as the general path filters: %j', (filter) => {
    agree(buf, filter, seq);
  });
});

describe('decodeAddressDump, synthesized dumps', () => {
  it('reads every kind of address the general path reads, keys in the same order', () => {
    const r = agree(replies(KINDS));
    expect(r.addresses).toHaveLength(KINDS.length);
    expect(r.addresses[2]).toEqual({
      ifindex: 4, family: 'inet', local: '192.0.2.1', address: '192.0.2.2', prefixlen: 32, scope: 'host', dynamic: true, label: 'tun0',
      valid_life_time: 60, preferred_life_time: 30,
    });
    expect(r.addresses.map((a) => a.label)).toEqual(['kube-ipvs0', 'kube-ipvs0:svc', 'tun0', 'kube-ipvs0', 'kube-ipvs1', ...Array(6).fill(undefined)]);
    // ip -j addr's order (iproute2 print_addrinfo)
    expect(Object.keys(r.addresses[1]!)).toEqual(['ifindex', 'family', 'local', 'prefixlen', 'broadcast', 'scope', 'secondary', 'label', 'valid_life_time', 'preferred_life_time']);
    expect(Object.keys(r.addresses[2]!)).toEqual(['ifindex', 'family', 'local', 'address', 'prefixlen', 'scope', 'dynamic', 'label', 'valid_life_time', 'preferred_life_time']);
    expect(Object.keys(r.addresses[7]!)).toEqual([
      'ifindex', 'family', 'local', 'prefixlen', 'scope', 'temporary', 'tentative', 'deprecated', 'dynamic', 'optimistic', 'valid_life_time', 'preferred_life_time',
    ]);
  });

  it.each<AddressFilter>([{ index: 3 }, { index: 6 }, { index: 9 }, { family: 'inet' }, { family: 'inet6' }, { index: 3, family: 'inet' }])('filters as the general path does: %j', (filter) => {
    const r = agree(replies(KINDS), filter);
    expect(r.addresses.length).toBe(KINDS.filter((k) => (filter.index === undefined || k.header.index === filter.index)
      && (filter.family === undefined || (k.header.family === AF_INET6) === (filter.family === 'inet6'))).length);
  });

  it('reads a dump of many parts (one datagram each), skipping other requests\' replies and NLMSG_NOOP', () => {
    const many: Reply[] = Array.from({ length: 1000 }, (_, k) => ({
      header: { family: AF_INET, prefixlen: 32, flags: PERM, scope: 0, index: 3 },
      attrs: { address: `10.96.${k >> 8}.${k & 255}`, local: `10.96.${k >> 8}.${k & 255}`, label: 'kube-ipvs0', flags: PERM, cacheinfo: forever },
    }));
    const parts = [
      replies(many.slice(0, 400), null),
      replies([KINDS[2]!], 0, SEQ + 1),
      replies([...many.slice(400, 700), { header: {}, type: NLMSG_NOOP }], null),
      replies([KINDS[6]!, { ...KINDS[0]!, type: RTM_DELADDR }], null),
      replies(many.slice(700)),
    ];
    const r = agree(Buffer.concat(parts));
    expect(r.addresses).toHaveLength(1001);
    expect(r.addresses[700]!.local).toBe('fd00::1');
    expect(r.addresses[1000]!.local).toBe('10.96.3.231');
  });

  it('notes NLM_F_DUMP_INTR, and a dump that did not end', () => {
    expect(agree(replies([KINDS[0]!, { ...KINDS[1]!, flags: NLM_F_DUMP_INTR | NLM_F_DUMP_FILTERED }]))).toMatchObject({ interrupted: true, done: true });
    expect(agree(replies([KINDS[0]!], null))).toMatchObject({ done: false, errno: 0, addresses: [{ local: '10.96.0.1' }] });
    expect(agree(replies([KINDS[0]!], 0, SEQ + 1))).toMatchObject({ done: false, addresses: [] });
  });

  it('ends with the errno NLMSG_DONE carries when the dump failed part-way', () => {
    const r = agree(replies([KINDS[0]!], -16));
    expect(r).toMatchObject({ done: true, errno: -16 });
    expect(r.addresses).toHaveLength(1);
  });

  it('ends with a refusal (NLMSG_ERROR) and its extended ack', () => {
    const b = refusal(SEQ);
    const r = agree(b, { index: 3 });
    expect(r).toMatchObject({ done: true, errno: -22, extack: { message: 'Invalid values in header for address dump request', offset: 20 } });
    expect(r.extack).toEqual(general(b, SEQ, { index: 3 }).outcome.extack);
  });
});

describe('decodeAddressDump, malformed replies', () => {
  const good = replies(KINDS.slice(0, 4));
  const msgs = parseMessages(good);

  /** Both paths throw DecodeError with the same message. */
  function bothRefuse(b: Buffer, message: RegExp): void {
    expect(() => decodeAddressDump(b, SEQ, {})).toThrow(DecodeError);
    expect(() => decodeAddressDump(b, SEQ, {})).toThrow(message);
    expect(() => general(b, SEQ, {})).toThrow(message);
  }

  /** `good` with the attribute of `id` in message `k` given payload length `n` (the message shrinks or grows with it). */
  function withLength(k: number, id: number, n: number): Buffer {
    const m = msgs[k]!;
    for (let a = m.payload + 8; a < m.end; a += (good.readUInt16LE(a) + 3) & ~3) {
      if (good.readUInt16LE(a + 2) !== id) continue;
      const old = good.readUInt16LE(a);
      const oldPadded = (old + 3) & ~3, padded = (4 + n + 3) & ~3;
      const attr = Buffer.alloc(padded);
      good.copy(attr, 0, a, a + Math.min(old, 4 + n));
      attr.writeUInt16LE(4 + n, 0);
      const b = Buffer.concat([good.subarray(0, a), attr, good.subarray(a + oldPadded)]);
      b.writeUInt32LE(m.len - oldPadded + padded, m.offset);
      return b;
    }
    throw new Error(`no attribute ${id} in message ${k}`);
  }

  it('refuses messages that run past the replies, and trailing bytes', () => {
    for (const m of msgs) bothRefuse(good.subarray(0, m.end - 1), /runs past the end/);
    bothRefuse(Buffer.concat([good, Buffer.alloc(7)]), /7 trailing bytes, shorter than a message header/);
    const b = Buffer.from(good);
    b.writeUInt32LE(9, msgs[1]!.offset);
    bothRefuse(b, /message length 9 < 16/);
  });

  it('refuses attributes that run past their message, or are shorter than their header', () => {
    const b = Buffer.from(good);
    b.writeUInt32LE(msgs[1]!.len - 6, msgs[1]!.offset); // the message now ends inside its last attribute
    expect(() => decodeAddressDump(b, SEQ, {})).toThrow(DecodeError);
    const c = Buffer.from(good);
    c.writeUInt16LE(2, msgs[2]!.payload + 8);
    bothRefuse(c, /address: attribute length 2 < 4/);
    const d = Buffer.from(good);
    d.writeUInt16LE(200, msgs[2]!.payload + 8);
    bothRefuse(d, /address: attribute length 200 runs past the end/);
  });

  it('refuses short fixed-size attributes and addresses of odd lengths, as the general decoder does', () => {
    bothRefuse(withLength(0, F.IFA_CACHEINFO, 8), /address\.cacheinfo: attribute length 8 < 16/);
    bothRefuse(withLength(1, F.IFA_FLAGS, 2), /address\.flags: attribute length 2 < 4/);
    bothRefuse(withLength(2, F.IFA_LOCAL, 5), /address\.local: address of 5 bytes in unknown family/);
    bothRefuse(withLength(2, F.IFA_ADDRESS, 3), /address\.address: address of 3 bytes in unknown family/);
    bothRefuse(withLength(1, F.IFA_BROADCAST, 0), /address\.broadcast: address of 0 bytes in unknown family/);
  });

  it('refuses an RTM_NEWADDR too short for its ifaddrmsg', () => {
    const short = Buffer.alloc(20);
    short.writeUInt32LE(20, 0);
    short.writeUInt16LE(RTM_NEWADDR, 4);
    short.writeUInt32LE(SEQ, 8);
    expect(() => decodeAddressDump(Buffer.concat([short, good]), SEQ, {})).toThrow(/address: message length 20 < 24/);
  });

  it('garbled bytes give the general path\'s addresses or a DecodeError, nothing else', () => {
    const rnd = mulberry32(7);
    let refused = 0, read = 0;
    for (let t = 0; t < 3000; t++) {
      const b = Buffer.from(good);
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      let mine;
      try {
        mine = decodeAddressDump(b, SEQ, {});
      } catch (err) {
        expect(err).toBeInstanceOf(DecodeError);
        refused++;
        continue;
      }
      read++;
      let theirs;
      try {
        theirs = general(b, SEQ, {});
      } catch {
        continue; // attributes the one-pass decoder skips (IFA_RT_PRIORITY, IFA_ANYCAST, ...) are checked there
      }
      expect(JSON.stringify(mine.addresses)).toBe(JSON.stringify(theirs.addresses));
      expect(mine.errno).toBe(theirs.outcome.errno);
    }
    expect(refused).toBeGreaterThan(100);
    expect(read).toBeGreaterThan(100);
  });
});

describe('Addresses.list over a fake socket', () => {
  /** A handle whose socket answers the k-th dump with `answers[k]` (replies for its seq, and a transport error). */
  function handle(answers: ((seq: number) => Partial<Exchange>)[]) {
    const seen: { seq: number; options: ExchangeOptions; request: Buffer }[] = [];
    let released = 0;
    const conn = {
      exchangeEncoded: async (count: number, encode: (first: number) => Buffer, options: ExchangeOptions): Promise<Exchange> => {
        expect(count).toBe(1);
        const seq = 500 + seen.length;
        const request = encode(seq);
        seen.push({ seq, options, request });
        const a = answers[seen.length - 1]!(seq);
        return { request, replies: Buffer.alloc(0), outcomes: [], sentBytes: request.length, doneBytes: request.length, error: null, release: () => { released++; }, ...a };
      },
    };
    const ctx = { connection: () => conn, exchangeOptions: { timeoutMs: 1234 }, netns: null, track: () => () => undefined } as unknown as HandleContext;
    return { addresses: new Addresses(ctx, {} as Links), seen, released: () => released };
  }
  const ok = (rs: Reply[], flags = 0) => (seq: number) => ({ replies: replies(rs.map((r) => ({ ...r, flags })), 0, seq) });

  it('sends listAddressesOp\'s request, borrows the reply buffer and gives it back, and filters', async () => {
    const h = handle([ok(KINDS)]);
    const list = await h.addresses.list(3, { family: 'inet' });
    expect(JSON.stringify(list)).toBe(JSON.stringify(general(replies(KINDS), SEQ, { index: 3, family: 'inet' }).addresses));
    expect(list.map((a) => a.local)).toEqual(['10.96.0.1', '10.96.1.7']);
    expect(h.seen[0]!.request).toEqual(encodeMessages([listAddressesOp({ index: 3, family: 'inet' }).message], h.seen[0]!.seq));
    expect(h.seen[0]!.options).toMatchObject({ timeoutMs: 1234, lean: true, borrowReplies: true });
    expect(h.released()).toBe(1);
  });

  it('reads an interrupted dump again, up to three times', async () => {
    const h = handle([ok(KINDS, NLM_F_DUMP_INTR), ok(KINDS, NLM_F_DUMP_INTR), ok(KINDS, NLM_F_DUMP_INTR), ok(KINDS.slice(0, 2))]);
    expect((await h.addresses.list()).map((a) => a.local)).toEqual(['10.96.0.1', '10.96.1.7']);
    expect(h.released()).toBe(4);
    const again = handle(Array(4).fill(ok(KINDS, NLM_F_DUMP_INTR)));
    await expect(again.addresses.list()).rejects.toMatchObject({ code: 'EDUMPINTR', op: 'addresses.list' });
    expect(again.seen).toHaveLength(4);
  });

  it('throws the kernel\'s refusal, the transport\'s error, and DecodeError, giving the buffer back each time', async () => {
    const h = handle([
      (seq) => ({ replies: replies([KINDS[0]!], -19, seq) }),
      (seq) => ({ replies: refusal(seq) }),
      (seq) => ({ replies: replies([KINDS[0]!], null, seq), error: { code: 'ETIMEDOUT', errno: -110, syscall: 'recvmsg' } }),
      (seq) => ({ replies: replies([KINDS[0]!], null, seq) }),
      (seq) => ({ replies: replies([KINDS[0]!], 0, seq).subarray(0, 30) }),
    ]);
    const refused = await h.addresses.list().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NetlinkError);
    expect(refused).toMatchObject({ code: 'ENODEV', errno: -19, op: 'addresses.list' });
    await expect(h.addresses.list()).rejects.toMatchObject({ code: 'EINVAL', extack: { message: 'Invalid values in header for address dump request', offset: 20 } });
    await expect(h.addresses.list()).rejects.toMatchObject({ code: 'ETIMEDOUT', errno: -110, op: 'addresses.list' });
    await expect(h.addresses.list()).rejects.toMatchObject({ code: 'EPROTO', op: 'addresses.list' });
    await expect(h.addresses.list()).rejects.toBeInstanceOf(DecodeError);
    expect(h.released()).toBe(5);
  });
});
