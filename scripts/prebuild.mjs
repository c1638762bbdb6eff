#!/usr/bin/env node
// `npm run prebuild`: prebuilt binaries for the package, made with prebuildify and loaded by
// src/native.ts at the first call (so users need no compiler and no install script runs).
//
//   node scripts/prebuild.mjs [--arch x64|arm64] [--libc glibc|musl] [--all] [--force] [--check]
//
// Writes prebuilds/linux-<arch>/ipvs.<libc>.node (N-API, so one binary serves every Node version
// from 20 on; tagged with its libc so a musl system never picks the glibc build and the reverse).
//
// Targets:
//   linux-x64 / linux-arm64 with glibc: natively on such a host, or cross-compiled when the cross
//     toolchain is installed (Debian: apt-get install g++-aarch64-linux-gnu for arm64 on x64;
//     g++-x86-64-linux-gnu for x64 on arm64).
//   musl (Alpine): natively on an Alpine host (run this script there), or in a node:20-alpine
//     container when a Docker daemon answers (it mounts the repo and runs this script inside).
// --all tries every target and reports, per target, what was built or why it could not be here;
// it fails only if the host's own target fails.
//
// The build happens in a staging copy (binding.gyp, src-native/, package.json) under the system's
// temporary folder, never in the repo's build/: other work may be loading build/Release at the
// same time. A target whose binary is newer than every source is skipped unless --force (npm runs
// this as the pre-hook of `npm run build` too, so it must be cheap when nothing changed).
// --check builds nothing: exits 1 and says why when the host's prebuild is missing or stale.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NAME = 'ipvs';
const ARCHES = ['x64', 'arm64'];
const LIBCS = ['glibc', 'musl'];
// The GNU triplets Debian's cross compilers use.
const TRIPLET = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

const log = (m) => process.stderr.write(`prebuild: ${m}\n`);

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir || '.', cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

function hostLibc() {
  // glibc reports its version to Node, musl does not.
  if (fs.existsSync('/etc/alpine-release')) return 'musl';
  return process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** Every file the binary is made from; the binary is stale when any is newer. */
function sources() {
  const files = [path.join(repo, 'binding.gyp'), path.join(repo, 'node_modules', 'node-addon-api', 'package.json')];
  for (const f of fs.readdirSync(path.join(repo, 'src-native'))) files.push(path.join(repo, 'src-native', f));
  return files.filter((f) => fs.existsSync(f));
}

export function prebuildPath(arch = os.arch(), libc = hostLibc()) {
  return path.join(repo, 'prebuilds', `linux-${arch}`, `${NAME}.${libc}.node`);
}

/** null when the binary is present and newer than every source; otherwise why not. */
export function staleness(file) {
  if (!fs.existsSync(file)) return `${path.relative(repo, file)} does not exist`;
  const built = fs.statSync(file).mtimeMs;
  const newer = sources().filter((s) => fs.statSync(s).mtimeMs > built);
  return newer.length ? `${path.relative(repo, file)} is older than ${newer.map((s) => path.relative(repo, s)).join(', ')}` : null;
}

function parseArgs(argv) {
  const o = { arch: os.arch(), libc: null, all: false, force: false, check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--arch') o.arch = argv[++i];
    else if (a === '--libc') o.libc = argv[++i];
    else if (a === '--all') o.all = true;
    else if (a === '--force') o.force = true;
    else if (a === '--check') o.check = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node scripts/prebuild.mjs [--arch x64|arm64] [--libc glibc|musl] [--all] [--force] [--check]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!ARCHES.includes(o.arch)) throw new Error(`--arch must be one of ${ARCHES.join(', ')}, got ${o.arch}`);
  if (o.libc !== null && !LIBCS.includes(o.libc)) throw new Error(`--libc must be one of ${LIBCS.join(', ')}, got ${o.libc}`);
  return o;
}

/** A throw-away copy of what node-gyp needs, with the repo's node_modules linked in. */
function stage() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipvs-prebuild-'));
  fs.copyFileSync(path.join(repo, 'binding.gyp'), path.join(dir, 'binding.gyp'));
  fs.cpSync(path.join(repo, 'src-native'), path.join(dir, 'src-native'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: NAME, private: true }));
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** How to build arch/libc on this host: { env } for a local (maybe cross) build, { docker } or { skip: why }. */
function plan(arch, libc, host) {
  if (libc !== host.libc) {
    if (libc === 'musl' && dockerWorks()) return { docker: true };
    return {
      skip: libc === 'musl'
        ? 'musl builds need an Alpine host (run this script there) or a running Docker daemon for node:20-alpine'
        : 'glibc builds need a glibc host',
    };
  }
  if (arch === host.arch) return { env: {} };
  if (libc === 'musl') return { skip: `cross-compiling for musl ${arch} is not set up; run this script on an Alpine ${arch} host` };
  const t = TRIPLET[arch];
  if (!which(`${t}-g++`)) {
    return { skip: `cross-compiling for ${arch} needs ${t}-g++ (Debian: apt-get install g++-${t.replace(/_/g, '-')})` };
  }
  return {
    env: { CC: `${t}-gcc`, CXX: `${t}-g++`, LINK: `${t}-g++`, AR: `${t}-ar`, PREBUILD_STRIP_BIN: which(`${t}-strip`) ? `${t}-strip` : 'strip' },
  };
}

let dockerAnswer;
function dockerWorks() {
  if (dockerAnswer === undefined) {
    dockerAnswer = which('docker') !== null && spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  }
  return dockerAnswer;
}

/**
 * node-gyp: npm's own (npm names it in npm_config_node_gyp when it runs this script), one on PATH,
 * or the one bundled with the npm next to this node.
 */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    which('node-gyp'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((c) => c && fs.existsSync(c));
  if (!found) throw new Error('node-gyp not found: run this through npm (npm run prebuild) or install node-gyp');
  return found;
}

function buildLocal(arch, libc, env) {
  const dir = stage();
  try {
    const bin = path.join(repo, 'node_modules', 'prebuildify', 'bin.js');
    // N-API: the target only chooses which Node headers to compile against; the running Node's
    // are the ones most likely at hand (npm's nodedir, or node-gyp's cache).
    const args = [bin, '--napi', '--strip', '--tag-libc', `--target=${process.versions.node}`, `--arch=${arch}`, `--out=${dir}`, dir];
    const childEnv = { ...process.env, PREBUILD_LIBC: libc, PREBUILD_NODE_GYP: nodeGyp(), ...env };
    // Outside npm nobody tells node-gyp where headers are; the running Node's own install has them.
    const prefix = path.resolve(path.dirname(process.execPath), '..');
    if (!childEnv.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
      childEnv.npm_config_nodedir = prefix;
    }
    const r = spawnSync(process.execPath, args, { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'], env: childEnv });
    if (r.status !== 0) throw new Error(`prebuildify for linux-${arch} ${libc} failed (status ${r.status})`);
    const made = path.join(dir, 'prebuilds', `linux-${arch}`, `${NAME}.${libc}.node`);
    if (!fs.existsSync(made)) throw new Error(`prebuildify finished but ${made} is missing`);
    const dest = prebuildPath(arch, libc);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    // Copy then rename: a test packing prebuilds/ at the same moment never sees half a file.
    const tmp = `${dest}.${process.pid}.tmp`;
    fs.copyFileSync(made, tmp);
    fs.renameSync(tmp, dest);
    return dest;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function buildInDocker(arch, libc) {
  const platform = arch === 'arm64' ? 'linux/arm64' : 'linux/amd64';
  // Inside the container: a compiler, then this same script as a native Alpine build.
  const script = 'apk add --no-cache build-base python3 >/dev/null && node scripts/prebuild.mjs --force';
  const r = spawnSync('docker', ['run', '--rm', '--platform', platform, '-v', `${repo}:/repo`, '-w', '/repo', 'node:20-alpine', 'sh', '-c', script], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`the node:20-alpine build for ${arch} failed (status ${r.status})`);
  return prebuildPath(arch, libc);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const host = { arch: os.arch(), libc: hostLibc() };
  if (process.platform !== 'linux') {
    log(`nothing to build: the addon is Linux-only and this is ${process.platform}`);
    return 0;
  }
  if (opts.check) {
    const why = staleness(prebuildPath(host.arch, host.libc));
    if (why) {
      log(`${why}: run npm run prebuild`);
      return 1;
    }
    return 0;
  }
  const targets = opts.all
    ? ARCHES.flatMap((arch) => LIBCS.map((libc) => ({ arch, libc })))
    : [{ arch: opts.arch, libc: opts.libc ?? host.libc }];
  let failed = false;
  for (const { arch, libc } of targets) {
    const label = `linux-${arch} ${libc}`;
    const essential = !opts.all || (arch === host.arch && libc === host.libc);
    const dest = prebuildPath(arch, libc);
    if (!opts.force && staleness(dest) === null) {
      log(`${label}: ${path.relative(repo, dest)} is up to date`);
      continue;
    }
    const p = plan(arch, libc, host);
    try {
      if (p.skip) throw new Error(p.skip);
      const t0 = Date.now();
      const out = p.docker ? buildInDocker(arch, libc) : buildLocal(arch, libc, p.env);
      log(`${label}: wrote ${path.relative(repo, out)} (${(fs.statSync(out).size / 1024).toFixed(0)} KiB, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (err) {
      log(`${label}: ${essential ? 'FAILED' : 'not built here'}: ${err.message}`);
      if (essential) failed = true;
    }
  }
  return failed ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main();
  } catch (err) {
    log(err.message);
    process.exitCode = 2;
  }
}
