// The proxy example carrying real traffic: a client namespace, a namespace of HTTP backends and
// the proxy's own namespace between them (examples/proxy/lab.ts); the proxy runs as its own
// process on a config file, as a user would start it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../examples/proxy/lab';

let lab: Lab;
beforeAll(async () => {
  lab = await Lab.create({ prefix: `pt${process.pid % 10000}`, backends: 3 });
}, 60_000);
afterAll(async () => {
  await lab?.destroy();
});

describe('the lab', () => {
  it('carries requests through an IPVS NAT service to every backend (set up with ipvsadm)', async () => {
    const n = lab.node;
    await lab.exec(n, 'ip', ['link', 'add', 'labtest0', 'type', 'dummy']);
    await lab.exec(n, 'ip', ['addr', 'add', '10.96.9.9/32', 'dev', 'labtest0']);
    await lab.exec(n, 'ipvsadm', ['-A', '-t', '10.96.9.9:80', '-s', 'rr']);
    for (const b of lab.backends) await lab.exec(n, 'ipvsadm', ['-a', '-t', '10.96.9.9:80', '-r', `${b}:8080`, '-m']);
    try {
      const t = await lab.traffic('10.96.9.9', 80, 9, 2000);
      expect(t.failures, t.errors.join('; ')).toBe(0);
      expect(t.counts).toEqual(Object.fromEntries(lab.backends.map((b) => [b, 3])));
    } finally {
      await lab.exec(n, 'ipvsadm', ['-C']);
      await lab.exec(n, 'ip', ['link', 'del', 'labtest0']);
    }
  });
});
