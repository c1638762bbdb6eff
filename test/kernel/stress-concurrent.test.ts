// 1,000 operations of every kind started at once on one handle (IPVS, ipset, links, addresses,
// batches, reads, and calls the kernel refuses): each settles with its own result, none is lost
// or answered with another's reply, and the kernel state afterwards is exactly what the writes
// made, as ipvsadm, ipset and ip see it.
import { afterEach, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { netnsForTest } from './helpers/netns';

const svc = (i: number) => ({ protocol: 'tcp' as const, address: `10.96.${i >> 8}.${i & 255}`, port: 80 });

let handles: Handle[] = [];
afterEach(() => {
  for (const h of handles) h.close();
  handles = [];
});

describe('1,000 concurrent operations on one handle', () => {
  it('settles each with its own result, and the kernel holds what the writes made', async () => {
    const ns = await netnsForTest();
    const h = openHandle({ netns: ns.path });
    handles.push(h);
    await h.ipset.create('STRESS', 'hash:ip');
    await h.links.addDummy('stress0');
    await h.links.setUp('stress0');

    type Check = (v: PromiseSettledResult<unknown>) => string | undefined;
    const ops: Promise<unknown>[] = [];
    const checks: Check[] = [];
    const ok: Check = (v) => (v.status === 'fulfilled' ? undefined : `rejected: ${(v.reason as Error).message}`);
    const refused = (code: string): Check => (v) =>
      v.status === 'rejected' && (v.reason as { code?: string }).code === code ? undefined : `expected ${code}, got ${v.status === 'rejected' ? (v.reason as Error).message : 'fulfilled'}`;
    for (let i = 0; i < 1000; i++) {
      const n = i >> 4; // 0..62 per kind
      switch (i % 16) {
        case 0: ops.push(h.ipvs.addService({ ...svc(n), scheduler: 'rr' })); checks.push(ok); break;
        case 1: ops.push(h.ipvs.listServices()); checks.push((v) => ok(v) ?? (Array.isArray((v as PromiseFulfilledResult<unknown>).value) ? undefined : 'not a list')); break;
        case 2: ops.push(h.ipset.add('STRESS', `10.1.${n >> 8}.${n & 255}`)); checks.push(ok); break;
        case 3: ops.push(h.ipset.test('STRESS', '10.255.0.1')); checks.push((v) => ok(v) ?? ((v as PromiseFulfilledResult<boolean>).value === false ? undefined : 'in the set')); break;
        case 4: ops.push(h.links.list()); checks.push((v) => ok(v) ?? ((v as PromiseFulfilledResult<{ ifname: string }[]>).value.some((l) => l.ifname === 'stress0') ? undefined : 'stress0 missing')); break;
        case 5: ops.push(h.addresses.add('stress0', `10.2.${n >> 8}.${n & 255}/32`)); checks.push(ok); break;
        case 6: ops.push(h.addresses.list('stress0')); checks.push(ok); break;
        case 7: ops.push(h.ipvs.getInfo()); checks.push(ok); break;
        case 8: {
          const b = h.batch();
          b.ipvs.addService({ ...svc(1000 + n), scheduler: 'wlc' });
          b.ipvs.addDestination(svc(1000 + n), { address: `172.16.0.${n + 1}`, port: 8080, forwarding: 'masq' });
          b.ipset.add('STRESS', [`10.3.0.${n + 1}`]);
          ops.push(b.commit());
          checks.push((v) => ok(v) ?? ((v as PromiseFulfilledResult<{ ok: boolean; applied: number }>).value.applied === 3 ? undefined : 'batch not applied'));
          break;
        }
        case 9: ops.push(h.ipvs.addDestination(svc(5000 + n), { address: '172.17.0.1', port: 1 })); checks.push(refused('ESRCH')); break;
        case 10: ops.push(h.ipset.list('STRESS')); checks.push(ok); break;
        case 11: ops.push(h.links.get('nosuch0')); checks.push(refused('ENODEV')); break;
        case 12: ops.push(h.ipvs.getService(svc(9000 + n))); checks.push(refused('ESRCH')); break;
        case 13: ops.push(h.ipset.del('STRESS', '10.254.0.1')); checks.push((v) => (v.status === 'rejected' ? undefined : 'deleting an absent entry succeeded')); break;
        case 14: ops.push(h.snapshot({ ipvs: true })); checks.push(ok); break;
        default: ops.push(h.ipvs.getTimeouts()); checks.push(ok); break;
      }
    }
    expect(ops).toHaveLength(1000);
    const settled = await Promise.allSettled(ops);
    const wrong = settled.map((v, i) => [i, checks[i]!(v)] as const).filter(([, e]) => e !== undefined);
    expect(wrong.slice(0, 10)).toEqual([]);

    const kinds = (k: number) => Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 16 === k).length;
    const lines = (await ns.run('ipvsadm', ['-Sn'])).stdout.split('\n').filter(Boolean);
    expect(lines.filter((l) => l.startsWith('-A '))).toHaveLength(kinds(0) + kinds(8));
    expect(lines.filter((l) => l.startsWith('-a '))).toHaveLength(kinds(8));
    const members = (await ns.run('ipset', ['list', 'STRESS'])).stdout.split('Members:\n')[1]!.split('\n').filter(Boolean);
    expect(members).toHaveLength(kinds(2) + kinds(8));
    const addrs = (await ns.run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'stress0'])).stdout.split('\n').filter(Boolean);
    expect(addrs).toHaveLength(kinds(5));
  });
});
