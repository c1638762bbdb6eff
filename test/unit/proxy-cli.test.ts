import { describe, expect, it } from 'vitest';
import { contains, parseCidr } from '../../examples/proxy/cidr';
import { parseConfig } from '../../examples/proxy/config';
import { ownedRangesCheck, parseArgs } from '../../examples/proxy/main';

describe('proxy example: ownership ranges and options', () => {
  it('matches addresses against IPv4 and IPv6 ranges', () => {
    const v4 = parseCidr('10.96.0.0/12');
    expect(['10.96.0.1', '10.111.255.255'].map((a) => contains(v4, a))).toEqual([true, true]);
    expect(['10.112.0.0', '10.95.255.255', 'fd00::1'].map((a) => contains(v4, a))).toEqual([false, false, false]);
    const v6 = parseCidr('fd00:10:96::/108');
    expect(['fd00:10:96::10', 'fd00:10:96::f:ffff', 'FD00:10:96::1'.toLowerCase()].map((a) => contains(v6, a))).toEqual([true, true, true]);
    expect(['fd00:10:96::10:0', 'fd00:10:97::1', '10.96.0.1'].map((a) => contains(v6, a))).toEqual([false, false, false]);
    expect(contains(parseCidr('::ffff:10.0.0.0/104'), '::ffff:10.1.2.3')).toBe(true);
    expect(contains(parseCidr('0.0.0.0/0'), '192.168.1.1')).toBe(true);
    expect(() => parseCidr('10.96.0.0/33')).toThrow(RangeError);
    expect(() => parseCidr('10.96.0.0')).toThrow(/not an address range/);
  });

  it('parses options with kube-proxy-like defaults', () => {
    const o = parseArgs(['--config', 'p.yaml']);
    expect(o).toMatchObject({ config: 'p.yaml', link: 'kube-ipvs0', metrics: '127.0.0.1:10249', syncPeriodMs: 30_000, drainTimeoutMs: 60_000, cleanup: false });
    expect(o.cidrs.map((c) => c.text)).toEqual(['10.96.0.0/12', 'fd00:10:96::/108']);
    const p = parseArgs(['--cleanup', '--netns', 'lb', '--service-cidr', '10.0.0.0/8', '--metrics', 'off', '--sync-period', '0.5']);
    expect(p).toMatchObject({ netns: '/run/netns/lb', cleanup: true, metrics: null, syncPeriodMs: 500 });
    expect(p.cidrs.map((c) => c.text)).toEqual(['10.0.0.0/8']);
    expect(() => parseArgs([])).toThrow(/--config is required/);
    expect(() => parseArgs(['--config'])).toThrow(/--config needs a value/);
    expect(() => parseArgs(['--config', 'x', '--link', 'much-too-long-name'])).toThrow(/not a link name/);
    expect(() => parseArgs(['--config', 'x', '--sync-period', '-1'])).toThrow(/seconds/);
    expect(() => parseArgs(['--config', 'x', '--bogus'])).toThrow(/unknown argument '--bogus'/);
  });

  it('refuses a config naming a virtual IP outside the owned ranges, at its line', () => {
    const text = 'services:\n  - name: a\n    ips:\n      - 10.96.0.1\n      - 192.168.0.1\n    ports: [{ port: 80 }]\n';
    const check = ownedRangesCheck([parseCidr('10.96.0.0/12')]);
    expect(() => check(parseConfig(text, 'p.yaml'), 'p.yaml')).toThrow(
      'p.yaml:5: services[0].ips[1]: 192.168.0.1 is outside the ranges this proxy owns (--service-cidr 10.96.0.0/12)',
    );
  });
});
