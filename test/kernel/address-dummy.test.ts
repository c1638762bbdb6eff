// Addresses on a dummy link through the library in a fresh namespace, cross-checked by
// `ip -j addr` reading what the library wrote, and the library reading what `ip` wrote; and the
// change events a long-running proxy relies on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, NetlinkError, type Address, type AddressEvent, type Handle } from '../../src/index';
import { runOperations } from '../../src/netlink/operation';
import { addAddressOp, listAddressesOp } from '../../src/address/ops';
import { NETLINK_ROUTE } from '../../src/native';
import { NLM_F_DUMP_FILTERED } from '../../src/uapi/netlink';
import { useNetns } from './helpers/netns';

const netns = useNetns();
let h: Handle;
let dev: number;
beforeAll(async () => {
  h = openHandle({ netns: netns().path });
  dev = (await h.links.ensureDummy('kube-ipvs0')).ifindex;
});
afterAll(() => h?.close());

/** `ip -j addr show dev NAME`'s addr_info. */
async function ipAddrs(name = 'kube-ipvs0'): Promise<Record<string, unknown>[]> {
  const [link] = JSON.parse((await netns().run('ip', ['-j', 'addr', 'show', 'dev', name])).stdout) as { addr_info: Record<string, unknown>[] }[];
  return link!.addr_info;
}

const withoutIndex = (a: Address) => {
  const { ifindex: _, ...rest } = a;
  return rest;
};

describe('addresses', () => {
  it('adds IPv4 and IPv6 addresses of any prefix with label, nodad, noprefixroute; ip -j addr shows the same', async () => {
    await h.addresses.add('kube-ipvs0', '10.96.0.1/32', { label: 'kube-ipvs0:svc' });
    await h.addresses.add(dev, '10.96.1.0/24');
    await h.addresses.add('kube-ipvs0', 'fd00::1/128', { nodad: true, noprefixroute: true });
    await h.addresses.add('kube-ipvs0', 'fd00:1::1/64', { nodad: true });
    const mine = await h.addresses.list('kube-ipvs0');
    expect(mine.every((a) => a.ifindex === dev)).toBe(true);
    expect(mine.map(withoutIndex)).toEqual(await ipAddrs());
    expect(mine.find((a) => a.local === '10.96.0.1')).toMatchObject({ family: 'inet', prefixlen: 32, scope: 'global', label: 'kube-ipvs0:svc', valid_life_time: 4294967295 });
    expect(mine.find((a) => a.local === 'fd00::1')).toMatchObject({ family: 'inet6', prefixlen: 128, nodad: true, noprefixroute: true });
    expect((await h.addresses.list('kube-ipvs0', { family: 'inet6' })).map((a) => a.scope).sort()).toEqual(['global', 'global', 'link']);
  });

  it('reads what ip wrote', async () => {
    await netns().run('ip', ['addr', 'add', '172.16.5.4/16', 'dev', 'kube-ipvs0', 'valid_lft', '300', 'preferred_lft', '200']);
    const a = (await h.addresses.list(dev)).find((x) => x.local === '172.16.5.4');
    expect(a).toMatchObject({ prefixlen: 16, dynamic: true, family: 'inet' });
    expect(a!.valid_life_time).toBeLessThanOrEqual(300);
    expect(a!.preferred_life_time).toBeLessThanOrEqual(200);
  });

  it('replaces (updating lifetimes) and deletes; ip agrees', async () => {
    await h.addresses.replace('kube-ipvs0', '172.16.5.4/16', { validLft: 1000, preferredLft: 900 });
    const [ip] = (await ipAddrs()).filter((a) => a.local === '172.16.5.4');
    expect(ip!.valid_life_time).toBeGreaterThan(900);
    await h.addresses.delete('kube-ipvs0', '172.16.5.4/16');
    expect((await ipAddrs()).some((a) => a.local === '172.16.5.4')).toBe(false);
  });

  it('says what is wrong: EEXIST, EADDRNOTAVAIL, ENODEV, bad input before any syscall', async () => {
    const dup = await h.addresses.add('kube-ipvs0', '10.96.0.1/32').catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(NetlinkError);
    expect(dup).toMatchObject({ code: 'EEXIST', message: `addresses.add: 10.96.0.1/32 is already on link #${dev} (EEXIST)` });
    await expect(h.addresses.delete('kube-ipvs0', '10.9.9.9/32')).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
    await expect(h.addresses.add('nosuch0', '10.9.9.9/32')).rejects.toMatchObject({ code: 'ENODEV' });
    await expect(h.addresses.add('kube-ipvs0', '10.9.9.9/33')).rejects.toThrow(RangeError);
    await expect(h.addresses.add('kube-ipvs0', 'fd00::9', { label: 'x' })).rejects.toThrow(TypeError);
  });

  it('ensure and ensureGone are quiet when already so', async () => {
    expect(await h.addresses.ensure('kube-ipvs0', '10.96.0.10/32')).toBe(true);
    expect(await h.addresses.ensure('kube-ipvs0', '10.96.0.10/32')).toBe(false);
    expect(await h.addresses.ensureGone('kube-ipvs0', '10.96.0.10/32')).toBe(true);
    expect(await h.addresses.ensureGone('kube-ipvs0', '10.96.0.10/32')).toBe(false);
    expect(await h.addresses.ensureGone('nosuch0', '10.96.0.10/32')).toBe(false);
  });

  it('lists one link\'s addresses, filtered in the kernel (NLM_F_DUMP_FILTERED)', async () => {
    const other = await h.links.ensureDummy('other0');
    await h.addresses.add(other.ifindex, '10.200.0.1/32');
    const [r] = await runOperations((h as unknown as { connection(p: number): never }).connection(NETLINK_ROUTE), [listAddressesOp({ index: dev })]);
    expect(r!.status).toBe('ok');
    const mine = r!.status === 'ok' ? r!.value as Address[] : [];
    expect(mine.length).toBeGreaterThan(3);
    expect(mine.some((a) => a.local === '10.200.0.1')).toBe(false);
    expect((await h.addresses.list('other0')).map((a) => a.local)).toContain('10.200.0.1');
    // Every reply of the dump says the kernel filtered it.
    const ex = await (h as unknown as { connection(p: number): { exchange(m: unknown[]): Promise<{ outcomes: { replies: { flags: number }[] }[] }> } })
      .connection(NETLINK_ROUTE).exchange([listAddressesOp({ index: dev }).message]);
    expect(ex.outcomes[0]!.replies.length).toBe(mine.length);
    expect(ex.outcomes[0]!.replies.every((m) => m.flags & NLM_F_DUMP_FILTERED)).toBe(true);
  });
});

describe('address events', () => {
  async function take(it: AsyncIterator<AddressEvent>, n: number): Promise<AddressEvent[]> {
    const out: AddressEvent[] = [];
    while (out.length < n) {
      const r = await it.next();
      if (r.done) break;
      out.push(r.value);
    }
    return out;
  }

  it('notices an address removed and added behind its back', async () => {
    const it = h.addresses.events({ link: 'kube-ipvs0' });
    await netns().run('ip', ['addr', 'del', '10.96.0.1/32', 'dev', 'kube-ipvs0']);
    await netns().run('ip', ['addr', 'add', '10.200.0.2/32', 'dev', 'other0']); // another link: filtered out
    await netns().run('ip', ['addr', 'add', '10.96.0.1/32', 'dev', 'kube-ipvs0']);
    const events = await take(it, 2);
    expect(events).toMatchObject([
      { type: 'removed', address: { local: '10.96.0.1', prefixlen: 32, ifindex: dev, label: 'kube-ipvs0:svc' } },
      { type: 'added', address: { local: '10.96.0.1', prefixlen: 32, ifindex: dev } },
    ]);
    await it.return!();
  });

  it('says overflow when the kernel dropped notifications, then goes on', async () => {
    const it = h.addresses.events({ rcvbuf: 1, family: 'inet' }); // the kernel's smallest buffer
    const seen: AddressEvent[] = [];
    const loop = (async () => { for (let r = await it.next(); !r.done; r = await it.next()) seen.push(r.value); })();
    const waitFor = async (what: () => boolean) => {
      for (let t = 0; t < 100 && !what(); t++) await new Promise((r) => setTimeout(r, 50));
      return what();
    };
    const conn = (h as unknown as { connection(p: number): never }).connection(NETLINK_ROUTE);
    const adds = Array.from({ length: 200 }, (_, i) => addAddressOp(dev, `10.201.${i >> 8}.${i & 255}/32`));
    expect((await runOperations(conn, adds)).every((r) => r.status === 'ok')).toBe(true);
    expect(await waitFor(() => seen.some((e) => e.type === 'overflow'))).toBe(true);
    expect(seen.filter((e) => e.type === 'added').length).toBeLessThan(200);
    await new Promise((r) => setTimeout(r, 200)); // the reader drains what is left
    await h.addresses.delete(dev, '10.201.0.0/32');
    expect(await waitFor(() => seen.some((e) => e.type === 'removed' && e.address.local === '10.201.0.0'))).toBe(true);
    await it.return!();
    await loop;
  });

  it('ends on abort, and when the handle closes', async () => {
    const ac = new AbortController();
    const it = h.addresses.events({ family: 'inet6', signal: ac.signal });
    const pending = it.next();
    setTimeout(() => ac.abort(), 50);
    expect(await pending).toEqual({ done: true, value: undefined });

    const h2 = openHandle({ netns: netns().path });
    const seen: AddressEvent[] = [];
    const loop = (async () => { for await (const e of h2.addresses.events()) seen.push(e); })();
    await h.addresses.add(dev, 'fd00::42/128', { nodad: true });
    await new Promise((r) => setTimeout(r, 100));
    h2.close();
    await loop;
    expect(seen.some((e) => e.type === 'added' && e.address.local === 'fd00::42')).toBe(true);
  });
});
