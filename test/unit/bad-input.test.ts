// Every row of the bad-input table (bad-input-rows.ts) is refused before anything reaches a kernel:
// the handle's namespace does not exist, so a call that got past its check would fail opening a
// socket (a NetlinkError, not the TypeError/RangeError the row wants), and nothing can reach the
// host's own network state.
import { afterAll, describe, expect, it } from 'vitest';
import { openHandle } from '../../src/index';
import { closest, quote } from '../../src/validate';
import { ROWS } from './bad-input-rows';

const h = openHandle({ netns: '/nonexistent/ipvs-bad-input-netns' });
afterAll(() => h.close());

/** What the call threw or rejected with (undefined: it did not). */
async function outcome(call: () => unknown): Promise<unknown> {
  try {
    const r = call();
    if (r && typeof (r as { then?: unknown }).then === 'function') await r;
    else if (r && typeof (r as { next?: unknown }).next === 'function' && Symbol.asyncIterator in (r as object)) {
      // an async iterator validates when made; end it if it was made
      await (r as AsyncIterator<unknown>).return?.();
    }
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('bad input table', () => {
  it('has at least 80 rows, each with its own name', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(80);
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
  });

  it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const err = await outcome(() => row.call(h));
    expect(err, 'no error').toBeInstanceOf(row.error);
    expect((err as Error).constructor).toBe(row.error);
    expect((err as Error).message).toMatch(row.message);
    expect((err as Error).message.length).toBeLessThanOrEqual(row.maxLength ?? 600);
  });
});

describe('quote and closest', () => {
  it('quotes strings in quotes and cuts at 100 characters with an ellipsis', () => {
    expect(quote('rr')).toBe("'rr'");
    expect(quote(5)).toBe('5');
    expect(quote('a'.repeat(100))).toBe(`'${'a'.repeat(100)}'`);
    expect(quote('a'.repeat(101))).toBe(`'${'a'.repeat(99)}…'`);
    expect(quote({ a: 'b'.repeat(500) }).length).toBe(100);
    expect(quote(Symbol('s'))).toBe('Symbol(s)');
  });

  it('suggests slips (transposition, case, a letter off) and nothing far', () => {
    expect(closest('shceduler', ['scheduler', 'persistent'])).toBe('scheduler');
    expect(closest('ONEPACKET', ['onePacket'])).toBe('onePacket');
    expect(closest('wieght', ['weight'])).toBe('weight');
    expect(closest('zzzz', ['port', 'pe'])).toBeUndefined();
  });
});
