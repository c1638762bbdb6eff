// ipvsadm's own command line through `ipvs`: the same lines run by ipvsadm in one namespace and
// by `ipvs` in another must leave the same rules (ipvsadm -Sn) and end with the same exit status
// and, for refusals, ipvsadm's words.
import { describe, expect, it } from 'vitest';
import { useNetns } from './helpers/netns';
import { cli, saved, withStdin } from './ipvs-helpers';

const theirs = useNetns();
const ours = useNetns();

const LINES: string[][] = [
  ['-A', '-t', '10.0.0.1:80', '-s', 'rr'],
  ['-A', '-t', '10.0.0.1:80', '-s', 'rr'], // exists: 255
  ['-a', '-t', '10.0.0.1:80', '-r', '10.9.9.1:8080', '-m', '-w', '2'],
  ['-a', '-t', '10.0.0.1:80', '-r', '10.9.9.1:8080', '-m'], // exists: 255
  ['-a', '-t', '10.0.0.2:80', '-r', '10.9.9.1'], // no such service: 255
  ['-e', '-t', '10.0.0.1:80', '-r', '10.9.9.1:8080', '-m', '-w', '5', '-x', '100', '-y', '10'],
  ['-e', '-t', '10.0.0.1:80', '-r', '10.9.9.7:8080', '-m'], // no such destination: 255
  ['-A', '-u', '10.0.0.1:53', '-s', 'wrr', '-p', '600'],
  ['-A', '-f', '7', '-s', 'sh', '-b', 'sh-port'],
  ['-a', '-f', '7', '-r', '10.9.9.3', '-g'],
  ['-A', '-t', '[fd00::1]:443', '-s', 'lc'],
  ['-a', '-t', '[fd00::1]:443', '-r', '[fd00::9]:443', '-m'],
  ['-E', '-t', '10.0.0.1:80', '-s', 'wlc', '-p'],
  ['-E', '-t', '10.0.0.9:80', '-s', 'rr'], // no such service: 255
  ['-A', '-t', '10.0.0.3:80', '-s', 'nosuch'], // unknown scheduler: 255
  ['-A', '-t', '10.0.0.3:80', '-s', 'rr', '-x', '4'], // refused option: 2
  ['-A', '-t', '10.0.0.3'], // zero port: 2
  ['-d', '-t', '10.0.0.1:80', '-r', '10.9.9.7:8080'], // 255
  ['-D', '-t', '10.0.0.4:80'], // 255
  ['-Z', '-t', '10.0.0.9:80'], // 255
  ['-Z'],
  ['--set', '0', '0', '0'],
  ['--stop-daemon', 'master'], // 255
  ['-D', '-u', '10.0.0.1:53'],
  ['-d', '-f', '7', '-r', '10.9.9.3'],
];


describe('ipvsadm\'s command line', () => {
  it('changes, refusals and exit statuses are ipvsadm\'s, line after line', async () => {
    for (const args of LINES) {
      const [t, o] = await Promise.all([theirs().exec('ipvsadm', args), cli(ours(), args)]);
      const what = `ipvs ${args.join(' ')}`;
      expect(o.code, what).toBe(t.code);
      if (t.code === 255) expect(o.err.trim(), what).toBe(t.stderr.trim());
      if (t.code === 2) expect(o.err, what).not.toBe('');
      const [mine, reference] = await Promise.all([saved(ours()), saved(theirs())]);
      expect(mine, what).toEqual(reference);
    }
    expect((await saved(ours())).length).toBeGreaterThan(3);
  });

  it('lists and saves as ipvsadm -Ln and -Sn; -L of a missing service is status 1; -R reads rules', async () => {
    for (const args of [['-Ln'], ['-L', '-n', '--stats', '--exact'], ['-ln', '-t', '10.0.0.1:80'], ['-Sn'], ['-L', '-n', '--timeout']]) {
      const t = await theirs().exec('ipvsadm', args);
      const o = await cli(ours(), args);
      expect(o.code, args.join(' ')).toBe(0);
      expect(o.out, args.join(' ')).toBe(t.stdout);
    }
    const missing = await cli(ours(), ['-Ln', '-t', '10.0.0.99:80']);
    expect(missing.code).toBe((await theirs().exec('ipvsadm', ['-Ln', '-t', '10.0.0.99:80'])).code);
    expect(missing.code).toBe(1);
    const rules = '-A -t 10.0.0.5:80 -s rr\n-a -t 10.0.0.5:80 -r 10.9.9.5:80 -m -w 1\n';
    expect((await withStdin(theirs(), rules, 'ipvsadm', '-R')).code).toBe(0);
    const restored = await cli(ours(), ['-R'], rules);
    expect(restored.code).toBe(0);
    expect(await saved(ours())).toEqual(await saved(theirs()));
    const flushed = await cli(ours(), ['-C']);
    expect(flushed.code).toBe(0);
    expect(await saved(ours())).toEqual([]);
  });

  it('-h and -v after a command option print usage and version; --version is ipvs\'s own', async () => {
    const h = await cli(ours(), ['-L', '-h']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/-A\|-E -t\|-u/);
    expect((await cli(ours(), ['-A', '-v'])).out).toMatch(/ipvsadm v1\.31 compatible/);
    expect((await cli(ours(), ['--version'])).out).toMatch(/^ipvs \d+\.\d+\.\d+\n$/);
  });
});
