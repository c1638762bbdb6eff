// `ipvs link ...` and `ipvs addr ...` against iproute2: the same output, text and JSON.
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { useNetns, type Netns } from './helpers/netns';

async function cli(ns: Netns, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['--netns', ns.path, ...args], { out: (t) => { out += t; }, err: (t) => { err += t; }, readStdin: async () => '' });
  return { code, out, err };
}

const netns = useNetns();

describe('ipvs link and ipvs addr', () => {
  it('adds a dummy link; list prints what ip link prints', async () => {
    const ns = netns();
    expect(await cli(ns, ['link', 'add', 'kube-ipvs0', 'type', 'dummy', 'up'])).toMatchObject({ code: 0 });
    expect(JSON.parse((await cli(ns, ['link', 'list', 'kube-ipvs0', '--json'])).out)).toEqual(JSON.parse((await ns.run('ip', ['-j', 'link', 'show', 'kube-ipvs0'])).stdout));
    expect((await cli(ns, ['link', 'show', 'kube-ipvs0'])).out).toBe((await ns.run('ip', ['link', 'show', 'kube-ipvs0'])).stdout);
    expect(JSON.parse((await cli(ns, ['link', 'list', '--json'])).out)).toEqual(JSON.parse((await ns.run('ip', ['-j', 'link'])).stdout));
    expect(await cli(ns, ['link', 'set', 'kube-ipvs0', 'down'])).toMatchObject({ code: 0 });
    expect((await ns.run('ip', ['-o', 'link', 'show', 'kube-ipvs0'])).stdout).not.toMatch(/[<,]UP[,>]/);
    await cli(ns, ['link', 'set', 'kube-ipvs0', 'up']);
  });

  it('adds and deletes addresses; list prints what ip addr prints', async () => {
    const ns = netns();
    expect(await cli(ns, ['addr', 'add', 'kube-ipvs0', '10.96.0.1/32', '10.96.0.2/32'])).toMatchObject({ code: 0 });
    expect(await cli(ns, ['addr', 'add', '10.96.0.3/32', 'dev', 'kube-ipvs0', 'label', 'kube-ipvs0:x'])).toMatchObject({ code: 0 });
    expect(await cli(ns, ['addr', 'add', 'fd00::1/128', 'dev', 'kube-ipvs0', 'nodad', 'noprefixroute'])).toMatchObject({ code: 0 });
    expect(JSON.parse((await cli(ns, ['addr', 'list', 'kube-ipvs0', '--json'])).out)).toEqual(JSON.parse((await ns.run('ip', ['-j', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout));
    expect((await cli(ns, ['addr', 'show', 'dev', 'kube-ipvs0'])).out).toBe((await ns.run('ip', ['addr', 'show', 'dev', 'kube-ipvs0'])).stdout);
    expect(JSON.parse((await cli(ns, ['addr', 'list', '--json'])).out)).toEqual(JSON.parse((await ns.run('ip', ['-j', 'addr'])).stdout));
    expect(await cli(ns, ['addr', 'del', 'kube-ipvs0', '10.96.0.2/32'])).toMatchObject({ code: 0 });
    expect((await ns.run('ip', ['-o', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout).not.toContain('10.96.0.2/32');
    const dup = await cli(ns, ['addr', 'add', 'kube-ipvs0', '10.96.0.1/32']);
    expect(dup.code).toBe(1);
    expect(dup.err).toContain('(EEXIST)');
    expect((await cli(ns, ['addr', 'add', 'kube-ipvs0'])).code).toBe(2);
    expect(await cli(ns, ['link', 'del', 'kube-ipvs0'])).toMatchObject({ code: 0 });
  });
});
