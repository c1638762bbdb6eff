// Ipset.list reads its dump into the process's reusable reply buffer (borrowReplies) instead of
// going through runOne: against a fake connection, it gives runOne's results and errors for every
// outcome (data, refusal, transport failure, interrupted dumps), and hands the buffer back.
import { describe, expect, it } from 'vitest';
import { Ipset } from '../../src/ipset/ipset';
import * as ops from '../../src/ipset/ops';
import { runOne } from '../../src/netlink/operation';
import { encodeMessages } from '../../src/netlink/message';
import { parseMessages } from '../../src/netlink/header';
import type { Connection, Exchange, ExchangeOptions } from '../../src/netlink/connection';
import type { MessageOutcome } from '../../src/netlink/protocol';
import type { HandleContext } from '../../src/handle-context';
import { ipsetReplySchemas } from '../../src/schema/ipset';
import { IPSET_CMD_LIST } from '../../src/uapi/ipset';

function dump(): Buffer {
  const adt = Array.from({ length: 5 }, (_, k) => ({ ip: { ipv4: `10.0.0.${k}` }, port: 80 + k, proto: 6 }));
  return encodeMessages([
    {
      type: ops.ipsetMessageType(IPSET_CMD_LIST), flags: 2, fixed: ops.nfgenmsg(), schema: ipsetReplySchemas.create,
      attrs: { protocol: 7, setname: 'S', typename: 'hash:ip,port', revision: 6, family: 2, data: { elements: 5 }, adt },
    },
  ], 1);
}

type Script = (attempt: number) => { outcome: Partial<MessageOutcome>; error?: Exchange['error']; replies?: Buffer };

/** A connection answering each exchange from `script`, counting borrowed and released buffers. */
function fake(script: Script) {
  const stats = { exchanges: 0, borrowed: 0, released: 0 };
  const conn = {
    async exchange(_msgs: unknown, options: ExchangeOptions = {}): Promise<Exchange> {
      const s = script(stats.exchanges++);
      const replies = s.replies ?? Buffer.alloc(0);
      const outcome: MessageOutcome = {
        seq: 1, status: 'ok', errno: 0, interrupted: false,
        replies: parseMessages(replies, 0, replies.length), ...s.outcome,
      };
      const ex: Exchange = { request: Buffer.alloc(0), replies, outcomes: [outcome], sentBytes: 0, doneBytes: 0, error: s.error ?? null };
      if (options.borrowReplies) {
        stats.borrowed++;
        ex.release = () => { stats.released++; };
      }
      return ex;
    },
  } as unknown as Connection;
  const ctx = { connection: () => conn, exchangeOptions: {} } as unknown as HandleContext;
  const ipset = new Ipset(ctx);
  (ipset as unknown as { proto: Promise<number> }).proto = Promise.resolve(7);
  return { ipset, conn, stats };
}

async function outcomeOf<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await p };
  } catch (error) {
    return { error };
  }
}

const scripts: [string, Script][] = [
  ['a dump', () => ({ outcome: {}, replies: dump() })],
  ['a refusal', () => ({ outcome: { status: 'error', errno: -2 } })],
  ['a transport failure', () => ({ outcome: { status: 'unknown' }, error: { code: 'ETIMEDOUT', errno: -110, syscall: 'recvmsg' } })],
  ['an unknown outcome without an error', () => ({ outcome: { status: 'unknown' } })],
  ['an interrupted dump, read again', (k) => ({ outcome: { interrupted: k < 2 }, replies: dump() })],
  ['a dump interrupted every time', () => ({ outcome: { interrupted: true }, replies: dump() })],
  ['a malformed dump', () => {
    const bad = dump();
    bad.writeUInt16LE(3, 16 + 4 + 8); // the second attribute (SETNAME): length 3 < 4
    return { outcome: {}, replies: bad };
  }],
];

describe('Ipset.list through the borrowed reply buffer', () => {
  for (const [what, script] of scripts) {
    it(`${what}: the result or error runOne gives, and the buffer handed back`, async () => {
      const mine = fake(script);
      const got = await outcomeOf(mine.ipset.list('S'));
      const ref = fake(script);
      const want = await outcomeOf(runOne(ref.conn, ops.listOp(7, 'S')).then((sets) => {
        if (!sets[0]) throw new Error('no set');
        return sets[0];
      }));
      if (what === 'a malformed dump') expect((got.error as Error).name).toBe('DecodeError');
      expect(got.value).toStrictEqual(want.value);
      if (want.error) {
        expect(got.error).toBeInstanceOf((want.error as Error).constructor);
        expect(got.error).toMatchObject({ ...(want.error as object) });
        expect((got.error as Error).message).toBe((want.error as Error).message);
      } else {
        expect(got.error).toBeUndefined();
      }
      expect(mine.stats.exchanges).toBe(ref.stats.exchanges);
      expect(mine.stats.borrowed).toBe(mine.stats.exchanges);
      expect(mine.stats.released).toBe(mine.stats.borrowed);
    });
  }
});
