// What a user gets from `npm install ipvs`: the packed tarball installs into an empty folder with
// no compiler on PATH (so node-gyp could not build even if it tried: the prebuilt binary must
// load), both module systems load it there, it talks to the kernel, a handle nobody closed gives
// its socket back at garbage collection, and on another OS the same tarball installs and then
// fails with a clear message when used.
//
// Needs a fresh dist/ (`npm run build:ts`) and the host's prebuild (`npm run prebuild`; `npm test`
// runs it first, and this file builds it when it is missing or older than src-native/). Packing and installing happen here, in the VM, from npm's cache
// (--prefer-offline: the registry is used only for what the cache lacks).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNetns, type ExecResult } from './helpers/netns';

const repo = join(__dirname, '..', '..');
const netns = useNetns();
let work: string;
let tarball: string;
let app: string;
/** PATH for the install: node, npm and sh, and nothing that could compile. */
let barePath: string;
let installLog = '';

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

function which(cmd: string): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/bin'])) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  throw new Error(`${cmd} not found on PATH`);
}

/** An environment without compilers and without anything that would force a source build. */
function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === 'NODE_OPTIONS' || k === 'CC' || k === 'CXX' || k.startsWith('VITEST')) continue;
    env[k] = v;
  }
  return { ...env, PATH: barePath, npm_config_update_notifier: 'false', ...extra };
}

async function npmInstall(dir: string, env: NodeJS.ProcessEnv): Promise<ExecResult> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'empty-app', version: '1.0.0', private: true }));
  return run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball], { cwd: dir, env });
}

beforeAll(async () => {
  // `npm test` refreshes the prebuild before booting the VM; run directly, the test does it here
  // (slower in the VM, but the tarball must carry a binary of the current sources).
  const prebuild = join(repo, 'scripts', 'prebuild.mjs');
  if ((await run(process.execPath, [prebuild, '--check'], { cwd: repo })).code !== 0) {
    const built = await run(process.execPath, [prebuild], { cwd: repo });
    if (built.code !== 0) throw new Error(`no usable prebuild, and building one failed:\n${built.stderr.slice(-2000)}`);
  }
  if (!existsSync(join(repo, 'dist', 'index.js'))) throw new Error('dist/ is missing: run npm run build:ts');

  work = mkdtempSync(join(tmpdir(), 'ipvs-pkg-'));
  const bin = join(work, 'bin');
  mkdirSync(bin);
  for (const tool of ['node', 'npm', 'sh']) symlinkSync(tool === 'node' ? process.execPath : which(tool), join(bin, tool));
  barePath = bin;
  for (const compiler of ['cc', 'gcc', 'g++', 'c++', 'make', 'python3']) {
    expect(existsSync(join(bin, compiler)), `${compiler} must not be on the install's PATH`).toBe(false);
  }

  // The tarball as `npm publish` would make it (dist/ is already built; prepare would only redo it).
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repo });
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  const packed = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  expect(files).toContain('prebuilds/linux-x64/ipvs.glibc.node');
  expect(files).toContain('dist/index.mjs');
  expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('build/'))).toEqual([]);

  app = join(work, 'app');
  const install = await npmInstall(app, bareEnv());
  if (install.code !== 0) throw new Error(`npm install of the tarball failed:\n${install.stdout}\n${install.stderr}`);
  installLog = install.stdout + install.stderr;
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('installs without compiling: the prebuild is used and no build/ folder appears', () => {
    const pkg = join(app, 'node_modules', 'ipvs');
    expect(existsSync(join(pkg, 'prebuilds', 'linux-x64', 'ipvs.glibc.node'))).toBe(true);
    expect(existsSync(join(pkg, 'build')), 'node-gyp ran during install').toBe(false);
    expect(readdirSync(join(app, 'node_modules')).filter((f) => !f.startsWith('.')).sort()).toEqual(['ipvs', 'node-addon-api', 'node-gyp-build']);
    // The install script did run (npm printed it, --foreground-scripts): it found the prebuild.
    expect(installLog).toMatch(/> ipvs@[^ ]+ install\n> .*node-gyp-build/);
    expect(installLog).not.toContain('gyp info');
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
    const r = await run('node', ['-e', cjs], { cwd: app, env: bareEnv() });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([['10.7.0.1', 80, 'rr']]);
    expect((await netns().run('ipvsadm', ['-Sn'])).stdout.trim()).toBe('-A -t 10.7.0.1:80 -s rr');

    const esm = `
      import { openHandle, NetlinkError } from 'ipvs';
      const h = openHandle({ netns: ${JSON.stringify(ns)} });
      const err = await h.ipvs.addService({ protocol: 'tcp', address: '10.7.0.1', port: 80 }).catch((e) => e);
      console.log(err instanceof NetlinkError, err.code);
      h.close();`;
    const m = await run('node', ['--input-type=module', '-e', esm], { cwd: app, env: bareEnv() });
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
    const r = await run('node', ['--expose-gc', '-e', script], { cwd: app, env: bareEnv() });
    expect(r.stderr).toBe('');
    const { before, open, after } = JSON.parse(r.stdout) as Record<string, number>;
    expect(open).toBeGreaterThan(before!);
    expect(after).toBe(before);
  });
});

describe('on an operating system other than Linux', () => {
  // process.platform is made to say darwin for npm and for the package's own install script.
  it('installs (no os restriction, no native build) and says what is wrong when used', async () => {
    const fake = join(work, 'fake-darwin.cjs');
    writeFileSync(fake, "Object.defineProperty(process, 'platform', { value: 'darwin' });\n");
    const other = join(work, 'other-os');
    const env = bareEnv({ NODE_OPTIONS: `--require ${fake}` });
    const install = await npmInstall(other, env);
    expect(install.code, `${install.stdout}\n${install.stderr}`).toBe(0);
    expect(existsSync(join(other, 'node_modules', 'ipvs', 'build'))).toBe(false);
    const use = `
      const { openHandle } = require('ipvs');
      openHandle().ipvs.listServices().then(() => console.log('no error'), (e) => console.log(e.message));`;
    const r = await run('node', ['-e', use], { cwd: other, env });
    expect(r.stdout.trim()).toBe('ipvs: needs Linux; this is darwin');
  });
});
