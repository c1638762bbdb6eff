// IpvsStats as the library returns it prints and serialises: counters bigint, rates number, and
// JSON.stringify writes counters as numbers (decimal strings past 2^53) instead of throwing.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeStats, zeroStats } from '../../src/ipvs/stats';
import { parseIpvsTotals } from '../../src/ipvs/totals';

describe('IpvsStats', () => {
  it('serialises with JSON.stringify: numbers, and a decimal string for a counter past 2^53', () => {
    const s = decodeStats({ stats64: { conns: 27n, inpkts: 452n, outpkts: 0n, inbytes: 2n ** 60n, outbytes: 5n, cps: 1n, inpps: 10n, outpps: 0n, inbps: 1000n, outbps: 0n } });
    expect(typeof s.inbytes).toBe('bigint');
    expect(typeof s.inbps).toBe('number');
    expect(JSON.parse(JSON.stringify({ stats: s }))).toEqual({
      stats: { conns: 27, inpkts: 452, outpkts: 0, inbytes: '1152921504606846976', outbytes: 5, cps: 1, inpps: 10, outpps: 0, inbps: 1000, outbps: 0 },
    });
    expect(JSON.stringify(zeroStats())).toBe('{"conns":0,"inpkts":0,"outpkts":0,"inbytes":0,"outbytes":0,"cps":0,"inpps":0,"outpps":0,"inbps":0,"outbps":0}');
    // MAX_SAFE_INTEGER itself is still a number
    const edge = decodeStats({ stats: { conns: BigInt(Number.MAX_SAFE_INTEGER) } });
    expect(JSON.parse(JSON.stringify(edge)).conns).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('shows only its ten fields to Object.keys and console.log (toJSON is inherited)', () => {
    const s = zeroStats();
    expect(Object.keys(s)).toEqual(['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes', 'cps', 'inpps', 'outpps', 'inbps', 'outbps']);
    expect(inspect(s)).toBe('{\n  conns: 0n,\n  inpkts: 0n,\n  outpkts: 0n,\n  inbytes: 0n,\n  outbytes: 0n,\n  cps: 0,\n  inpps: 0,\n  outpps: 0,\n  inbps: 0,\n  outbps: 0\n}');
  });

  it('the 32-bit set widens: counters to bigint, rates stay numbers', () => {
    const s = decodeStats({ stats: { conns: 4, inpkts: 0xffffffff, cps: 3, outbps: 0xffffffff } });
    expect(s.conns).toBe(4n);
    expect(s.inpkts).toBe(0xffffffffn);
    expect(s.cps).toBe(3);
    expect(s.outbps).toBe(0xffffffff);
  });

  it('the namespace totals (/proc/net/ip_vs_stats) serialise too', () => {
    const text = '   Total Incoming Outgoing         Incoming         Outgoing\n   Conns  Packets  Packets            Bytes            Bytes\n      1B      1C4        0            16A3C                0\n\n Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n       1        A        0              3E8                0\n';
    const t = parseIpvsTotals(text);
    expect(JSON.parse(JSON.stringify(t))).toEqual({ conns: 27, inpkts: 452, outpkts: 0, inbytes: 92732, outbytes: 0, cps: 1, inpps: 10, outpps: 0, inbps: 1000, outbps: 0 });
  });
});
