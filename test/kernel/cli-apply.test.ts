// `ipvs apply FILE` reconciles the kernel to a desired-state file: first run creates, a second run
// changes nothing, an edited file changes only what differs, and objects outside the scope stay.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { useNetns } from './helpers/netns';

const netns = useNetns();
const dir = mkdtempSync(join(tmpdir(), 'ipvs-apply-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function apply(doc: unknown, ...flags: string[]): Promise<{ code: number; out: string; err: string }> {
  const file = join(dir, 'desired.json');
  writeFileSync(file, JSON.stringify(doc));
  let out = '';
  let err = '';
  const code = await main(['--netns', netns().path, 'apply', ...flags, file], {
    out: (t) => { out += t; }, err: (t) => { err += t; }, readStdin: async () => '',
  });
  return { code, out, err };
}

const svc = { protocol: 'tcp', address: '10.96.0.10', port: 80, scheduler: 'rr' };
const scope = { services: { addresses: ['10.96.0.0/12'] } };

describe('ipvs apply', () => {
  it('plans without changing anything on --dry-run', async () => {
    const r = await apply({ ipvs: [{ ...svc, destinations: [{ address: '10.244.0.2', port: 8080, forwarding: 'masq' }] }], scope }, '--dry-run');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe('+ service tcp 10.96.0.10:80\n+ destination 10.244.0.2:8080 of tcp 10.96.0.10:80\nwould change 2 step(s)\n');
    expect((await netns().run('ipvsadm', ['-Sn'])).stdout).toBe('');
  });

  it('applies, is idempotent, changes only what differs and leaves what is out of scope', async () => {
    await netns().run('ipvsadm', ['-A', '-t', '192.168.9.9:22', '-s', 'wlc']); // outside the scope
    await netns().run('ipvsadm', ['-A', '-t', '10.96.0.99:53', '-s', 'rr']); // inside, unlisted
    const desired = { ipvs: [{ ...svc, destinations: [{ address: '10.244.0.2', port: 8080, forwarding: 'masq', weight: 1 }] }], scope };
    const first = await apply(desired);
    expect(first.code).toBe(0);
    expect(first.out).toContain('- service tcp 10.96.0.99:53 with 0 destination(s)');
    expect((await netns().run('ipvsadm', ['-Sn'])).stdout.trim().split('\n').sort()).toEqual([
      '-A -t 10.96.0.10:80 -s rr',
      '-A -t 192.168.9.9:22 -s wlc',
      '-a -t 10.96.0.10:80 -r 10.244.0.2:8080 -m -w 1',
    ]);
    expect((await apply(desired)).out).toBe('changed 0 step(s)\n');
    const edited = { ...desired, ipvs: [{ ...desired.ipvs[0]!, destinations: [{ address: '10.244.0.2', port: 8080, forwarding: 'masq', weight: 5 }] }] };
    const third = await apply(edited);
    expect(third.out).toBe('~ destination 10.244.0.2:8080 of tcp 10.96.0.10:80 (weight)\nchanged 1 step(s)\n');
    expect((await netns().run('ipvsadm', ['-Sn'])).stdout).toContain('-a -t 10.96.0.10:80 -r 10.244.0.2:8080 -m -w 5');
  });

  it('exits 1 and names the failing change when the kernel refuses', async () => {
    const r = await apply({ ipvs: [{ protocol: 'tcp', address: '10.96.0.11', port: 80, scheduler: 'nosuch' }] });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ipvs\.addService.*scheduler.*\(ENOENT\)/);
  });
});
