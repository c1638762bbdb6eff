// ipset's options where ipset takes them (src/cli/set-options.ts) and the member order of
// `ipset list -sorted` (src/ipset/sort.ts); the kernel test compares both with the ipset tool.
import { describe, expect, it } from 'vitest';
import { parseSetArgs } from '../../src/cli/set-options';
import { compareEntryText, sortEntries } from '../../src/ipset/sort';
import { parseEntry } from '../../src/ipset/entry';

describe('ipset options anywhere', () => {
  it('before the command, after it and among its arguments', () => {
    expect(parseSetArgs(['-exist', 'add', 's', '10.0.0.1'])).toMatchObject({ command: 'add', rest: ['s', '10.0.0.1'], options: { exist: true } });
    expect(parseSetArgs(['add', 's', '-!', '10.0.0.1'])).toMatchObject({ command: 'add', rest: ['s', '10.0.0.1'], options: { exist: true } });
    expect(parseSetArgs(['add', 's', '10.0.0.1', '-q'])).toMatchObject({ rest: ['s', '10.0.0.1'], options: { quiet: true, exist: false } });
    expect(parseSetArgs(['-o', 'save', 'list', '-sorted', 's'])).toMatchObject({ command: 'list', rest: ['s'], options: { output: 'save', sorted: true } });
    expect(parseSetArgs(['save', '-o', 'plain', '-o', 'save'])).toMatchObject({ options: { output: 'save' } });
    expect(parseSetArgs(['-f', '/tmp/x', 'restore', '-exist'])).toMatchObject({ command: 'restore', rest: [], options: { file: '/tmp/x', exist: true } });
    expect(parseSetArgs(['-quiet', '-s', '-t', '-name', 'list'])).toMatchObject({ options: { quiet: true, sorted: true, terse: true, names: true } });
  });

  it('refuses what ipset refuses, in its words', () => {
    expect(() => parseSetArgs(['list', '-o', 'bogus'])).toThrow("Syntax error: unknown output mode 'bogus'");
    expect(() => parseSetArgs(['list', '-o'])).toThrow('needs an output mode');
    expect(() => parseSetArgs(['restore', '-f'])).toThrow('needs a file name');
  });
});

describe('the order of ipset -sorted', () => {
  const sorted = (type: string, texts: string[]) => sortEntries(type, texts.map((t) => parseEntry(type, t)))
    .map((e) => texts.find((t) => JSON.stringify(parseEntry(type, t)) === JSON.stringify(e)));

  it('addresses by their numbers (as strtol reads them in hex), not as text', () => {
    expect(sorted('hash:ip', ['10.0.0.9', '10.0.0.10', '2.0.0.1', '10.0.0.1'])).toEqual(['2.0.0.1', '10.0.0.1', '10.0.0.9', '10.0.0.10']);
    expect(sorted('hash:mac', ['0A:00:00:00:00:01', '00:00:00:00:00:02', 'AA:00:00:00:00:02', '09:00:00:00:00:02']))
      .toEqual(['00:00:00:00:00:02', '09:00:00:00:00:02', '0A:00:00:00:00:01', 'AA:00:00:00:00:02']);
  });

  it('networks after the bare address, longer prefixes first; words by length, then bytes; :: first', () => {
    expect(compareEntryText('10.0.0.0\n', '10.0.0.0/24\n')).toBeLessThan(0);
    expect(compareEntryText('10.0.0.0/24\n', '10.0.0.0/16\n')).toBeLessThan(0);
    expect(compareEntryText('10.0.0.1,tcp:80\n', '10.0.0.1,udp:80\n')).toBeLessThan(0);
    expect(compareEntryText('10.0.0.1,sctp:80\n', '10.0.0.1,udp:80\n')).toBeGreaterThan(0);
    expect(compareEntryText('2001::1\n', '2001:db8::1\n')).toBeLessThan(0);
    expect(compareEntryText('10.0.0.1\n', '10.0.0.1\n')).toBe(0);
  });

  it('leaves bitmaps and list:set in the kernel\'s order', () => {
    const e = [{ name: 'b' }, { name: 'a' }];
    expect(sortEntries('list:set', e)).toEqual(e);
    expect(sortEntries('bitmap:port', [{ port: 9 }, { port: 1 }])).toEqual([{ port: 9 }, { port: 1 }]);
  });
});
