// What a user gets from `npm install ipvs`: the packed tarball installs into an empty folder with
// no compiler on PATH and without asking the registry for anything (the package has no
// dependencies and no install script: the prebuilt binary must load), both module systems load it
// there, it talks to the kernel, a handle nobody closed gives its socket back at garbage
// collection, and on another OS the same tarball installs and then fails with a clear message when
// used.
//
// The packing and installing are done by scripts/pack-install.mjs, on the host before the VM boots
// (`npm test` runs it: seconds there, minutes in the guest of a loaded machine). Run directly, this
// file runs it when its output is missing or stale. Needs a fresh dist/ and the host's prebuild.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useNetns, type ExecResult } from './helpers/netns';

const repo = join(__dirname, '..', '..');
const netns = useNetns();

interface PackResult {
  tarball: string;
  files: string[];
  installs: Record<'app' | 'otherOs', { code: number; log: string }>;
  fakeDarwin: string;
  bin: string;
}
let packed: PackResult;
let app: string;

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 1 }));
  });
}

let bareEnv: (bin: string, extra?: NodeJS.ProcessEnv) => NodeJS.ProcessEnv;

beforeAll(async () => {
  const script = join(repo, 'scripts', 'pack-install.mjs');
  const mod = (await import(script)) as {
    staleness(): string | null;
    packAndInstall(): PackResult;
    bareEnv: typeof bareEnv;
    defaultOut: string;
  };
  bareEnv = mod.bareEnv;
  if (mod.staleness() !== null) mod.packAndInstall();
  packed = JSON.parse(readFileSync(join(mod.defaultOut, 'result.json'), 'utf8')) as PackResult;
  app = join(mod.defaultOut, 'app');
  for (const compiler of ['cc', 'gcc', 'g++', 'c++', 'make', 'python3']) {
    expect(existsSync(join(packed.bin, compiler)), `${compiler} must not be on the install's PATH`).toBe(false);
  }
}, 600_000);

describe('the packed tarball', () => {
  it('carries dist/ and the prebuild, not the sources or tests', () => {
    expect(packed.files).toContain('prebuilds/linux-x64/ipvs.glibc.node');
    expect(packed.files).toContain('dist/index.mjs');
    expect(packed.files.filter((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('build/'))).toEqual([]);
  });

  it('installs offline without compiling or running a script: no dependency, no build/ folder', () => {
    expect(packed.installs.app.code, packed.installs.app.log).toBe(0);
    const pkg = join(app, 'node_modules', 'ipvs');
    expect(existsSync(join(pkg, 'prebuilds', 'linux-x64', 'ipvs.glibc.node'))).toBe(true);
    expect(existsSync(join(pkg, 'build')), 'node-gyp ran during install').toBe(false);
    expect(readdirSync(join(app, 'node_modules')).filter((f) => !f.startsWith('.')).sort()).toEqual(['ipvs']);
    // --foreground-scripts prints every lifecycle script npm runs: there is none.
    expect(packed.installs.app.log).not.toMatch(/> ipvs@[^ ]+ (preinstall|install|postinstall)/);
    expect(packed.installs.app.log).not.toContain('gyp info');
  });

  it('loads from CommonJS and ES modules and makes a kernel call in a namespace', async () => {
    const ns = netns().path;
    const cjs = `
      const { openHandle } = require('ipvs');
      const h = openHandle({ netns: ${JSON.stringify(ns)} });
      h.ipvs.addService({ protocol: 'tcp', address: '10.7.0.1', port: 80, scheduler: 'rr' })
        .then(() => h.ipvs.listServices())
        .then((s) => console.log(JSON.stringify(s.map((x) => [x.address, x.port, x.scheduler]))))
        .finally(() => h.close());`;
    const r = await run('node', ['-e', cjs], { cwd: app, env: bareEnv(packed.bin) });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([['10.7.0.1', 80, 'rr']]);
    expect((await netns().run('ipvsadm', ['-Sn'])).stdout.trim()).toBe('-A -t 10.7.0.1:80 -s rr');

    const esm = `
      import { openHandle, NetlinkError } from 'ipvs';
      const h = openHandle({ netns: ${JSON.stringify(ns)} });
      const err = await h.ipvs.addService({ protocol: 'tcp', address: '10.7.0.1', port: 80 }).catch((e) => e);
      console.log(err instanceof NetlinkError, err.code);
      h.close();`;
    const m = await run('node', ['--input-type=module', '-e', esm], { cwd: app, env: bareEnv(packed.bin) });
    expect(m.stderr).toBe('');
    expect(m.stdout.trim()).toBe('true EEXIST');
  });

  it('closes the socket of a handle nobody closed when it is garbage collected (--expose-gc)', async () => {
    const script = `
      const { readdirSync } = require('node:fs');
      const { openHandle } = require('ipvs');
      const fds = () => readdirSync('/proc/self/fd').length;
      const settle = () => new Promise((r) => setTimeout(r, 50));
      (async () => {
        const before = fds();
        await (async () => { await openHandle({ netns: ${JSON.stringify(netns().path)} }).ipvs.listServices(); })();
        const open = fds();
        for (let i = 0; i < 40 && fds() > before; i++) { global.gc(); await settle(); }
        console.log(JSON.stringify({ before, open, after: fds() }));
      })();`;
    const r = await run('node', ['--expose-gc', '-e', script], { cwd: app, env: bareEnv(packed.bin) });
    expect(r.stderr).toBe('');
    const { before, open, after } = JSON.parse(r.stdout) as Record<string, number>;
    expect(open).toBeGreaterThan(before!);
    expect(after).toBe(before);
  });
});

describe('on an operating system other than Linux', () => {
  // process.platform is made to say darwin for npm and for the package's own install script.
  it('installs (no os restriction, no native build) and says what is wrong when used', async () => {
    const other = join(packed.bin, '..', 'other-os');
    const env = bareEnv(packed.bin, { NODE_OPTIONS: `--require ${packed.fakeDarwin}` });
    expect(packed.installs.otherOs.code, packed.installs.otherOs.log).toBe(0);
    expect(existsSync(join(other, 'node_modules', 'ipvs', 'build'))).toBe(false);
    const use = `
      const { openHandle } = require('ipvs');
      openHandle().ipvs.listServices().then(() => console.log('no error'), (e) => console.log(e.message));`;
    const r = await run('node', ['-e', use], { cwd: other, env });
    expect(r.stdout.trim()).toBe('ipvs: needs Linux; this is darwin');
  });
});
