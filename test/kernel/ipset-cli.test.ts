// `ipvs set ...` against the ipset tool: what one writes the other reads, text for text.
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
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
    expect(await cli(ns, ['set', 'test', 'web', '10.0.0.1,udp:53'])).toMatchObject({ code: 0, err: '10.0.0.1,udp:53 is in set web.\n' });
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
