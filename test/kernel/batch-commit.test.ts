// Batch commits against the real kernel: order across families, one result per change, every
// failure policy (undo restoring what ipvsadm -Sn and ipset save saw before), progress, abort, ipset
// bulk entries with per-entry results, and 100,000 changes without a lost acknowledgement.
import { afterEach, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { netnsForTest, type Netns } from './helpers/netns';

const svc = (i: number) => ({ protocol: 'tcp' as const, address: `10.96.${i >> 8}.${i & 255}`, port: 80 });
const dst = (k: number, weight = 1) => ({ address: `172.16.${(k >> 8) & 255}.${k & 255}`, port: 8080, forwarding: 'masq' as const, weight });

let handles: Handle[] = [];
afterEach(() => {
  for (const h of handles) h.close();
  handles = [];
});

async function setup(options: { rcvbuf?: number } = {}): Promise<{ ns: Netns; h: Handle }> {
  const ns = await netnsForTest();
  const h = openHandle({ netns: ns.path, ...options });
  handles.push(h);
  return { ns, h };
}

const save = async (ns: Netns) => (await ns.run('ipvsadm', ['-Sn'])).stdout.trim().split('\n').filter(Boolean).sort();
const ipsetSave = async (ns: Netns) => (await ns.run('ipset', ['save'])).stdout.trim().split('\n').filter(Boolean).sort();

describe('batch commit', () => {
  it('applies changes across IPVS and ipset in order, one result per change', async () => {
    const { ns, h } = await setup();
    const b = h.batch();
    expect(b.ipvs.addService({ ...svc(1), scheduler: 'rr' })).toBe(0);
    b.ipvs.addDestination(svc(1), dst(1));
    b.ipvs.addDestination(svc(1), dst(2, 3));
    expect(b.ipset.create('KUBE-TEST', 'hash:ip,port')).toBe(3);
    expect(b.ipset.add('KUBE-TEST', [{ ip: '172.16.0.1', proto: 'tcp', port: 8080 }, '172.16.0.2,udp:53'])).toBe(4);
    b.ipvs.addService({ ...svc(2), scheduler: 'wlc' });
    b.ipvs.addDestination(svc(2), dst(3));
    expect(b.length).toBe(8);
    const r = await b.commit();
    expect(r.ok, r.firstError?.message).toBe(true);
    expect(r.results.map((x) => [x.index, x.op, x.status])).toEqual([
      [0, 'ipvs.addService', 'ok'], [1, 'ipvs.addDestination', 'ok'], [2, 'ipvs.addDestination', 'ok'],
      [3, 'ipset.create', 'ok'], [4, 'ipset.add', 'ok'], [5, 'ipset.add', 'ok'],
      [6, 'ipvs.addService', 'ok'], [7, 'ipvs.addDestination', 'ok'],
    ]);
    expect(await save(ns)).toEqual([
      '-A -t 10.96.0.1:80 -s rr', '-A -t 10.96.0.2:80 -s wlc',
      '-a -t 10.96.0.1:80 -r 172.16.0.1:8080 -m -w 1', '-a -t 10.96.0.1:80 -r 172.16.0.2:8080 -m -w 3',
      '-a -t 10.96.0.2:80 -r 172.16.0.3:8080 -m -w 1',
    ].sort());
    const sets = await ipsetSave(ns);
    expect(sets).toContain('add KUBE-TEST 172.16.0.1,tcp:8080');
    expect(sets).toContain('add KUBE-TEST 172.16.0.2,udp:53');
    await expect(b.commit()).rejects.toThrow(/already committed/);
  });

  it('creates a link and binds addresses on it in the same batch, in order with IPVS; undo takes them back', async () => {
    const { ns, h } = await setup();
    const b = h.batch();
    b.links.addDummy('kube-ipvs0');
    for (let i = 1; i <= 50; i++) b.addresses.add('kube-ipvs0', `10.96.0.${i}/32`);
    b.ipvs.addService({ ...svc(1), scheduler: 'rr' });
    b.addresses.add('lo', '10.200.0.1/32');
    b.links.set('kube-ipvs0', { up: true });
    const r = await b.commit();
    expect(r.ok, r.firstError?.message).toBe(true);
    const addrs = JSON.parse((await ns.run('ip', ['-4', '-j', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout) as { flags: string[]; addr_info: { local: string; prefixlen: number }[] }[];
    expect(addrs[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(Array.from({ length: 50 }, (_, i) => `10.96.0.${i + 1}/32`));
    expect(addrs[0]!.flags).toContain('UP');
    expect((await ns.run('ip', ['-o', 'addr', 'show', 'dev', 'lo'])).stdout).toContain('10.200.0.1/32');

    // An address on a link that does not exist fails without being sent; undo removes what was added.
    const b2 = h.batch();
    b2.addresses.add('kube-ipvs0', '10.96.1.1/32');
    b2.addresses.delete('kube-ipvs0', '10.96.0.7/32');
    b2.links.set('kube-ipvs0', { up: false });
    b2.addresses.add('nosuchlink', '10.96.1.2/32');
    const r2 = await b2.commit({ onError: 'undo' });
    expect(r2.results.map((x) => x.status)).toEqual(['ok', 'ok', 'ok', 'error']);
    expect(r2.results[3]!.error).toMatchObject({ code: 'ENODEV', op: 'addresses.add' });
    expect(r2.undone).toBe(true);
    const after = JSON.parse((await ns.run('ip', ['-4', '-j', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout) as typeof addrs;
    expect(after[0]!.addr_info.map((a) => a.local).sort()).toEqual(addrs[0]!.addr_info.map((a) => a.local).sort());
    expect(after[0]!.flags).toContain('UP');

    // The kernel's refusals of addresses name the operation, its index and the address.
    const ifindex = JSON.parse((await ns.run('ip', ['-j', 'link', 'show', 'kube-ipvs0'])).stdout)[0].ifindex as number;
    const b3 = h.batch();
    b3.addresses.add('kube-ipvs0', '10.96.0.3/32'); // there already
    b3.addresses.delete(ifindex, '10.96.9.9/32'); // never was
    b3.addresses.add(ifindex, '10.96.9.8/32');
    const r3 = await b3.commit({ onError: 'continue' });
    expect(r3.results.map((x) => x.status)).toEqual(['error', 'error', 'ok']);
    expect(r3.results[0]!.error).toMatchObject({ code: 'EEXIST', op: 'addresses.add', index: 0 });
    expect(r3.results[0]!.error!.message).toContain(`10.96.0.3/32 is already on link #${ifindex}`);
    expect(r3.results[1]!.error).toMatchObject({ code: 'EADDRNOTAVAIL', op: 'addresses.delete', index: 1 });
    expect(r3.results[1]!.error!.message).toContain(`10.96.9.9/32 is not on link #${ifindex}`);
    expect((await ns.run('ip', ['-o', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout).toContain('10.96.9.8/32');
  });

  it("'stop' sends nothing after the refusing chunk and says exactly what the kernel applied", async () => {
    const { ns, h } = await setup();
    await h.ipvs.addService({ ...svc(1), scheduler: 'rr' });
    await h.ipvs.addDestination(svc(1), dst(5));
    const b = h.batch();
    for (let k = 1; k <= 10; k++) b.ipvs.addDestination(svc(1), dst(k)); // #4 (dst 5) exists
    const r = await b.commit({ maxChunkMessages: 3 });
    // chunks [0-2] [3-5] [6-8] [9]: the kernel refused #4 but went on with #5 in its chunk.
    expect(r.results.map((x) => x.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'error', 'ok', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(r.results[4]!.error).toMatchObject({ code: 'EEXIST', op: 'ipvs.addDestination', index: 4 });
    expect(r.results[4]!.error!.message).toContain('172.16.0.5:8080 already exists in service 10.96.0.1:80/tcp');
    expect(r).toMatchObject({ ok: false, applied: 5, failed: 1, skipped: 4, unknown: 0, aborted: false });
    expect(r.firstError).toBe(r.results[4]!.error);
    const dests = (await save(ns)).filter((l) => l.startsWith('-a'));
    expect(dests).toHaveLength(6); // 1 before the batch + #0-#3 + #5
    expect(dests.join('\n')).not.toContain('172.16.0.7:');

    // One message per chunk makes the stop exact.
    const b2 = h.batch();
    b2.ipvs.addDestination(svc(1), dst(20));
    b2.ipvs.addDestination(svc(1), dst(1)); // exists
    b2.ipvs.addDestination(svc(1), dst(21));
    const r2 = await b2.commit({ maxChunkMessages: 1 });
    expect(r2.results.map((x) => x.status)).toEqual(['ok', 'error', 'skipped']);
  });

  it("'continue' sends everything and reports each refusal", async () => {
    const { ns, h } = await setup();
    const b = h.batch();
    b.ipvs.addService({ ...svc(1), scheduler: 'rr' });
    b.ipvs.addDestination(svc(9), dst(1)); // no such service
    b.ipvs.addDestination(svc(1), dst(1));
    b.ipvs.addDestination(svc(1), dst(1)); // twice
    b.ipvs.addDestination(svc(1), dst(2));
    const r = await b.commit({ onError: 'continue' });
    expect(r.results.map((x) => x.status)).toEqual(['ok', 'error', 'ok', 'error', 'ok']);
    expect(r.results[1]!.error).toMatchObject({ code: 'ESRCH' });
    expect(r.results[1]!.error!.message).toContain('service 10.96.0.9:80/tcp not defined');
    expect(r.results[3]!.error).toMatchObject({ code: 'EEXIST' });
    expect(r).toMatchObject({ applied: 3, failed: 2, skipped: 0 });
    expect((await save(ns)).filter((l) => l.startsWith('-a'))).toHaveLength(2);
  });

  it("'undo' restores edited and deleted IPVS objects and ipset entries, as ipvsadm -Sn and ipset save saw them", async () => {
    const { ns, h } = await setup();
    await ns.run('ipvsadm', ['-A', '-t', '10.96.0.1:80', '-s', 'wlc', '-p', '300']);
    await ns.run('ipvsadm', ['-a', '-t', '10.96.0.1:80', '-r', '172.16.0.1:8080', '-m', '-w', '3', '-x', '100', '-y', '10']);
    await ns.run('ipvsadm', ['-a', '-t', '10.96.0.1:80', '-r', '172.16.0.2:8080', '-m', '-w', '4']);
    await ns.run('ipvsadm', ['-A', '-u', '10.96.0.2:53', '-s', 'rr']);
    await ns.run('ipvsadm', ['-a', '-u', '10.96.0.2:53', '-r', '172.16.0.3:53', '-g', '-w', '1']);
    await ns.run('ipset', ['create', 'S1', 'hash:ip,port', 'timeout', '0', 'comment']);
    await ns.run('ipset', ['add', 'S1', '172.16.0.1,tcp:8080', 'comment', 'one']);
    await ns.run('ipset', ['add', 'S1', '172.16.0.2,tcp:8080', 'timeout', '600']);
    await ns.run('ipset', ['create', 'S2', 'hash:ip']);
    await ns.run('ipset', ['add', 'S2', '10.0.0.1']);
    const beforeIpvs = await save(ns);
    const beforeSets = (await ipsetSave(ns)).map((l) => l.replace(/ timeout \d+/, ' timeout T'));

    const s1 = svc(1);
    const udp = { protocol: 'udp' as const, address: '10.96.0.2', port: 53 };
    const b = h.batch();
    b.ipvs.editService({ ...s1, scheduler: 'rr' });
    b.ipvs.editDestination(s1, { ...dst(1, 9) });
    b.ipvs.deleteDestination(s1, { address: '172.16.0.2', port: 8080 });
    b.ipvs.deleteService(udp);
    b.ipvs.addService({ ...svc(3), scheduler: 'rr' });
    b.ipvs.addDestination(svc(3), dst(30));
    b.ipset.del('S1', ['172.16.0.1,tcp:8080', '172.16.0.2,tcp:8080']);
    b.ipset.add('S1', '172.16.0.9,tcp:8080');
    b.ipset.destroy('S2');
    b.ipset.create('S3', 'hash:ip');
    b.ipset.add('S3', '10.0.0.3');
    b.ipvs.addService({ ...s1, scheduler: 'rr' }); // exists: the failure that triggers undo
    b.ipvs.addService({ ...svc(4), scheduler: 'rr' }); // after the failure
    const progress: string[] = [];
    const r = await b.commit({ onError: 'undo', onProgress: (p) => progress.push(p.phase) });
    expect(r.ok).toBe(false);
    expect(r.firstError).toMatchObject({ code: 'EEXIST', op: 'ipvs.addService', index: 12 });
    expect(r.results.slice(0, 12).every((x) => x.status === 'ok' && x.undo?.status === 'undone'), JSON.stringify(r.results)).toBe(true);
    expect(r.results[12]).toMatchObject({ status: 'error' });
    // In the refused change's chunk, so the kernel applied it anyway; undo took it back.
    expect(r.results[13]).toMatchObject({ status: 'ok', undo: { status: 'undone' } });
    expect(r.results[12]!.undo).toBeUndefined();
    expect(r.undone).toBe(true);
    expect(r.results[3]!.undo!.note).toMatch(/counters/);
    expect(progress).toContain('read');
    expect(progress).toContain('undo');

    expect(await save(ns)).toEqual(beforeIpvs);
    expect((await ipsetSave(ns)).map((l) => l.replace(/ timeout \d+/, ' timeout T'))).toEqual(beforeSets);
  });

  it('reports progress and stops at a slice boundary on abort, saying what was applied', async () => {
    const { ns, h } = await setup();
    const b = h.batch();
    for (let s = 0; s < 160; s++) {
      b.ipvs.addService({ ...svc(s), scheduler: 'rr' });
      for (let d = 0; d < 200; d++) b.ipvs.addDestination(svc(s), dst(s * 200 + d + 1));
    }
    const ac = new AbortController();
    const seen: number[] = [];
    const r = await b.commit({
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p.done);
        if (seen.length === 2) ac.abort();
      },
    });
    expect(r.aborted).toBe(true);
    expect(seen).toHaveLength(2);
    expect(seen[0]!).toBeGreaterThan(0);
    expect(seen[1]!).toBeGreaterThan(seen[0]!);
    expect(r.applied).toBe(seen[1]);
    expect(r.applied + r.skipped).toBe(b.length);
    expect(r.unknown).toBe(0);
    expect(r.results.findIndex((x) => x.status === 'skipped')).toBe(r.applied);
    const lines = await save(ns);
    expect(lines).toHaveLength(r.applied);
  });

  it('carries ipset entries in bulk with a result per entry, and re-sends the rest with continue', async () => {
    const { ns, h } = await setup();
    await ns.run('ipset', ['create', 'BULK', 'hash:ip,port']);
    await ns.run('ipset', ['add', 'BULK', '172.16.9.196,tcp:8080']); // entry #2500 below
    const entries = Array.from({ length: 5000 }, (_, i) => ({ ip: `172.16.${i >> 8}.${i & 255}`, proto: 'tcp', port: 8080 }));
    const b = h.batch();
    expect(b.ipset.add('BULK', entries)).toBe(0);
    const r = await b.commit();
    expect(r.results[2499]!.status).toBe('ok');
    expect(r.results[2500]!.status).toBe('error');
    expect(r.results[2500]!.error).toMatchObject({ code: 'IPSET_ERR_EXIST', op: 'ipset.add' });
    expect(r.results[2500]!.error!.message).toContain('172.16.9.196,tcp:8080');
    // The kernel stops a bulk message at the refused entry; the messages after it in the same
    // chunk were still applied, and the results say so.
    expect(r.results[2501]!.status).toBe('skipped');
    expect(r.results.slice(0, 2500).every((x) => x.status === 'ok')).toBe(true);
    expect(r.skipped + r.applied + 1).toBe(5000);
    const count = async () => Number(/Number of entries: (\d+)/.exec((await ns.run('ipset', ['list', '-t', 'BULK'])).stdout)![1]);
    expect(await count()).toBe(r.applied + 1);

    await ns.run('ipset', ['flush', 'BULK']);
    await ns.run('ipset', ['add', 'BULK', '172.16.9.196,tcp:8080']);
    const r2 = await h.batch().commit(); // empty batch
    expect(r2).toMatchObject({ ok: true, results: [] });
    const b3 = h.batch();
    b3.ipset.add('BULK', entries);
    const r3 = await b3.commit({ onError: 'continue' });
    expect(r3).toMatchObject({ applied: 4999, failed: 1, skipped: 0 });
    expect(r3.results[2500]!.status).toBe('error');
    expect(await count()).toBe(5000);
  });

  it('commits 100,000 changes with the default receive buffer and with the kernel default one, no ack lost', async () => {
    for (const rcvbuf of [undefined, 106_496]) {
      const { ns, h } = await setup(rcvbuf === undefined ? {} : { rcvbuf });
      const b = h.batch();
      for (let s = 0; s < 1000; s++) {
        const k = svc(s);
        b.ipvs.addService({ ...k, scheduler: 'rr' });
        for (let d = 0; d < 99; d++) b.ipvs.addDestination(k, dst(s * 99 + d + 1));
      }
      expect(b.length).toBe(100_000);
      const r = await b.commit({ onError: 'continue' });
      expect(r, r.firstError?.message).toMatchObject({ ok: true, applied: 100_000, failed: 0, unknown: 0, skipped: 0 });
      const lines = (await ns.run('ipvsadm', ['-Sn'])).stdout.trim().split('\n');
      expect(lines).toHaveLength(100_000);
    }
  });
});
