// The listing and rules formatters against what ipvsadm printed for the same state on the real
// kernel (test/golden/ipvs-listing-*, captured by scripts/golden/ipvs-listing.ts together with the
// state as the library read it, in the kernel's order): every layout, column widths, trailing
// spaces, and ipvsadm's sort, whose signed-difference comparator makes cycles (0.0.0.2 < 32.0.0.2
// < ... < 192.0.0.2 < 0.0.0.2) that only glibc's own merge sort order reproduces.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromJson, type Json } from '../../scripts/golden/ipvs-fixture-codec';
import type { IpvsDestination, IpvsInfo, IpvsServiceEntry, IpvsTimeouts } from '../../src/index';
import {
  formatDaemons, formatList, formatListOne, formatRules, formatTimeouts, largenum, type ListLayout,
} from '../../src/cli/ipvs-format';
import { compareDestinations, glibcSort, sortDestinations, sortServices } from '../../src/cli/ipvs-order';

const DIR = path.join(__dirname, '..', 'golden');
const text = (f: string) => readFileSync(path.join(DIR, f), 'utf8');
const state = fromJson(JSON.parse(text('ipvs-listing-state.json')) as Json) as {
  info: IpvsInfo; services: IpvsServiceEntry[]; timeouts: IpvsTimeouts;
};

describe('ipvs list: ipvsadm -Ln layouts, byte for byte', () => {
  it.each([
    ['ipvs-listing-default.txt', 'default', false],
    ['ipvs-listing-stats.txt', 'stats', false],
    ['ipvs-listing-stats-exact.txt', 'stats', true],
    ['ipvs-listing-rate.txt', 'rate', false],
    ['ipvs-listing-thresholds.txt', 'thresholds', false],
    ['ipvs-listing-persistent-conn.txt', 'persistent-conn', false],
    ['ipvs-listing-tun-info.txt', 'tun-info', false],
  ] as [string, ListLayout, boolean][])('%s', (file, layout, exact) => {
    expect(formatList(state.info, state.services, { layout, exact })).toBe(text(file));
  });

  it('--nosort keeps the kernel\'s order', () => {
    expect(formatList(state.info, state.services, { nosort: true })).toBe(text('ipvs-listing-nosort.txt'));
  });

  it('one service (-t VIP:PORT): no version line', () => {
    const one = state.services.find((s) => 'address' in s && s.address === '10.0.0.1' && s.port === 80 && s.protocol === 'tcp')!;
    expect(formatListOne(one)).toBe(text('ipvs-listing-one.txt'));
  });

  it('time-outs', () => {
    expect(formatTimeouts(state.timeouts)).toBe(text('ipvs-listing-timeout.txt'));
  });

  it('daemons, as ipvsadm -L --daemon prints them', () => {
    expect(formatDaemons([
      { state: 'master', interface: 'lo', syncId: 5, syncMaxLen: 1472, group: '224.0.0.81', port: 8848, ttl: 1 },
      { state: 'backup', interface: 'lo', syncId: 6, syncMaxLen: 65487, group: 'ff02::99', port: 8848, ttl: 1 },
    ])).toBe('master sync daemon (mcast=lo, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n'
      + 'backup sync daemon (mcast=lo, syncid=6, maxlen=65487, group=ff02::99, port=8848, ttl=1)\n');
    expect(formatDaemons([{ state: 'master', interface: 'eth0', syncId: 0 }])).toBe('master sync daemon (mcast=eth0, syncid=0)\n');
  });
});

describe('ipvs save: ipvsadm -Sn, byte for byte', () => {
  it('the same rules in the same order', () => {
    expect(formatRules(state.services)).toBe(text('ipvs-listing-save.txt'));
  });

  it('--thresholds adds -x/-y where set', () => {
    const lines = formatRules(state.services, { thresholds: true }).split('\n');
    expect(lines).toContain('-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3 -x 100 -y 10');
    expect(lines.filter((l) => l.includes(' -x ')).length).toBe(1);
  });
});

describe('ipvsadm\'s numbers and order', () => {
  it('print_largenum: K, M, G, T past 8 digits, whole with --exact', () => {
    expect(largenum(99999999n, false)).toBe(' 99999999');
    expect(largenum(100000000n, false)).toBe('  100000K');
    expect(largenum(1234567890n, false)).toBe('    1234M');
    expect(largenum(123456789012n, false)).toBe('     123G');
    expect(largenum(123456789012345n, false)).toBe('     123T');
    expect(largenum(1234567890n, true)).toBe(' 1234567890');
    expect(largenum(7n, true)).toBe('        7');
  });

  it('compares as C does: unsigned differences read as signed ints', () => {
    const d = (address: string) => ({ address, port: 80, family: 'inet' }) as never;
    expect(compareDestinations(d('10.0.0.1'), d('192.168.0.1'))).toBeGreaterThan(0);
    expect(compareDestinations(d('192.168.0.1'), d('200.0.0.1'))).toBeLessThan(0);
    expect(compareDestinations(d('1.0.0.1'), d('10.0.0.1'))).toBeLessThan(0);
  });

  it('glibc merge sort: halves sorted recursively, left run first on ties', () => {
    const cmp = (a: [number, string], b: [number, string]) => a[0] - b[0];
    expect(glibcSort([[2, 'a'], [1, 'b'], [2, 'c'], [1, 'd'], [0, 'e']] as [number, string][], cmp).map((x) => x[1]).join('')).toBe('ebdac');
  });

  it('sortDestinations gives glibc\'s order of ipvsadm\'s comparator, short lists and long, near and far addresses', () => {
    let seed = 7;
    const rand = (k: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % k; // the high bits: an LCG's low bits repeat with short periods
    };
    for (let round = 0; round < 400; round++) {
      const n = 1 + rand(round % 4 === 0 ? 80 : 32);
      // near: one /16, so the comparator is a total order; far: anywhere, where it is not
      const near = round % 2 === 0;
      const seen = new Set<string>();
      const dests: IpvsDestination[] = [];
      while (dests.length < n) {
        const a = near ? `10.1.${rand(4)}.${rand(8)}` : `${rand(256)}.${rand(3)}.${rand(3)}.${rand(3)}`;
        const port = [80, 8080, 443][rand(3)]!;
        if (seen.has(`${a}:${port}`)) continue;
        seen.add(`${a}:${port}`);
        dests.push({ address: a, port, family: 'inet' } as IpvsDestination);
      }
      const before = [...dests];
      expect(sortDestinations(dests)).toEqual(glibcSort(dests, compareDestinations));
      expect(dests).toEqual(before);
    }
  });

  it('sortServices does not change its input', () => {
    const copy = [...state.services];
    sortServices(state.services);
    expect(state.services).toEqual(copy);
  });
});
