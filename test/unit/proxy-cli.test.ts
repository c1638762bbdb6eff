import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../examples/proxy/config';
import { ownedRangesCheck, parseArgs } from '../../examples/proxy/main';
import { OwnedRanges } from '../../examples/proxy/ranges';

describe('proxy example: ownership ranges and options', () => {
  it('matches addresses against IPv4 and IPv6 ranges', () => {
    const v4 = new OwnedRanges(['10.96.0.0/12']);
    expect(['10.96.0.1', '10.111.255.255'].map((a) => v4.has(a))).toEqual([true, true]);
    expect(['10.112.0.0', '10.95.255.255', 'fd00::1', 'not an ip'].map((a) => v4.has(a))).toEqual([false, false, false, false]);
    const v6 = new OwnedRanges(['fd00:10:96::/108']);
    expect(['fd00:10:96::10', 'fd00:10:96::f:ffff', 'FD00:10:96::1'].map((a) => v6.has(a))).toEqual([true, true, true]);
    expect(['fd00:10:96::10:0', 'fd00:10:97::1', '10.96.0.1'].map((a) => v6.has(a))).toEqual([false, false, false]);
    const both = new OwnedRanges(['10.96.0.0/12', 'fd00:10:96::/108']);
    expect(['10.96.0.1', 'fd00:10:96::1', '10.0.0.1'].map((a) => both.has(a))).toEqual([true, true, false]);
    expect(String(both)).toBe('10.96.0.0/12, fd00:10:96::/108');
    expect(new OwnedRanges(['0.0.0.0/0']).has('192.168.1.1')).toBe(true);
    // Families stay apart: an IPv4 range does not own the IPv4-mapped IPv6 address, nor the reverse
    // (net.BlockList alone would say yes to both).
    expect(new OwnedRanges(['::ffff:10.0.0.0/104']).has('::ffff:10.1.2.3')).toBe(true);
    expect(new OwnedRanges(['::ffff:10.0.0.0/104']).has('10.1.2.3')).toBe(false);
    expect(new OwnedRanges(['10.0.0.0/8']).has('::ffff:10.1.2.3')).toBe(false);
    expect(() => new OwnedRanges(['10.96.0.0/33'])).toThrow(RangeError);
    expect(() => new OwnedRanges(['fd00::/129'])).toThrow(RangeError);
    expect(() => new OwnedRanges(['10.96.0.0'])).toThrow(/not an address range/);
    expect(() => new OwnedRanges(['10.96.0.256/12'])).toThrow(/not an address range/);
  });

  it('parses options with kube-proxy-like defaults', () => {
    const o = parseArgs(['--config', 'p.yaml']);
    expect(o).toMatchObject({ config: 'p.yaml', link: 'kube-ipvs0', metrics: '127.0.0.1:10249', syncPeriodMs: 30_000, drainTimeoutMs: 60_000, cleanup: false });
    expect(o.ranges.cidrs).toEqual(['10.96.0.0/12', 'fd00:10:96::/108']);
    const p = parseArgs(['--cleanup', '--netns', 'lb', '--service-cidr', '10.0.0.0/8', '--metrics', 'off', '--sync-period', '0.5']);
    expect(p).toMatchObject({ netns: '/run/netns/lb', cleanup: true, metrics: null, syncPeriodMs: 500 });
    expect(p.ranges.cidrs).toEqual(['10.0.0.0/8']);
    expect(() => parseArgs([])).toThrow(/--config is required/);
    expect(() => parseArgs(['--config'])).toThrow(/--config needs a value/);
    expect(() => parseArgs(['--config', 'x', '--link', 'much-too-long-name'])).toThrow(/not a link name/);
    expect(() => parseArgs(['--config', 'x', '--sync-period', '-1'])).toThrow(/seconds/);
    expect(() => parseArgs(['--config', 'x', '--bogus'])).toThrow(/unknown argument '--bogus'/);
    expect(() => parseArgs(['--config', 'x', '--service-cidr', '10.0.0.0/40'])).toThrow(/--service-cidr: '10.0.0.0\/40' is not an address range/);
  });

  it('refuses a config naming a virtual IP outside the owned ranges, at its line', () => {
    const text = 'services:\n  - name: a\n    ips:\n      - 10.96.0.1\n      - 192.168.0.1\n    ports: [{ port: 80 }]\n';
    const check = ownedRangesCheck(new OwnedRanges(['10.96.0.0/12']));
    expect(() => check(parseConfig(text, 'p.yaml'), 'p.yaml')).toThrow(
      'p.yaml:5: services[0].ips[1]: 192.168.0.1 is outside the ranges this proxy owns (--service-cidr 10.96.0.0/12)',
    );
  });
});
