// The bad-input table against the real kernel: every row of test/unit/bad-input-rows.ts, called on
// a handle in a namespace that holds a service with a destination, a set with an entry and a dummy
// link with an address, must give its TypeError/RangeError and leave the kernel as it was
// (`ipvsadm -Sn`, `ipset save`, `ip -o addr`, `ip -o link` identical before and after). Then rows
// of the `ipvs` command run as a process in the namespace: exit status, standard error, and the
// same state check.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { buildSync } from 'esbuild';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { useNetns, type Netns } from './helpers/netns';
import { ROWS } from '../unit/bad-input-rows';

const netns = useNetns();
let h: Handle;
let dir: string;

/** The same state as the library reads it: cheap enough to compare after each of 100 rows (the tools compare at the ends). */
async function libraryState(hh: Handle): Promise<string> {
  const [ipvs, sets, addrs, links] = await Promise.all([hh.ipvs.listAll(), hh.ipset.listAll(), hh.addresses.list(), hh.links.list()]);
  const strip = (o: unknown) => JSON.stringify(o, (k, v: unknown) => (k === 'stats' || k === 'memsize' ? undefined : typeof v === 'bigint' ? String(v) : v));
  return strip({ ipvs, sets, addrs: addrs.map((a) => ({ ...a, valid_life_time: 0, preferred_life_time: 0 })), links });
}

/** The kernel state the rows must not change, as the tools print it. */
async function state(ns: Netns): Promise<string> {
  // one shell for the four tools (each process start is dear in the VM); link lines without what follows their '\\'
  const r = await ns.run('sh', ['-c', "ipvsadm -Sn && echo -- && ipset save && echo -- && ip -o addr && echo -- && ip -o link | sed 's/\\\\.*$//'"]);
  return r.stdout;
}

beforeAll(async () => {
  h = openHandle({ netns: netns().path });
  dir = mkdtempSync(path.join(tmpdir(), 'ipvs-bad-input-'));
  const ns = netns();
  await ns.run('ip', ['link', 'set', 'lo', 'up']);
  await h.ipvs.addService({ protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr' });
  await h.ipvs.addDestination({ protocol: 'tcp', address: '10.0.0.1', port: 80 }, { address: '10.0.1.1', port: 8080, forwarding: 'masq' });
  await h.ipset.create('s', 'hash:ip');
  await h.ipset.add('s', ['10.0.0.1']);
  await h.links.addDummy('d0', { up: true });
  await h.addresses.add('d0', '10.9.9.9/32');
}, 120_000);
afterAll(() => {
  h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function outcome(call: () => unknown): Promise<unknown> {
  try {
    const r = call();
    if (r && typeof (r as { then?: unknown }).then === 'function') await r;
    else if (r && typeof (r as { next?: unknown }).next === 'function' && Symbol.asyncIterator in (r as object)) await (r as AsyncIterator<unknown>).return?.();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('bad input: the API', () => {
  it('the namespace holds what the rows could change', async () => {
    const s = await state(netns());
    expect(s).toContain('-A -t 10.0.0.1:80 -s rr');
    expect(s).toContain('-a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 1');
    expect(s).toContain('add s 10.0.0.1');
    expect(s).toMatch(/d0\s+inet 10\.9\.9\.9\/32/);
  });

  it(`every row (${ROWS.length}) is refused with its error, and the kernel state is unchanged`, async () => {
    const ns = netns();
    const before = await state(ns);
    const read = await libraryState(h);
    for (const row of ROWS) {
      const err = await outcome(() => row.call(h));
      expect(err, `${row.name}: no error`).toBeInstanceOf(row.error);
      expect((err as Error).constructor, row.name).toBe(row.error);
      expect((err as Error).message, row.name).toMatch(row.message);
      expect(await libraryState(h), `${row.name}: the kernel state changed`).toBe(read);
    }
    expect(await state(ns), 'the kernel state changed (ipvsadm, ipset, ip)').toBe(before);
  }, 600_000);
});

/** A CLI row: the arguments, an optional file (its path replaces FILE), the status and words of standard error. */
interface CliRow {
  name: string;
  args: string[];
  file?: string;
  code: number | 'nonzero';
  stderr: RegExp;
}

const svc = { protocol: 'tcp', address: '10.0.0.1', port: 80 };
const json = (v: unknown) => JSON.stringify(v);

const CLI_ROWS: CliRow[] = [
  { name: 'apply: service option misspelled', args: ['apply', 'FILE'], file: json({ ipvs: [{ ...svc, shceduler: 'rr' }] }), code: 1, stderr: /unknown service option 'shceduler': did you mean scheduler\?/ },
  { name: 'apply: destinations misspelled', args: ['apply', 'FILE'], file: json({ ipvs: [{ ...svc, destinatons: [] }] }), code: 1, stderr: /did you mean destinations\?/ },
  { name: 'apply: fwmark with an address', args: ['apply', 'FILE'], file: json({ ipvs: [{ fwmark: 5, address: '10.0.0.1' }] }), code: 1, stderr: /give fwmark or address, not both/ },
  { name: 'apply: family contradicting the address', args: ['apply', 'FILE'], file: json({ ipvs: [{ ...svc, family: 'inet6' }] }), code: 1, stderr: /family 'inet6' contradicts address/ },
  { name: 'apply: destination option misspelled', args: ['apply', 'FILE'], file: json({ ipvs: [{ ...svc, destinations: [{ address: '10.0.1.1', port: 8080, wieght: 0 }] }] }), code: 1, stderr: /unknown destination option 'wieght': did you mean weight\?/ },
  { name: 'apply: output-only destination field', args: ['apply', 'FILE'], file: json({ ipvs: [{ ...svc, destinations: [{ address: '10.0.1.1', port: 8080, activeConns: 0 }] }] }), code: 1, stderr: /'activeConns' is reported by the kernel/ },
  { name: 'apply: scope misspelled', args: ['apply', 'FILE'], file: json({ ipvs: [], scope: { service: {} } }), code: 1, stderr: /unknown scope 'service': did you mean services\?/ },
  { name: 'apply: set field misspelled', args: ['apply', 'FILE'], file: json({ sets: [{ name: 's', type: 'hash:ip', entries: [], option: {} }] }), code: 1, stderr: /did you mean options\?/ },
  { name: 'apply: set entry field misspelled', args: ['apply', 'FILE'], file: json({ sets: [{ name: 's', type: 'hash:ip', entries: [{ ip: '10.0.0.2', timout: 1 }] }] }), code: 1, stderr: /unknown entry field 'timout': did you mean timeout\?/ },
  { name: 'apply: set entry with a network and a range', args: ['apply', 'FILE'], file: json({ sets: [{ name: 's', type: 'hash:ip', entries: [{ ip: '10.0.0.0', cidr: 24, ipTo: '10.0.0.9' }] }] }), code: 1, stderr: /give cidr or ipTo, not both/ },
  { name: 'apply: link field misspelled', args: ['apply', 'FILE'], file: json({ addresses: [{ link: 'd0', address: ['10.9.9.8/32'] }] }), code: 1, stderr: /did you mean addresses\?/ },
  { name: 'apply: set create option misspelled', args: ['apply', 'FILE'], file: json({ sets: [{ name: 's2', type: 'hash:ip', entries: [], options: { maxelems: 5 } }] }), code: 1, stderr: /unknown create option 'maxelems': did you mean maxelem\?/ },
  { name: 'restore: lower threshold above upper', args: ['restore', 'FILE'], file: '-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -x 1 -y 5\n', code: 1, stderr: /lowerThreshold 5 is above upperThreshold 1/ },
  { name: 'restore: one-packet on TCP', args: ['restore', 'FILE'], file: '-A -t 10.0.0.7:80 -s rr -o\n', code: 1, stderr: /One-Packet|one-packet/ },
  { name: 'restore: a malformed later line applies nothing', args: ['restore', 'FILE'], file: '-A -t 10.0.0.8:80 -s rr\n-a -t 10.0.0.8:80 -r 10.0.1.3:80 -m -x 1 -y 9\n', code: 1, stderr: /line 2: .*lowerThreshold 9 is above upperThreshold 1/ },
  { name: 'set create: size on a hash', args: ['set', 'create', 's3', 'hash:ip', 'size', '8'], code: 'nonzero', stderr: /size is an option of list:set, not of hash:ip/ },
  { name: 'set create: hashsize on a bitmap', args: ['set', 'create', 's3', 'bitmap:ip', 'range', '10.0.0.0/24', 'hashsize', '64'], code: 'nonzero', stderr: /hashsize is an option of hash types, not of bitmap:ip/ },
  { name: 'set create: bitmap:ip of family inet6', args: ['set', 'create', 's3', 'bitmap:ip', 'range', '10.0.0.0/24', 'family', 'inet6'], code: 'nonzero', stderr: /bitmap:ip holds IPv4 addresses only/ },
  { name: 'set create: bitmap:port with a family', args: ['set', 'create', 's3', 'bitmap:port', 'range', '1-100', 'family', 'inet'], code: 'nonzero', stderr: /bitmap:port has no family/ },
  { name: 'link add: mtu too small', args: ['link', 'add', 'd9', 'type', 'dummy', 'mtu', '10'], code: 'nonzero', stderr: /mtu must be an integer of at least 68, got 10/ },
  { name: 'sysctl: a name misspelled', args: ['sysctl', 'conn_reuse_mod=0'], code: 'nonzero', stderr: /conn_reuse_mod/ },
  { name: 'apply: a 500-character key is quoted cut', args: ['apply', 'FILE'], file: json({ ipvs: [{ ...svc, ['k'.repeat(500)]: 1 }] }), code: 1, stderr: /unknown service option 'k{99}…'/ },
];

describe('bad input: the ipvs command, as a process', () => {
  // The CLI from src, bundled once (starting it through a TypeScript loader takes ~15 s a process in
  // the VM); one level below the package root, where src/native.ts looks for the addon (its '..').
  const bundleDir = path.resolve(__dirname, `../../.bad-input-cli-${process.pid}`);
  const main = path.join(bundleDir, 'main.js');
  beforeAll(() => {
    mkdirSync(bundleDir, { recursive: true });
    buildSync({ entryPoints: [path.resolve(__dirname, '../../src/cli/main.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: main, logLevel: 'silent' });
  }, 120_000);
  afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));
  let before: string;
  beforeAll(async () => { before = await state(netns()); }, 120_000);
  it.each(CLI_ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const ns = netns();
    const args = row.args.map((a) => {
      if (a !== 'FILE') return a;
      const file = path.join(dir, `${row.name.replace(/\W+/g, '-')}.in`);
      writeFileSync(file, row.file ?? '');
      return file;
    });
    const r = await ns.exec(process.execPath, [main, ...args]);
    if (row.code === 'nonzero') expect(r.code, r.stderr).toBeGreaterThan(0);
    else expect(r.code, r.stderr).toBe(row.code);
    expect(r.stderr).toMatch(row.stderr);
    expect(r.stderr.length).toBeLessThan(1500);
    expect(await state(ns), 'the kernel state changed').toBe(before);
  }, 120_000);
});
