// Reconcile against the real kernel: a dry run changes nothing, the plan is minimal, unlisted
// objects are deleted only inside the scope, and what is outside it stays untouched, cross-checked
// with ipvsadm -Sn and ipset save.
import { afterEach, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import type { DesiredState } from '../../src/reconcile/reconcile';
import { netnsForTest, type Netns } from './helpers/netns';

let handles: Handle[] = [];
afterEach(() => {
  for (const h of handles) h.close();
  handles = [];
});

const save = async (ns: Netns) => (await ns.run('ipvsadm', ['-Sn'])).stdout.trim().split('\n').filter(Boolean).sort();
const ipsetSave = async (ns: Netns) => (await ns.run('ipset', ['save'])).stdout.trim().split('\n').filter(Boolean).sort();

async function setup(): Promise<{ ns: Netns; h: Handle }> {
  const ns = await netnsForTest();
  const rules = [
    '-A -t 10.96.0.1:80 -s rr',
    '-a -t 10.96.0.1:80 -r 172.16.0.1:8080 -m -w 1',
    '-a -t 10.96.0.1:80 -r 172.16.0.2:8080 -m -w 1',
    '-a -t 10.96.0.1:80 -r 172.16.0.3:8080 -m -w 1',
    '-A -t 10.96.0.2:443 -s wlc',
    '-a -t 10.96.0.2:443 -r 172.16.1.1:8443 -m -w 1',
    '-A -u 10.96.0.3:53 -s rr',
    // not ours: outside 10.96.0.0/12
    '-A -t 192.168.50.1:80 -s rr',
    '-a -t 192.168.50.1:80 -r 172.16.9.9:80 -m -w 1',
  ].join('\n');
  await ns.run('sh', ['-c', `ipvsadm -R <<'EOF'\n${rules}\nEOF`]);
  const sets = [
    'create KUBE-CLUSTER-IP hash:ip,port', 'add KUBE-CLUSTER-IP 10.96.0.1,tcp:80', 'add KUBE-CLUSTER-IP 10.96.0.9,tcp:80',
    'create KUBE-STALE hash:ip', 'create CALICO-OWN hash:ip', 'add CALICO-OWN 10.0.0.1',
  ].join('\n');
  await ns.run('sh', ['-c', `ipset restore <<'EOF'\n${sets}\nEOF`]);
  const h = openHandle({ netns: ns.path });
  handles.push(h);
  return { ns, h };
}

const desired: DesiredState = {
  ipvs: [
    {
      protocol: 'tcp', address: '10.96.0.1', port: 80, scheduler: 'rr', destinations: [
        { address: '172.16.0.1', port: 8080, forwarding: 'masq', weight: 1 },
        { address: '172.16.0.2', port: 8080, forwarding: 'masq', weight: 5 }, // weight changes
        { address: '172.16.0.4', port: 8080, forwarding: 'masq' }, // new; .3 goes
      ],
    },
    { protocol: 'tcp', address: '10.96.0.2', port: 443, scheduler: 'rr', destinations: [{ address: '172.16.1.1', port: 8443, forwarding: 'masq' }] },
    { protocol: 'tcp', address: '10.96.0.4', port: 80, scheduler: 'rr', destinations: [{ address: '172.16.2.1', port: 80, forwarding: 'masq' }] },
    // 10.96.0.3:53/udp is not listed: deleted (in scope)
  ],
  sets: [{ name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', entries: ['10.96.0.1,tcp:80', '10.96.0.4,tcp:80'] }],
};
const scope = { services: { addresses: ['10.96.0.0/12'] }, sets: (n: string) => n.startsWith('KUBE-') };

describe('reconcile', () => {
  it('plans the smallest change on a dry run and changes nothing', async () => {
    const { ns, h } = await setup();
    const before = [await save(ns), await ipsetSave(ns)];
    const r = await h.reconcile(desired, { scope, dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.commit).toBeUndefined();
    expect(r.plan.ipvs.map((s) => s.kind)).toEqual([
      'editDestination', 'addDestination', 'deleteDestination', // 10.96.0.1
      'editService', // 10.96.0.2: wlc -> rr
      'addService', 'addDestination', // 10.96.0.4
      'deleteService', // 10.96.0.3
    ]);
    expect(r.plan.ipvs[0]).toMatchObject({ fields: ['weight'], destination: { address: '172.16.0.2' } });
    expect(r.plan.ipvs[3]).toMatchObject({ fields: ['scheduler'] });
    expect(r.plan.sets).toEqual([
      { kind: 'delEntries', name: 'KUBE-CLUSTER-IP', entries: [{ ip: '10.96.0.9', proto: 'tcp', port: 80 }] },
      { kind: 'addEntries', name: 'KUBE-CLUSTER-IP', entries: [{ ip: '10.96.0.4', proto: 'tcp', port: 80 }] },
      { kind: 'destroySet', name: 'KUBE-STALE' },
    ]);
    expect(r.changes).toBe(10);
    expect([await save(ns), await ipsetSave(ns)]).toEqual(before);
  });

  it('applies the plan, leaves everything outside the scope alone, and is idempotent', async () => {
    const { ns, h } = await setup();
    const r = await h.reconcile(desired, { scope });
    expect(r.ok, r.commit?.firstError?.message).toBe(true);
    expect(r.commit!.results).toHaveLength(10); // 7 IPVS steps; one entry deleted, one added; one set destroyed
    expect(await save(ns)).toEqual([
      '-A -t 10.96.0.1:80 -s rr', '-A -t 10.96.0.2:443 -s rr', '-A -t 10.96.0.4:80 -s rr', '-A -t 192.168.50.1:80 -s rr',
      '-a -t 10.96.0.1:80 -r 172.16.0.1:8080 -m -w 1', '-a -t 10.96.0.1:80 -r 172.16.0.2:8080 -m -w 5',
      '-a -t 10.96.0.1:80 -r 172.16.0.4:8080 -m -w 1', '-a -t 10.96.0.2:443 -r 172.16.1.1:8443 -m -w 1',
      '-a -t 10.96.0.4:80 -r 172.16.2.1:80 -m -w 1', '-a -t 192.168.50.1:80 -r 172.16.9.9:80 -m -w 1',
    ].sort());
    const sets = await ipsetSave(ns);
    expect(sets.filter((l) => l.startsWith('add KUBE-CLUSTER-IP'))).toEqual(['add KUBE-CLUSTER-IP 10.96.0.1,tcp:80', 'add KUBE-CLUSTER-IP 10.96.0.4,tcp:80']);
    expect(sets.some((l) => l.includes('KUBE-STALE'))).toBe(false);
    expect(sets).toContain('add CALICO-OWN 10.0.0.1');

    const again = await h.reconcile(desired, { scope });
    expect(again).toMatchObject({ changes: 0, ok: true });
    const fromState = await h.reconcile(desired, { scope, current: r.state! });
    expect(fromState.changes).toBe(0);
  });

  it('keeps a dummy link with its cluster addresses, deleting only addresses in scope', async () => {
    const { ns, h } = await setup();
    await ns.run('ip', ['addr', 'add', '192.168.77.1/32', 'dev', 'lo']);
    const want = { addresses: [{ link: 'kube-ipvs0', addresses: ['10.96.0.1', '10.96.0.2'], create: true }, { link: 'lo', addresses: ['127.0.0.1/8'] }] };
    const r = await h.reconcile(want, { scope: { addresses: ['10.96.0.0/12'] } });
    expect(r.ok, r.commit?.firstError?.message).toBe(true);
    expect(r.plan.addresses.map((s) => s.kind)).toEqual(['addLink', 'addAddress', 'addAddress']);
    const ips = async (dev: string) => (JSON.parse((await ns.run('ip', ['-4', '-j', 'addr', 'show', 'dev', dev])).stdout) as { addr_info: { local: string; prefixlen: number }[] }[])[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`).sort();
    expect(await ips('kube-ipvs0')).toEqual(['10.96.0.1/32', '10.96.0.2/32']);
    await ns.run('ip', ['addr', 'add', '10.96.5.5/32', 'dev', 'kube-ipvs0']);
    await ns.run('ip', ['addr', 'add', '172.31.0.1/32', 'dev', 'kube-ipvs0']);
    const r2 = await h.reconcile({ addresses: [{ link: 'kube-ipvs0', addresses: ['10.96.0.2'] }] }, { scope: { addresses: ['10.96.0.0/12'] } });
    expect(r2.plan.addresses).toEqual([
      { kind: 'deleteAddress', link: 'kube-ipvs0', cidr: '10.96.0.1/32' },
      { kind: 'deleteAddress', link: 'kube-ipvs0', cidr: '10.96.5.5/32' },
    ]);
    expect(await ips('kube-ipvs0')).toEqual(['10.96.0.2/32', '172.31.0.1/32']);
    expect(await ips('lo')).toEqual(['127.0.0.1/8', '192.168.77.1/32']);
  });

  it('without a scope only adds and edits', async () => {
    const { ns, h } = await setup();
    const r = await h.reconcile({ ipvs: [] });
    expect(r.changes).toBe(0);
    const r2 = await h.reconcile({ ipvs: [{ protocol: 'udp', address: '10.96.0.3', port: 53, scheduler: 'sh' }] });
    expect(r2.plan.ipvs).toEqual([{ kind: 'editService', service: { protocol: 'udp', address: '10.96.0.3', port: 53, scheduler: 'sh' }, fields: ['scheduler'] }]);
    expect(await save(ns)).toContain('-A -u 10.96.0.3:53 -s sh');
    expect((await save(ns)).filter((l) => l.startsWith('-A'))).toHaveLength(4);
  });

  it('plans from the state it returned what it plans from a fresh read: IPv4, IPv6, fwmark, any order', async () => {
    const { h } = await setup();
    const dests = (prefix: string, n: number, port: number, weight = 1) => Array.from({ length: n }, (_, i) => ({
      address: `${prefix}${i + 1}`, port, forwarding: 'masq' as const, weight,
    }));
    const first: DesiredState = {
      ipvs: [
        { protocol: 'tcp', address: '10.96.1.1', port: 80, scheduler: 'rr', destinations: dests('172.16.5.', 12, 8080) },
        { protocol: 'udp', address: '10.96.1.1', port: 53, scheduler: 'rr', destinations: dests('172.16.6.', 3, 53) },
        { protocol: 'tcp', address: 'FD00:0::96:1', port: 443, destinations: dests('fd00::5:', 4, 8443) },
        { fwmark: 7, scheduler: 'sh', schedFlags: ['sh-port'], destinations: dests('172.16.7.', 2, 0) },
        { fwmark: 8, family: 'inet6', persistent: 60, destinations: dests('fd00::8:', 2, 0) },
      ],
    };
    const r = await h.reconcile(first, { scope });
    expect(r.ok, r.commit?.firstError?.message).toBe(true);
    const [web, dns, v6, mark7, mark8] = first.ipvs!;
    const second: DesiredState = {
      ipvs: [
        { ...web!, destinations: web!.destinations!.map((d, i) => (i === 3 ? { ...d, weight: 4 } : d)).reverse() },
        { ...dns!, destinations: [...dns!.destinations!.slice(1), { address: '172.16.6.9', port: 53, forwarding: 'masq' }] },
        { ...v6!, address: 'fd00::96:1', destinations: v6!.destinations!.map((d) => ({ ...d, address: d.address.toUpperCase(), weight: 2 })) },
        { ...mark7!, destinations: [mark7!.destinations![1]!, { ...mark7!.destinations![0]!, upperThreshold: 50 }] },
        { ...mark8!, destinations: mark8!.destinations },
      ],
    };
    const fromState = await h.reconcile(second, { scope, current: r.state!, dryRun: true });
    const fromKernel = await h.reconcile(second, { scope, dryRun: true });
    expect(fromState.plan.ipvs).toEqual(fromKernel.plan.ipvs);
    expect(fromKernel.plan.ipvs.map((s) => s.kind)).toEqual([
      'editDestination', // web: one weight, listed in reverse
      'addDestination', 'deleteDestination', // dns: one swapped
      'editDestination', 'editDestination', 'editDestination', 'editDestination', // v6: weights, addresses spelt otherwise
      'editDestination', // mark 7: a threshold, listed in another order
    ]);
    const applied = await h.reconcile(second, { scope, current: r.state! });
    expect(applied.ok, applied.commit?.firstError?.message).toBe(true);
    expect((await h.reconcile(second, { scope })).changes).toBe(0);
    // the state it returns holds the kernel's spelling: nothing left to do from it either
    expect((await h.reconcile(second, { scope, current: applied.state!, dryRun: true })).changes).toBe(0);
  });
});
