// Dummy links through the library in a fresh namespace, cross-checked by `ip -j link` reading
// what the library wrote, and the library reading what `ip` wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, NetlinkError, type Handle, type Link } from '../../src/index';
import { useNetns } from './helpers/netns';

const netns = useNetns();
let h: Handle;
beforeAll(() => { h = openHandle({ netns: netns().path }); });
afterAll(() => h?.close());

async function ipJson(...args: string[]): Promise<Record<string, unknown>[]> {
  return JSON.parse((await netns().run('ip', ['-j', ...args])).stdout) as Record<string, unknown>[];
}

/** What `ip -j link` prints for a link: the library's object without ip -d's linkinfo. */
function plain(l: Link): Omit<Link, 'linkinfo'> {
  const { linkinfo: _, ...rest } = l;
  return rest;
}

describe('dummy links', () => {
  it('creates one; ip sees exactly what the library reports', async () => {
    const link = await h.links.addDummy('kube-ipvs0');
    expect(link).toMatchObject({ ifname: 'kube-ipvs0', mtu: 1500, operstate: 'DOWN', link_type: 'ether', linkinfo: { info_kind: 'dummy' } });
    expect(link.flags).toEqual(['BROADCAST', 'NOARP']);
    const [ip] = await ipJson('link', 'show', 'dev', 'kube-ipvs0');
    expect(plain(link)).toEqual(ip);
    const [detail] = await ipJson('-d', 'link', 'show', 'dev', 'kube-ipvs0');
    expect((detail!.linkinfo as { info_kind: string }).info_kind).toBe('dummy');
  });

  it('sets it up and down; finds it by name and index', async () => {
    await h.links.setUp('kube-ipvs0');
    const up = await h.links.get('kube-ipvs0');
    expect(up.flags).toEqual(['BROADCAST', 'NOARP', 'UP', 'LOWER_UP']);
    expect(up.operstate).toBe('UNKNOWN');
    const [ip] = await ipJson('link', 'show', 'dev', 'kube-ipvs0');
    expect(plain(up)).toEqual(ip);
    expect(await h.links.get(up.ifindex)).toEqual(up);
    await h.links.setDown(up.ifindex);
    expect((await ipJson('link', 'show', 'dev', 'kube-ipvs0'))[0]!.flags).toEqual(['BROADCAST', 'NOARP']);
  });

  it('lists every link as ip -j link does', async () => {
    const mine = (await h.links.list()).map(plain);
    expect(mine).toEqual(await ipJson('link'));
  });

  it('reads what ip wrote', async () => {
    await netns().run('ip', ['link', 'add', 't1', 'type', 'dummy']);
    await netns().run('ip', ['link', 'set', 't1', 'mtu', '1400', 'address', '02:00:00:00:00:01', 'up']);
    const t1 = await h.links.get('t1');
    expect(t1).toMatchObject({ ifname: 't1', mtu: 1400, address: '02:00:00:00:00:01', flags: ['BROADCAST', 'NOARP', 'UP', 'LOWER_UP'] });
    await h.links.delete('t1');
    expect((await netns().exec('ip', ['link', 'show', 't1'])).code).not.toBe(0);
  });

  it('says what is wrong: EEXIST, ENODEV', async () => {
    const dup = await h.links.addDummy('kube-ipvs0').catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(NetlinkError);
    expect(dup).toMatchObject({ code: 'EEXIST', op: 'links.addDummy', message: 'links.addDummy: link kube-ipvs0 already exists (EEXIST)' });
    const missing = await h.links.get('nosuch0').catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'ENODEV', message: 'links.get: link nosuch0 does not exist (ENODEV)' });
    expect(await h.links.find('nosuch0')).toBeUndefined();
    await expect(h.links.delete(9999)).rejects.toMatchObject({ code: 'ENODEV' });
    expect(() => h.links.get('bad/name')).toThrow(TypeError);
  });

  it('ensureDummy and ensureGone are quiet when already so', async () => {
    const a = await h.links.ensureDummy('lb0');
    expect(a.flags).toContain('UP');
    const b = await h.links.ensureDummy('lb0');
    expect(b.ifindex).toBe(a.ifindex);
    await netns().run('ip', ['link', 'set', 'lb0', 'down']);
    expect((await h.links.ensureDummy('lb0')).flags).toContain('UP');
    await netns().run('ip', ['link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    await expect(h.links.ensureDummy('v0')).rejects.toThrow('link v0 exists but is a veth link');
    expect(await h.links.ensureGone('lb0')).toBe(true);
    expect(await h.links.ensureGone('lb0')).toBe(false);
    expect(await h.links.find('lb0')).toBeUndefined();
  });
});
