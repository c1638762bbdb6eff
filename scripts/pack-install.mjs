#!/usr/bin/env node
// Packs the package as `npm publish` would and installs the tarball into empty folders, with no
// compiler on PATH, for test/kernel/package-install.test.ts to use. `npm test` runs this on the
// host before it boots the VM: packing and installing in the guest costs minutes on a loaded
// machine, on the host seconds. The test runs it itself when its output is missing or older than
// dist/ and prebuilds/ (run directly on an IPVS host, say).
//
//   node scripts/pack-install.mjs [OUT]     (default OUT: .vm/package)
//
// OUT/result.json: { tarball, files, installs: { app: {code, log}, otherOs: {code, log} } }
//   OUT/app        the tarball installed on this platform
//   OUT/other-os   the tarball installed with process.platform made to say darwin
//   OUT/bin        PATH for both installs and for the test's runs: node, npm and sh only
// The package has no dependencies, so neither install asks the registry for anything.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from './vm/run.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const defaultOut = path.join(repoRoot, '.vm', 'package');

/** The environment of the installs and of the test's runs: no compilers, nothing from npm's run. */
export function bareEnv(binDir, extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === 'NODE_OPTIONS' || k === 'CC' || k === 'CXX' || k.startsWith('VITEST')) continue;
    env[k] = v;
  }
  return { ...env, PATH: binDir, npm_config_update_notifier: 'false', ...extra };
}

function npmInstall(dir, tarball, env) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'empty-app', version: '1.0.0', private: true }));
  const r = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball], { cwd: dir, env, encoding: 'utf8' });
  return { code: r.status ?? 1, log: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Newest modification time under dir (recursively), 0 when it does not exist. */
function newest(dir) {
  if (!fs.existsSync(dir)) return 0;
  let t = fs.statSync(dir).mtimeMs;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/**
 * null when OUT/result.json is newer than dist/, the host's prebuild and package.json; otherwise
 * why not. (Only the host's prebuild counts: `npm test` builds the other three while the kernel
 * suite runs, and they do not change what this host loads.)
 */
export function staleness(out = defaultOut) {
  const result = path.join(out, 'result.json');
  if (!fs.existsSync(result)) return `${path.relative(repoRoot, result)} does not exist`;
  const made = fs.statSync(result).mtimeMs;
  const inputs = Math.max(newest(path.join(repoRoot, 'dist')), newest(path.join(repoRoot, 'prebuilds', `linux-${process.arch}`)), fs.statSync(path.join(repoRoot, 'package.json')).mtimeMs);
  return inputs > made ? 'dist/, prebuilds/ or package.json changed since it was made' : null;
}

function onPath(cmd) {
  const p = which(cmd);
  if (p === null) throw new Error(`${cmd} not found on PATH`);
  return p;
}

export function packAndInstall(out = defaultOut) {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'index.js'))) throw new Error('dist/ is missing: run npm run build:ts');
  fs.rmSync(out, { recursive: true, force: true });
  const bin = path.join(out, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  for (const tool of ['node', 'npm', 'sh']) fs.symlinkSync(tool === 'node' ? process.execPath : onPath(tool), path.join(bin, tool));

  // dist/ and the prebuild are already made; prepack would only redo them.
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: repoRoot, encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  const packed = JSON.parse(pack.stdout)[0];
  const tarball = path.join(out, packed.filename);

  const fake = path.join(out, 'fake-darwin.cjs');
  fs.writeFileSync(fake, "Object.defineProperty(process, 'platform', { value: 'darwin' });\n");
  const installs = {
    app: npmInstall(path.join(out, 'app'), tarball, bareEnv(bin)),
    otherOs: npmInstall(path.join(out, 'other-os'), tarball, bareEnv(bin, { NODE_OPTIONS: `--require ${fake}` })),
  };
  const result = { tarball, size: packed.size, unpackedSize: packed.unpackedSize, files: packed.files.map((f) => f.path), installs, fakeDarwin: fake, bin };
  fs.writeFileSync(path.join(out, 'result.json'), JSON.stringify(result, null, 2));
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ? path.resolve(process.argv[2]) : defaultOut;
  const started = Date.now();
  const r = packAndInstall(out);
  const bad = Object.entries(r.installs).filter(([, i]) => i.code !== 0);
  process.stderr.write(`pack-install: ${path.basename(r.tarball)} (${(r.size / 1024).toFixed(0)} KiB) installed in ${path.relative(process.cwd(), out) || '.'} in ${((Date.now() - started) / 1000).toFixed(1)} s${bad.length ? `; FAILED: ${bad.map(([k]) => k).join(', ')}` : ''}\n`);
  process.exitCode = bad.length ? 1 : 0;
}
