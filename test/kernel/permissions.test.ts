// Without CAP_NET_ADMIN the kernel refuses IPVS changes; the error must say what is missing.
// The child runs as root with every capability dropped (setpriv), inside the test's namespace,
// using the compiled package (dist/, built by `npm install`).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useNetns } from './helpers/netns';

const netns = useNetns();
const dist = join(__dirname, '..', '..', 'dist', 'index.js');

describe('missing privileges', () => {
  it('surface as EPERM naming CAP_NET_ADMIN', async () => {
    expect(existsSync(dist), `${dist} missing: run npm run build:ts`).toBe(true);
    const script = `
      const { openHandle } = require(${JSON.stringify(dist)});
      const h = openHandle();
      h.ipvs.addService({ protocol: 'tcp', address: '10.0.0.1', port: 80 })
        .then(() => console.log(JSON.stringify({ ok: true })))
        .catch((e) => console.log(JSON.stringify({ name: e.name, code: e.code, errno: e.errno, op: e.op, message: e.message })))
        .finally(() => h.close());`;
    const r = await netns().exec('setpriv', ['--bounding-set=-all', '--inh-caps=-all', process.execPath, '-e', script]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    expect(out).toMatchObject({ name: 'NetlinkError', code: 'EPERM', errno: -1, op: 'ipvs.addService' });
    expect(out.message).toMatch(/CAP_NET_ADMIN/);
    expect((await netns().run('ipvsadm', ['-Sn'])).stdout.trim()).toBe('');
  });
});
