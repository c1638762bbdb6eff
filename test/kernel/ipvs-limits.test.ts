// The edges of IPVS settings on the real kernel, cross-checked with ipvsadm in the same namespace:
// every scheduler flag bit on sh, mh and others; weights up to INT_MAX and thresholds up to
// UINT_MAX; firewall marks from 2^31 on, which ipvsadm -S prints negative and cannot read back.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { useNetns } from './helpers/netns';
import { cli, ipvsadm, saved, withStdin } from './ipvs-helpers';

const netns = useNetns();
const other = useNetns();
let h: Handle;
let h2: Handle;
beforeAll(() => {
  h = openHandle({ netns: netns().path });
  h2 = openHandle({ netns: other().path });
});
afterAll(() => {
  h?.close();
  h2?.close();
});
beforeEach(async () => {
  await h.ipvs.flush();
  await h2.ipvs.flush();
});

describe('scheduler flags', () => {
  it('keeps flag-3 on sh and mh services, written by ipvsadm or by the library', async () => {
    await ipvsadm(netns(), '-A', '-t', '10.0.0.1:80', '-s', 'sh', '-b', 'sh-fallback,flag-3');
    await ipvsadm(netns(), '-A', '-t', '10.0.0.1:81', '-s', 'mh', '-b', 'mh-port,flag-3,flag-1');
    await h.ipvs.addService({ protocol: 'tcp', address: '10.0.0.1', port: 82, scheduler: 'sh', schedFlags: ['sh-port', 'flag-3'] });
    await h.ipvs.addService({ protocol: 'tcp', address: '10.0.0.1', port: 83, scheduler: 'rr', schedFlags: ['flag-1', 'flag-2', 'flag-3'] });
    const by = new Map((await h.ipvs.listServices()).map((s) => [(s as { port: number }).port, s]));
    expect(by.get(80)).toMatchObject({ schedFlags: ['sh-fallback', 'flag-3'] });
    expect(by.get(80)!.flags & 0x3f).toBe(0x2a);
    expect(by.get(81)).toMatchObject({ schedFlags: ['mh-fallback', 'mh-port', 'flag-3'] });
    expect(by.get(82)).toMatchObject({ schedFlags: ['sh-port', 'flag-3'] });
    expect(by.get(83)).toMatchObject({ schedFlags: ['flag-1', 'flag-2', 'flag-3'] });
    // ipvsadm leaves SCHED3 out when it names sh and mh flags (print_sched_flags)...
    const rules = await saved(netns());
    expect(rules).toContain('-A -t 10.0.0.1:80 -s sh -b sh-fallback');
    expect(rules).toContain('-A -t 10.0.0.1:81 -s mh -b mh-fallback,mh-port');
    expect(rules).toContain('-A -t 10.0.0.1:83 -s rr -b flag-1,flag-2,flag-3');
    // ...`ipvs save` keeps it, and ipvsadm -R takes it back: the kernel flags are the same there
    const ours = await cli(netns(), ['save']);
    expect(ours.out).toContain('-A -t 10.0.0.1:80 -s sh -b sh-fallback,flag-3\n');
    expect(ours.out).toContain('-A -t 10.0.0.1:81 -s mh -b mh-fallback,mh-port,flag-3\n');
    expect(await withStdin(other(), ours.out, 'ipvsadm', '-R')).toMatchObject({ code: 0, stderr: '' });
    const there = (await h2.ipvs.listServices()).map((s) => [(s as { port: number }).port, s.flags & 0x38, s.schedFlags]).sort();
    const here = [...by.values()].map((s) => [(s as { port: number }).port, s.flags & 0x38, s.schedFlags]).sort();
    expect(there).toEqual(here);
    expect((await saved(other())).sort()).toEqual(rules.slice().sort());
    // ipvs list shows every flag
    expect((await cli(netns(), ['list', '-n'])).out).toMatch(/TCP {2}10\.0\.0\.1:80 sh \(sh-fallback,flag-3\)/);
  });
});

describe('weights and thresholds', () => {
  it('weight 0 to INT_MAX, thresholds 0 to UINT_MAX, as the kernel keeps them; beyond refused before sending', async () => {
    const svc = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
    await h.ipvs.addService({ ...svc, scheduler: 'wrr' });
    await h.ipvs.addDestination(svc, { address: '10.0.0.2', port: 80, forwarding: 'masq', weight: 0x7fffffff, upperThreshold: 0xffffffff, lowerThreshold: 0xffffffff });
    await h.ipvs.addDestination(svc, { address: '10.0.0.3', port: 80, forwarding: 'masq', weight: 0, upperThreshold: 0x80000000, lowerThreshold: 0x7fffffff });
    const [a, b] = (await h.ipvs.listDestinations(svc)).sort((x, y) => x.address.localeCompare(y.address));
    expect(a).toMatchObject({ weight: 2147483647, upperThreshold: 4294967295, lowerThreshold: 4294967295 });
    expect(b).toMatchObject({ weight: 0, upperThreshold: 2147483648, lowerThreshold: 2147483647 });
    // ipvsadm reads the same numbers from the kernel
    const thr = await ipvsadm(netns(), '-Ln', '--thresholds');
    expect(thr).toMatch(/-> 10\.0\.0\.2:80 +4294967295 4294967295 /);
    expect(thr).toMatch(/-> 10\.0\.0\.3:80 +2147483648 2147483647 /);
    expect(await ipvsadm(netns(), '-Ln')).toMatch(/-> 10\.0\.0\.2:80 +Masq +2147483647 /);
    // and the library's listing prints what ipvsadm prints
    expect((await cli(netns(), ['list', '-n', '--thresholds'])).out).toBe(thr);
    expect((await cli(netns(), ['list', '-n'])).out).toBe(await ipvsadm(netns(), '-Ln'));
    // edits reach the edges too
    await h.ipvs.editDestination(svc, { address: '10.0.0.3', port: 80, forwarding: 'masq', weight: 65536, upperThreshold: 0xffffffff, lowerThreshold: 0 });
    expect(await ipvsadm(netns(), '-Ln', '--thresholds')).toMatch(/-> 10\.0\.0\.3:80 +4294967295 0 /);
    // refused before anything is sent: the kernel would take a weight above INT_MAX as negative (ERANGE)
    for (const bad of [{ weight: 0x80000000 }, { weight: -1 }, { upperThreshold: 0x100000000 }, { upperThreshold: 1, lowerThreshold: 2 }]) {
      await expect(h.ipvs.addDestination(svc, { address: '10.0.0.4', port: 80, forwarding: 'masq', ...bad })).rejects.toThrow(RangeError);
    }
    expect((await h.ipvs.listDestinations(svc)).length).toBe(2);
    // ipvsadm takes -w up to INT_MAX, and -x/-y only up to INT_MAX (short of the kernel's u32);
    // ipvs in ipvsadm's own arguments does the same, with the same words and exit status
    for (const [args, code] of [[['-w', '2147483647'], 0], [['-w', '2147483648'], 2], [['-x', '2147483647'], 0], [['-x', '2147483648'], 2]] as const) {
      const line = ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.5:80', '-m', ...args];
      const tool = await netns().exec('ipvsadm', line);
      expect(tool.code, line.join(' ')).toBe(code);
      if (code === 0) await ipvsadm(netns(), '-d', '-t', '10.0.0.1:80', '-r', '10.0.0.5:80');
      const ours = await cli(netns(), line);
      expect(ours.code, line.join(' ')).toBe(code);
      if (code !== 0) expect(ours.err).toContain(tool.stderr.trim().split('\n')[0]!);
      if (code === 0) await ipvsadm(netns(), '-d', '-t', '10.0.0.1:80', '-r', '10.0.0.5:80');
    }
  });
});

describe('firewall marks from 2^31 on', () => {
  it('ipvs save prints them unsigned, which ipvsadm -R reads; ipvsadm -S prints them negative and cannot', async () => {
    await h.ipvs.addService({ fwmark: 3000000000, scheduler: 'rr' });
    await ipvsadm(netns(), '-A', '-f', '4294967295', '-s', 'wlc', '-6');
    await h.ipvs.addService({ fwmark: 2147483647, scheduler: 'rr' });
    const marks = (await h.ipvs.listServices()).map((s) => (s as { fwmark: number }).fwmark).sort((x, y) => x - y);
    expect(marks).toEqual([2147483647, 3000000000, 4294967295]);
    const tool = await saved(netns());
    expect(tool).toContain('-A -f -1294967296 -s rr');
    expect(tool).toContain('-A -f -1 -6 -s wlc');
    expect(tool).toContain('-A -f 2147483647 -s rr');
    const ours = (await cli(netns(), ['save'])).out;
    expect(ours.split('\n').filter(Boolean).sort()).toEqual(['-A -f 2147483647 -s rr', '-A -f 3000000000 -s rr', '-A -f 4294967295 -6 -s wlc']);
    // ipvsadm -R cannot read its own save of these marks...
    const back = await withStdin(other(), `${tool.join('\n')}\n`, 'ipvsadm', '-R');
    expect(back.code).toBe(2);
    expect(back.stderr).toMatch(/invalid fwmark value `-\d+' specified/);
    await h2.ipvs.flush();
    // ...and reads ours: the same services there, ipvsadm -Sn equal in both namespaces
    expect(await withStdin(other(), ours, 'ipvsadm', '-R')).toMatchObject({ code: 0, stderr: '' });
    expect((await saved(other())).sort()).toEqual(tool.slice().sort());
    // the listing is ipvsadm's, negative marks and all
    expect((await cli(netns(), ['list', '-n'])).out).toBe(await ipvsadm(netns(), '-Ln'));
  });
});
