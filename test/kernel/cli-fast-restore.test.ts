// The CLI's fast paths against the old ones and the reference tools, on the real kernel:
// `ipvs restore` (its own tokenizer, batches) leaves what `ipvsadm -R` and the general parser
// through `ipvs.apply` leave, byte for byte in `ipvsadm -Sn`; `ipvs set restore` (whole input
// checked first, batches) what `ipset restore` and the library's `ipset.restore` leave, in
// `ipset save`. Bad lines are reported with number and reason, capped with a count, and nothing
// is applied; a scheduler name past the kernel's length is refused, not cut; a closed standard
// output ends `ipvs list` as it ends ipvsadm (status 141 in the shell, no stack trace).
import path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { main } from '../../src/cli/main';
import { parseRuleGeneral } from '../../src/cli/ipvs-rules';
import { useNetns, type Netns } from './helpers/netns';
import { cli, ipvsadm, withStdin } from './ipvs-helpers';

const fast = useNetns();
const tool = useNetns();
const old = useNetns();
let h: Handle;
beforeAll(() => { h = openHandle({ netns: old().path }); });
afterAll(() => h?.close());

/** `n` services of `d` real servers as ipvsadm -Sn writes them (sorted as it sorts), with rare lines among them. */
function rules(n: number, d: number): string {
  const out: string[] = [];
  for (let s = 0; s < n; s++) {
    const vip = `10.${100 + (s >> 8)}.${s & 255}.1`;
    const udp = s % 7 === 3;
    const p = udp ? '-u' : '-t';
    out.push(`-A ${p} ${vip}:${udp ? 53 : 80} -s ${['rr', 'wrr', 'wlc', 'lc', 'sh'][s % 5]}${s % 11 === 0 ? ' -p 300' : ''}`);
    for (let k = 0; k < d; k++) {
      const fwd = k % 3 === 2 ? '-g' : '-m';
      out.push(`-a ${p} ${vip}:${udp ? 53 : 80} -r 10.200.${s & 255}.${k + 1}:${fwd === '-g' ? (udp ? 53 : 80) : 8080 + k} ${fwd} -w ${k % 4}`);
    }
  }
  // rare shapes, through the general parser
  out.push('-A -t 10.99.0.1:443 -s rr -p 60 -M 255.255.255.0', '-a -t 10.99.0.1:443 -r 10.99.1.1:443 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum');
  out.push('-A -t [fd00::1]:80 -s lc', '-a -t [fd00::1]:80 -r [fd00::2]:80 -m -w 3', '-A -f 7 -s rr', '-a -f 7 -r 10.99.2.1:0 -g -w 1');
  out.push('-a -t 10.99.0.1:443 -r 10.99.1.2:443 -m -w 2 -x 100 -y 10');
  return `${out.join('\n')}\n`;
}

async function sorted(ns: Netns): Promise<string> {
  return ipvsadm(ns, '-Sn', '--thresholds').catch(() => ipvsadm(ns, '-Sn'));
}

describe('ipvs restore: the fast path', () => {
  it('leaves what ipvsadm -R and the general parser through ipvs.apply leave (ipvsadm -Sn)', async () => {
    const text = rules(300, 10);
    const r = await cli(fast(), ['restore'], text);
    expect(r).toEqual({ code: 0, out: '', err: '' });
    expect((await withStdin(tool(), text, 'ipvsadm', '-R')).code).toBe(0);
    // the old path: every line through the general ipvsadm parser, one ipvs.apply
    const changes = text.split('\n').map((l, i) => parseRuleGeneral(l, i + 1)).filter((x) => x !== undefined);
    expect(changes.filter((c) => c.error)).toEqual([]);
    const results = await h.ipvs.apply(changes.map((c) => c.change!));
    expect(results.filter((x) => x.status !== 'ok')).toEqual([]);
    const ours = await ipvsadm(fast(), '-Sn');
    expect(ours.split('\n').length).toBeGreaterThan(3300);
    expect(ours).toBe(await ipvsadm(tool(), '-Sn'));
    expect(ours).toBe(await ipvsadm(old(), '-Sn'));
    // thresholds are not in -Sn: the listing shows them
    expect((await cli(fast(), ['list', '-n', '--thresholds'])).out).toBe(await ipvsadm(old(), '-Ln', '--thresholds'));
    // list and save (the snapshot path) print what ipvsadm prints
    expect(await cli(fast(), ['save'])).toEqual({ code: 0, out: ours, err: '' });
    expect((await cli(fast(), ['list', '-n'])).out).toBe(await ipvsadm(fast(), '-Ln'));
    expect((await cli(fast(), ['list', '-n', '--stats'])).out).toBe(await ipvsadm(fast(), '-Ln', '--stats'));
    void sorted;
  });

  it('reports every line that does not parse with its number and reason, capped, and applies nothing', async () => {
    await ipvsadm(fast(), '-C');
    const good = rules(5, 2).split('\n').filter((l) => l);
    const lines: string[] = [];
    for (let i = 0; i < 30; i++) lines.push(good[i % good.length]!, `-a -t 10.0.0.1:80 -r 10.1.0.${i}:80 -m -w 2147483648`);
    const r = await cli(fast(), ['restore'], `${lines.join('\n')}\n`);
    expect(r.code).toBe(1);
    const err = r.err.split('\n');
    expect(err[0]).toBe('ipvs restore: line 2: illegal weight specified');
    expect(err[19]).toBe('ipvs restore: line 40: illegal weight specified');
    expect(err.slice(20)).toEqual(['ipvs restore: and 10 more', 'ipvs restore: 30 lines not understood; nothing was applied', '']);
    expect(await ipvsadm(fast(), '-Sn')).toBe('');
  });

  it('refuses a scheduler name longer than the kernel keeps, as the API does, instead of cutting it', async () => {
    const r = await cli(fast(), ['restore'], '-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.2:80 -s averyveryverylongname\n');
    expect(r.code).toBe(1);
    expect(await ipvsadm(fast(), '-Sn')).toBe('');
    const api = await h.ipvs.addService({ protocol: 'tcp', address: '10.0.0.2', port: 80, scheduler: 'averyveryverylongname' }).catch((e: Error) => e);
    expect(api).toBeInstanceOf(TypeError);
    // the API's own words, with the line number
    expect(r.err).toBe(`ipvs restore: line 2: ${(api as Error).message}\nipvs restore: 1 line not understood; nothing was applied\n`);
    expect((api as Error).message).toMatch(/scheduler must be a name like 'rr' or 'wlc' \(under 16 characters\), got 'averyveryverylongname'$/);
    // ipvsadm's own command line still cuts it, as ipvsadm does (and the kernel then has no such scheduler)
  });

  it('reports the kernel\'s refusals by line, capped, and applies the rest; -f FILE reads a file; --stop-on-error stops', async () => {
    await ipvsadm(fast(), '-C');
    const lines = ['-A -t 10.5.0.1:80 -s rr'];
    for (let i = 1; i <= 25; i++) lines.push(`-a -t 10.5.0.${i + 1}:80 -r 10.6.0.${i}:80 -m -w 1`); // no such services
    lines.push('-a -t 10.5.0.1:80 -r 10.6.1.1:80 -m -w 1');
    const dir = mkdtempSync(path.join(tmpdir(), 'ipvs-rules-'));
    const file = path.join(dir, 'rules');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await cli(fast(), ['restore', '-f', file]);
    expect(r.code).toBe(1);
    const err = r.err.split('\n');
    expect(err[0]).toBe('ipvs restore: line 2: ipvs.addDestination: service 10.5.0.2:80/tcp not defined (ESRCH)');
    expect(err[20]).toBe('ipvs restore: and 5 more');
    expect(err[21]).toBe('ipvs restore: 25 of 27 changes failed');
    expect(await ipvsadm(fast(), '-Sn')).toBe('-A -t 10.5.0.1:80 -s rr\n-a -t 10.5.0.1:80 -r 10.6.1.1:80 -m -w 1\n');
    await ipvsadm(fast(), '-C');
    const s = await cli(fast(), ['restore', '--stop-on-error', file]);
    expect(s.code).toBe(1);
    expect(s.err).toContain('1 of 27 changes failed, 25 not sent after the first failure');
    expect(await ipvsadm(fast(), '-Sn')).toBe('-A -t 10.5.0.1:80 -s rr\n');
  });

  it('shows progress on a terminal\'s standard error only, and not with --quiet', async () => {
    await ipvsadm(fast(), '-C');
    const text = rules(100, 10);
    const run = async (args: string[], tty: boolean) => {
      let err = '';
      const code = await main(['--netns', fast().path, ...args], { out: () => undefined, err: (t) => { err += t; }, errIsTTY: tty, readStdin: async () => text });
      return { code, err };
    };
    const shown = await run(['restore'], true);
    expect(shown.code).toBe(0);
    expect(shown.err).toMatch(/^\ripvs restore: [\d,]+ of 1,107 changes/);
    expect(shown.err.endsWith('\r\x1b[K')).toBe(true);
    await ipvsadm(fast(), '-C');
    expect(await run(['restore', '--quiet'], true)).toEqual({ code: 0, err: '' });
    await ipvsadm(fast(), '-C');
    expect(await run(['restore'], false)).toEqual({ code: 0, err: '' });
    expect(await ipvsadm(fast(), '-Sn')).toBe(await ipvsadm(old(), '-Sn').then(() => ipvsadm(fast(), '-Sn')));
  });

  it('ipvs list | head: a closed standard output ends it quietly, with the status ipvsadm gets', async () => {
    await ipvsadm(fast(), '-C');
    expect((await cli(fast(), ['restore'], rules(2000, 2))).code).toBe(0);
    const bin = path.resolve(__dirname, '../../dist/cli.js');
    const pipe = (cmd: string) => fast().exec('bash', ['-c', `${cmd} | head -c 100 > /dev/null; echo "status \${PIPESTATUS[0]}"`]);
    const theirs = await pipe('ipvsadm -Ln');
    const ours = await pipe(`node ${bin} list`);
    expect(theirs.stdout).toBe('status 141\n');
    expect(ours.stdout).toBe(theirs.stdout);
    expect(ours.stderr).toBe('');
    const save = await pipe(`node ${bin} save`);
    expect(save).toMatchObject({ stdout: 'status 141\n', stderr: '' });
  });
});

describe('ipvs set restore: the fast path', () => {
  function setText(n: number): string {
    const out = ['create ips hash:ip family inet hashsize 1024 maxelem 65536', 'create svc hash:ip,port family inet hashsize 1024 maxelem 65536 timeout 600'];
    for (let i = 0; i < n; i++) out.push(`add ips 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    for (let i = 0; i < n / 2; i++) out.push(`add svc 10.1.${(i >> 8) & 255}.${i & 255},${i % 3 ? 'tcp' : 'udp'}:${80 + (i % 100)} timeout ${100 + (i % 50)}`);
    out.push('create nets hash:net family inet hashsize 1024 maxelem 65536', 'add nets 10.8.0.0/16', 'add nets 192.168.0.0/24 nomatch', 'add nets 10.9.0.0/24');
    out.push('create six hash:ip family inet6 hashsize 1024 maxelem 65536', 'add six fd00::1', 'add six fd00::2');
    return `${out.join('\n')}\n`;
  }
  // initval is random, and so whether a bucket overflowed and the hash grew (hashsize)
  const saveOf = async (ns: Netns) => (await ns.run('ipset', ['save'])).stdout.replace(/ timeout \d+/g, ' timeout T').replace(/ initval 0x[0-9a-f]+/g, '').replace(/ hashsize \d+/g, '').split('\n').sort().join('\n');

  it('leaves what ipset restore and the library\'s ipset.restore leave (ipset save)', async () => {
    const text = setText(5000);
    const r = await cli(fast(), ['set', 'restore'], text);
    expect(r).toEqual({ code: 0, out: '', err: '' });
    expect((await withStdin(tool(), text, 'ipset', 'restore')).code).toBe(0);
    await h.ipset.restore(text);
    const ours = await saveOf(fast());
    expect(ours.split('\n').length).toBeGreaterThan(7500);
    expect(ours).toBe(await saveOf(tool()));
    expect(ours).toBe(await saveOf(old()));
    // -exist: the same file again changes nothing and succeeds, as ipset restore -exist does
    expect(await cli(fast(), ['set', 'restore', '-exist'], text)).toEqual({ code: 0, out: '', err: '' });
    expect((await withStdin(tool(), text, 'ipset', '-exist', 'restore')).code).toBe(0);
    expect(await saveOf(fast())).toBe(await saveOf(tool()));
  });

  it('checks the whole input first: a bad later line applies nothing, and is reported with number and reason', async () => {
    const ns = fast();
    await ns.run('ipset', ['destroy']);
    const text = 'create a hash:ip\nadd a 10.0.0.1\nadd a 10.0.0.2\ncreate b hash:ip,port\nadd b 10.0.0.1,tcp:80\nadd b 10.0.0.1,bogus:80\nadd a 10.0.0.300\nadd nosuch 10.0.0.1\nfrobnicate x\n';
    const r = await cli(ns, ['set', 'restore'], text);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toEqual([
      "ipvs set restore: line 9: unknown command 'frobnicate'",
      "ipvs set restore: line 6: ipset.add: unknown protocol 'bogus' in 'bogus:80'",
      "ipvs set restore: line 7: ipset.add: '10.0.0.300' is not an IPv4 or IPv6 address",
      'ipvs set restore: line 8: the set nosuch does not exist',
      'ipvs set restore: 4 lines not understood; nothing was applied',
      '',
    ]);
    expect((await ns.run('ipset', ['list', '-n'])).stdout).toBe('');
    // a refusal by the kernel: the line, and what came before it stays (as ipset restore)
    const dup = await cli(ns, ['set', 'restore'], 'create a hash:ip\nadd a 10.0.0.1\nadd a 10.0.0.1\nadd a 10.0.0.2\n');
    expect(dup.code).toBe(1);
    expect(dup.err).toMatch(/^ipvs set restore: line 3: ipset\.add: .*already in the set.*\(IPSET_ERR_EXIST\)\n/);
    const theirs = await withStdin(tool(), 'create dupe hash:ip\nadd dupe 10.0.0.1\nadd dupe 10.0.0.1\nadd dupe 10.0.0.2\n', 'ipset', 'restore');
    expect(theirs.code).toBe(1);
    expect(theirs.stderr).toMatch(/line 3/);
    const members = async (n: Netns, set: string) => (await n.run('ipset', ['save', set])).stdout.split('\n').filter((l) => l.startsWith('add'));
    expect(await members(ns, 'a')).toEqual((await members(tool(), 'dupe')).map((l) => l.replace('dupe', 'a')));
    // lines of one set split by a comment and a blank line (one batch change list): the refused
    // entry's own line, and the set holds what came before it
    await ns.run('ipset', ['destroy']);
    const gap = await cli(ns, ['set', 'restore'], 'create a hash:ip\nadd a 10.0.0.1\n# x\n\nadd a 10.0.0.2\nadd a 10.0.0.3\nadd a 10.0.0.1\nadd a 10.0.0.4\n');
    expect(gap.code).toBe(1);
    expect(gap.err).toMatch(/^ipvs set restore: line 7: ipset\.add: .*already in the set/);
    expect((await members(ns, 'a')).sort()).toEqual(['add a 10.0.0.1', 'add a 10.0.0.2', 'add a 10.0.0.3']);
  });

  it('rename, swap, flush and destroy between adds keep their order and the types follow them', async () => {
    const ns = fast();
    await ns.run('ipset', ['destroy']);
    await tool().run('ipset', ['destroy']);
    const text = 'create a hash:ip\ncreate b hash:ip\nadd a 10.0.0.1\nswap a b\nadd a 10.0.0.5\nadd b 10.0.0.2\nrename a c\nadd c 10.0.0.3\nflush b\nadd b 10.0.0.9\n'
      + 'create d hash:ip\nadd d 10.0.0.1\ndestroy d\ncreate d hash:ip,port\nadd d 10.0.0.1,tcp:80\nrename d e\ncreate d hash:net\nadd d 10.1.0.0/16\nadd e 10.0.0.2,udp:53\n';
    expect(await cli(ns, ['set', 'restore'], text)).toEqual({ code: 0, out: '', err: '' });
    expect((await withStdin(tool(), text, 'ipset', 'restore')).code).toBe(0);
    expect(await saveOf(ns)).toBe(await saveOf(tool()));
  });

  it('ipvs set version prints ipset\'s version line with the kernel\'s protocol; kube-proxy\'s pattern reads it', async () => {
    for (const args of [['set', 'version'], ['set', '--version'], ['set', '-v']]) {
      const r = await cli(fast(), args);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^ipset v\d+\.\d+, protocol version: \d+ \(ipvs .+\)\n$/);
      expect(Number(/protocol version: (\d+)/.exec(r.out)![1])).toBe(await h.ipset.protocol());
      expect(/v(\d+)\.(\d+)/.exec(r.out)!.slice(1).map(Number)[0]).toBeGreaterThanOrEqual(6);
    }
    expect((await fast().run('ipset', ['version'])).stdout).toMatch(/^ipset v\d+\.\d+, protocol version: \d+\n/);
  });
});
