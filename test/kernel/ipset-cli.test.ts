// `ipvs set ...` against the ipset tool: what one writes the other reads, text for text.
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { readFileSync } from 'node:fs';
import { useNetns, type Netns } from './helpers/netns';

async function cli(ns: Netns, args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['--netns', ns.path, ...args], { out: (t) => { out += t; }, err: (t) => { err += t; }, readStdin: async () => stdin });
  return { code, out, err };
}

const netns = useNetns();
const other = useNetns();

describe('ipvs set', () => {
  it('creates, adds, tests as ipset does', async () => {
    const ns = netns();
    expect(await cli(ns, ['set', 'create', 'web', 'hash:ip,port', 'timeout', '600', 'comment'])).toMatchObject({ code: 0 });
    expect(await cli(ns, ['set', 'add', 'web', '10.0.0.1,udp:53', 'timeout', '300', 'comment', 'a b'])).toMatchObject({ code: 0 });
    expect((await ns.run('ipset', ['save', 'web'])).stdout).toMatch(/^add web 10\.0\.0\.1,udp:53 timeout \d+ comment "a b"$/m);
    expect(await cli(ns, ['set', 'test', 'web', '10.0.0.1,udp:53'])).toMatchObject({ code: 0, err: 'Warning: 10.0.0.1,udp:53 is in set web.\n' });
    expect(await cli(ns, ['set', 'test', 'web', '10.0.0.2,udp:53'])).toMatchObject({ code: 1, err: '10.0.0.2,udp:53 is NOT in set web.\n' });
    const dup = await cli(ns, ['set', 'add', 'web', '10.0.0.1,udp:53']);
    expect(dup.code).toBe(1);
    expect(dup.err).toContain('the element is already in the set');
    expect(dup.err).toContain('(IPSET_ERR_EXIST)');
    expect(await cli(ns, ['set', 'add', '-exist', 'web', '10.0.0.1,udp:53'])).toMatchObject({ code: 0 });
    expect((await cli(ns, ['set', 'add', 'web', '10.0.0.1,bogus:53'])).code).toBe(2);
  });

  it('lists as ipset list does, text for text', async () => {
    const ns = netns();
    await ns.run('ipset', ['create', 'plain', 'hash:net', 'family', 'inet6', 'counters']);
    await ns.run('ipset', ['add', 'plain', '2001:db8::/48', 'nomatch']);
    await ns.run('ipset', ['add', 'plain', 'fd00::1']);
    expect((await cli(ns, ['set', 'list', 'plain'])).out).toBe((await ns.run('ipset', ['list', 'plain'])).stdout);
    expect((await cli(ns, ['set', 'list', '-t', 'plain'])).out).toBe((await ns.run('ipset', ['list', '-t', 'plain'])).stdout);
    // -n is the global --netns; ipset's long form -name lists the names.
    expect((await cli(ns, ['set', 'list', '-name'])).out).toBe((await ns.run('ipset', ['list', '-n'])).stdout);
    const json = JSON.parse((await cli(ns, ['set', 'list', '--json', 'plain'])).out) as { name: string; entries: unknown[] }[];
    expect(json[0]).toMatchObject({ name: 'plain', type: 'hash:net', family: 'inet6', counters: true });
    expect(json[0]!.entries).toHaveLength(2);
  });

  it('save goes into ipset restore, and ipset save into restore, unchanged', async () => {
    const blank = (t: string) => t.replace(/ timeout \d+/g, ' timeout T').replace(/initval 0x[0-9a-f]+/g, 'initval X');
    const saved = (await cli(netns(), ['set', 'save'])).out;
    expect(blank(saved)).toBe(blank((await netns().run('ipset', ['save'])).stdout));
    const r = await other().exec('sh', ['-c', `ipset restore <<'EOF'\n${saved}EOF`]);
    expect(r.code).toBe(0);
    expect(blank((await other().run('ipset', ['save'])).stdout)).toBe(blank(saved));
    await other().run('ipset', ['destroy']);
    const toolText = (await netns().run('ipset', ['save'])).stdout;
    expect(await cli(other(), ['set', 'restore'], toolText)).toMatchObject({ code: 0 });
    expect(blank((await other().run('ipset', ['save'])).stdout)).toBe(blank(toolText));
    const bad = await cli(other(), ['set', 'restore'], 'create x hash:ip\nadd x 10.0.0.1\nadd x 10.0.0.1\n');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('line 3');
  });
});

// The same command line through the ipset tool and `ipvs set`, in one namespace: exit status and
// standard output equal; standard error equal where ipset's words are kept (test, and -q's silence).
describe('ipset options in every position ipset takes them', () => {
  const ns = useNetns();
  const two = useNetns();

  async function both(n: Netns, args: string[], opts: { err?: boolean } = {}): Promise<void> {
    const tool = await n.exec('ipset', args);
    const ours = await cli(n, ['set', ...args]);
    const what = `ipset ${args.join(' ')}`;
    expect(ours.code, what).toBe(tool.code);
    expect(ours.out, what).toBe(tool.stdout);
    if (opts.err) expect(ours.err, what).toBe(tool.stderr);
  }

  it('prepares sets whose sorted order differs from the kernel\'s', async () => {
    const n = ns();
    const lines = [
      'create ips hash:ip', ...['10.0.0.9', '10.0.0.10', '2.0.0.1', '10.0.0.1', '192.168.1.1', '10.1.0.0'].map((a) => `add ips ${a}`),
      'create nets hash:net', ...['10.0.0.0/24', '10.0.0.0/16', '10.0.0.0', '10.0.1.0/24', '9.0.0.0/8', '10.0.0.0/25 nomatch'].map((a) => `add nets ${a}`),
      'create six hash:ip family inet6', ...['2001:db8::1', '2001::1', '::1', 'fe80::1', '2001:db8::10', '2001:db8::9'].map((a) => `add six ${a}`),
      'create ports hash:ip,port', ...['10.0.0.1,udp:53', '10.0.0.1,tcp:80', '10.0.0.1,tcp:443', '10.0.0.1,sctp:5', '10.0.0.1,icmp:echo-request', '2.0.0.1,tcp:9'].map((a) => `add ports ${a}`),
      'create ifs hash:net,iface', ...['10.0.0.0/24,eth10', '10.0.0.0/24,eth0', '10.0.0.0/24,lo', '10.0.0.0/16,physdev:eth1'].map((a) => `add ifs ${a}`),
      'create macs hash:mac', ...['0A:00:00:00:00:01', '00:00:00:00:00:02', 'AA:00:00:00:00:02', '09:00:00:00:00:02'].map((a) => `add macs ${a}`),
      'create bm bitmap:ip,mac range 10.0.0.0/28', 'add bm 10.0.0.9', 'add bm 10.0.0.2,02:00:00:00:00:02',
      'create all list:set', 'add all macs', 'add all ips',
    ];
    const r = await n.exec('sh', ['-c', `ipset restore <<'EOF'\n${lines.join('\n')}\nEOF`]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });

  it('-o, -sorted, -t, -name on list and save, before or after the command', async () => {
    const n = ns();
    for (const args of [
      ['list', '-o', 'save', 'ports'], ['-o', 'save', 'list', 'ports'], ['list', 'ports', '-o', 'plain'], ['save', '-o', 'plain', 'nets'],
      ['list', '-o', 'plain', '-o', 'save', 'six'],
      ['list', '-sorted'], ['-sorted', 'save'], ['save', '-sorted'], ['-s', 'list', '-o', 'save'], ['list', 'ifs', '-s'],
      ['list', '-sorted', 'nets'], ['list', '-sorted', 'six'], ['list', '-sorted', 'macs'], ['list', '-sorted', 'ports'], ['list', '-s', 'all'],
      ['-t', 'list'], ['list', '-t', '-sorted'], ['-name', 'list'], ['list', '-n', '-sorted'], ['-o', 'save', '-t', 'list'],
      ['save', '-o', 'plain', '-t'], ['-o', 'save', 'list', '-name'], ['list', '-t', 'ports'],
      ['list', 'nosuch'], ['-q', 'list', 'nosuch'],
    ]) await both(n, args, { err: args.includes('-q') });
  });

  it('test says what ipset says, and -q silences it', async () => {
    const n = ns();
    for (const args of [
      ['test', 'macs', 'aa:00:00:00:00:02'], ['test', 'macs', 'aa:00:00:00:00:03'], ['-q', 'test', 'macs', 'aa:00:00:00:00:02'],
      ['test', 'ports', '10.0.0.1,udp:53', '-q'], ['test', '-quiet', 'ports', '10.0.0.1,udp:54'], ['test', 'bm', '10.0.0.2,02:00:00:00:00:02'],
      ['test', 'ips', '10.0.0.77'], ['test', 'nets', '10.0.0.0/24'],
    ]) await both(n, args, { err: true });
  });

  it('-exist and -q on add, del and create, in every position', async () => {
    const n = ns();
    for (const args of [
      ['add', 'ips', '10.0.0.1'], ['-exist', 'add', 'ips', '10.0.0.1'], ['add', '-exist', 'ips', '10.0.0.1'], ['add', 'ips', '-!', '10.0.0.1'],
      ['add', 'ips', '10.0.0.1', '-exist'], ['-q', 'add', 'ips', '10.0.0.1'], ['add', 'ips', '10.0.0.1', '-quiet'],
      ['del', 'ips', '10.9.9.9'], ['del', 'ips', '10.9.9.9', '-exist'], ['-!', 'del', 'ips', '10.9.9.9'],
      ['create', 'ips', 'hash:ip'], ['create', 'ips', 'hash:ip', '-exist'], ['-exist', 'create', 'ips', 'hash:ip'],
      // options of list and save on other commands change nothing, as in ipset
      ['-o', 'save', 'add', 'ips', '10.0.0.1'], ['-s', 'test', 'ips', '10.0.0.1'], ['-t', 'add', 'ips', '10.0.0.1'], ['-sorted', 'del', 'ips', '10.9.9.9'],
    ]) await both(n, args, { err: args.some((a) => a.startsWith('-q')) });
  });

  it('-f FILE: list and save write it, restore reads it, with -exist before or after', async () => {
    const n = ns();
    const dir = (await n.run('mktemp', ['-d'])).stdout.trim();
    for (const args of [['save', 'ports'], ['list', 'nets', '-sorted'], ['-o', 'save', 'list', 'macs']]) {
      await n.run('ipset', ['-f', `${dir}/tool`, ...args]);
      expect(await cli(n, ['set', ...args, '-f', `${dir}/ours`])).toMatchObject({ code: 0, out: '' });
      expect(readFileSync(`${dir}/ours`, 'utf8'), args.join(' ')).toBe(readFileSync(`${dir}/tool`, 'utf8'));
    }
    await n.run('ipset', ['save', '-f', `${dir}/all`]);
    const m = two();
    expect(await cli(m, ['set', 'restore', '-f', `${dir}/all`])).toMatchObject({ code: 0 });
    expect((await m.run('ipset', ['save'])).stdout).toBe((await n.run('ipset', ['save'])).stdout);
    // again: every create and add exists now
    await both(m, ['restore', '-f', `${dir}/all`]);
    await both(m, ['-exist', 'restore', '-f', `${dir}/all`]);
    await both(m, ['-f', `${dir}/all`, 'restore', '-exist']);
    await both(m, ['restore', '-!', '-f', `${dir}/all`]);
    await both(m, ['-q', 'restore', '-f', `${dir}/all`], { err: true });
  });
});
