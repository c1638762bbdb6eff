// 100,000 changes through a 4 KiB receive buffer, 9,000 of them refused by the kernel (existing
// services and destinations: EEXIST; destinations of services that do not exist: ESRCH), spread
// over the batch. Every refusal comes back at its own index with the kernel's code, every other
// change is ok, no acknowledgement is lost, and ipvsadm -Sn counts exactly what was applied.
import { afterEach, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { netnsForTest } from './helpers/netns';

const svc = (s: number) => ({ protocol: 'tcp' as const, address: `10.96.${s >> 8}.${s & 255}`, port: 80 });
const dst = (k: number) => ({ address: `172.16.${(k >> 8) & 255}.${k & 255}`, port: 8080 + (k >> 16), forwarding: 'masq' as const });

let handles: Handle[] = [];
afterEach(() => {
  for (const h of handles) h.close();
  handles = [];
});

describe('100,000 changes with a 4 KiB receive buffer', () => {
  it('reports each of 9,000 refusals at its index and applies the other 91,000', async () => {
    const ns = await netnsForTest();
    const setupHandle = openHandle({ netns: ns.path });
    handles.push(setupHandle);
    // 1,000 services with 4 destinations each exist before the batch
    const pre = setupHandle.batch();
    for (let s = 0; s < 1000; s++) {
      pre.ipvs.addService({ ...svc(s), scheduler: 'rr' });
      for (let d = 1; d <= 4; d++) pre.ipvs.addDestination(svc(s), dst(s * 95 + d));
    }
    expect((await pre.commit()).ok).toBe(true);

    const h = openHandle({ netns: ns.path, rcvbuf: 4096 });
    handles.push(h);
    const b = h.batch();
    const expected = new Map<number, string>(); // index -> code
    for (let s = 0; s < 1000; s++) {
      if (s < 500) expected.set(b.ipvs.addService({ ...svc(s), scheduler: 'wlc' }), 'EEXIST');
      for (let d = 1; d <= 95; d++) {
        const at = b.ipvs.addDestination(svc(s), dst(s * 95 + d));
        if (d <= 4) expected.set(at, 'EEXIST');
      }
      // a service that does not exist
      for (let j = 0; j < (s < 500 ? 5 : 4); j++) expected.set(b.ipvs.addDestination(svc(2000 + s), dst(j + 1)), 'ESRCH');
    }
    expect(b.length).toBe(100_000);
    expect(expected.size).toBe(9000);

    const r = await b.commit({ onError: 'continue' });
    expect(r, r.firstError?.message).toMatchObject({ ok: false, applied: 91_000, failed: 9000, skipped: 0, unknown: 0, closed: false, aborted: false });
    const wrong: string[] = [];
    r.results.forEach((x, i) => {
      const code = expected.get(i);
      if (x.index !== i) wrong.push(`${i}: index ${x.index}`);
      if (code === undefined) {
        if (x.status !== 'ok') wrong.push(`${i}: ${x.status} ${x.error?.message}`);
      } else if (x.status !== 'error' || x.error?.code !== code || x.error.index !== i || x.error.errno >= 0) {
        wrong.push(`${i}: expected ${code}, got ${x.status} ${x.error?.code} at ${x.error?.index}`);
      }
    });
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(r.firstError).toBe(r.results[0]!.error);
    expect(r.results[0]!.error!.op).toBe('ipvs.addService');
    expect(r.results.find((x) => x.error?.code === 'ESRCH')!.error!.op).toBe('ipvs.addDestination');

    // 1,000 services and 95,000 destinations; none of the missing services appeared
    const lines = (await ns.run('ipvsadm', ['-Sn'])).stdout.split('\n').filter(Boolean);
    expect(lines.filter((l) => l.startsWith('-A '))).toHaveLength(1000);
    expect(lines.filter((l) => l.startsWith('-a '))).toHaveLength(95_000);
    expect(lines.some((l) => l.includes('10.96.7.208:80'))).toBe(false); // svc(2000)
    // the refused addService left the scheduler as it was
    expect(lines).toContain('-A -t 10.96.0.0:80 -s rr');
  });
});
