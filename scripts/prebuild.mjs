#!/usr/bin/env node
// `npm run prebuild`: the prebuilt binaries the package ships, loaded by src/native.ts at the first
// call (so users need no compiler and no install script runs).
//
//   node scripts/prebuild.mjs [--arch x64|arm64] [--libc glibc|musl] [--all] [--force] [--check]
//
// Writes prebuilds/linux-<arch>/ipvs.<libc>.node (N-API, so one binary serves every Node version).
// Without --arch/--libc: this host's target; --all: the four that ship (x64 and arm64, glibc and
// musl; what `npm pack` runs).
//
// Toolchain: zig (fetched once from the npm registry into ~/.cache/ipvs, see
// scripts/test-runtimes.mjs) compiles every target from this x64 host against its own bundled
// libc headers: glibc targets against glibc 2.17 (CentOS 7, Debian 8 and everything since), musl
// ones against musl; LLVM's libc++ is linked statically, so the binaries need no libstdc++ (no
// GLIBCXX_ versions) and only libc. Zig builds libc++ once per target into its cache (minutes
// each on two cores), then a rebuild costs seconds. Where zig cannot run (a non-x64 host, no
// registry), the host's own target falls back to the host's C++ compiler, with libstdc++ linked
// statically, and says that that binary needs this host's glibc; --all refuses such a binary.
//
// Every binary is checked after the build (ELF machine, needed libraries, highest GLIBC_ version,
// no GLIBCXX_); a binary that fails the check counts as stale. A binary newer than every source
// and passing the check is kept unless --force (so `npm test`'s pretest is cheap). --check builds
// nothing: exits 1 and says why when the host's prebuild is missing or stale.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, zig } from './test-runtimes.mjs';
import { which } from './vm/run.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const NAME = 'ipvs';
export const ARCHES = ['x64', 'arm64'];
export const LIBCS = ['glibc', 'musl'];
/** The oldest glibc the glibc binaries are built for, and so need. */
export const GLIBC_FLOOR = '2.17';
const ZIG_ARCH = { x64: 'x86_64', arm64: 'aarch64' };
const ELF_MACHINE = { 62: 'x64', 183: 'arm64' };

const log = (m) => process.stderr.write(`prebuild: ${m}\n`);

export function hostLibc() {
  if (fs.existsSync('/etc/alpine-release')) return 'musl';
  // glibc reports its version to Node, musl does not.
  return process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** Every file the binary is made from; the binary is stale when any is newer. */
function sources() {
  // Not this script: a rebase touching it would rebuild all four (run with --force after changing its flags).
  const files = [path.join(repo, 'binding.gyp'), path.join(repo, 'node_modules', 'node-addon-api', 'package.json')];
  for (const f of fs.readdirSync(path.join(repo, 'src-native'))) files.push(path.join(repo, 'src-native', f));
  return files.filter((f) => fs.existsSync(f));
}

export function prebuildPath(arch = os.arch(), libc = hostLibc()) {
  return path.join(repo, 'prebuilds', `linux-${arch}`, `${NAME}.${libc}.node`);
}

// ---- ELF: what a binary needs from the system -------------------------------------------------

/** Compares dotted versions: negative when a < b. */
export function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * A 64-bit little-endian ELF shared object's architecture, DT_NEEDED libraries and the symbol
 * versions it needs from each (`.gnu.version_r`, what `objdump -T` shows as GLIBC_2.x), with the
 * highest GLIBC_ and GLIBCXX_ versions (null when none).
 */
export function elfInfo(file) {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error(`${file} is not a 64-bit little-endian ELF file`);
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({ type: b.readUInt32LE(o + 4), offset: Number(b.readBigUInt64LE(o + 24)), size: Number(b.readBigUInt64LE(o + 32)), link: b.readUInt32LE(o + 40), info: b.readUInt32LE(o + 44) });
  }
  const str = (sec, at) => {
    const start = sections[sec].offset + at;
    return b.toString('latin1', start, b.indexOf(0, start));
  };
  const needed = [];
  const versions = {};
  for (const s of sections) {
    if (s.type === 6 /* SHT_DYNAMIC */) {
      for (let o = s.offset; o < s.offset + s.size; o += 16) {
        const tag = b.readBigInt64LE(o);
        if (tag === 0n) break;
        if (tag === 1n /* DT_NEEDED */) needed.push(str(s.link, Number(b.readBigUInt64LE(o + 8))));
      }
    } else if (s.type === 0x6ffffffe /* SHT_GNU_verneed */) {
      let o = s.offset;
      for (let i = 0; i < s.info; i++) {
        const lib = str(s.link, b.readUInt32LE(o + 4));
        const list = (versions[lib] ??= []);
        let a = o + b.readUInt32LE(o + 8);
        for (let j = 0; j < b.readUInt16LE(o + 2); j++) {
          list.push(str(s.link, b.readUInt32LE(a + 8)));
          a += b.readUInt32LE(a + 12);
        }
        o += b.readUInt32LE(o + 12);
      }
    }
  }
  const highest = (prefix) => {
    const vs = Object.values(versions).flat().filter((v) => v.startsWith(prefix)).map((v) => v.slice(prefix.length));
    return vs.length ? `${prefix}${vs.sort(compareVersions).at(-1)}` : null;
  };
  return { arch: ELF_MACHINE[b.readUInt16LE(18)] ?? `machine ${b.readUInt16LE(18)}`, needed, versions, glibc: highest('GLIBC_'), glibcxx: highest('GLIBCXX_'), size: b.length };
}

/** null when the binary at `file` is fit to ship as arch/libc; otherwise why not. */
export function fitness(file, arch, libc) {
  let info;
  try {
    info = elfInfo(file);
  } catch (err) {
    return err.message;
  }
  const rel = path.relative(repo, file);
  if (info.arch !== arch) return `${rel} is for ${info.arch}, not ${arch}`;
  const cxx = info.needed.filter((n) => /^lib(std)?c\+\+/.test(n));
  if (cxx.length || info.glibcxx) return `${rel} needs ${[...cxx, info.glibcxx].filter(Boolean).join(', ')} (the C++ library must be linked in)`;
  if (libc === 'musl') {
    if (info.glibc || info.needed.some((n) => n.endsWith('.so.6'))) return `${rel} is linked against glibc (${info.needed.join(', ')}), not musl`;
  } else if (info.glibc === null || compareVersions(info.glibc.slice(6), GLIBC_FLOOR) > 0) {
    return `${rel} needs ${info.glibc ?? 'no GLIBC_ version (not a glibc binary)'}, more than glibc ${GLIBC_FLOOR}`;
  }
  return null;
}

/** null when the binary is present, newer than every source and (when `strict`) fit to ship; otherwise why not. */
export function staleness(file, arch = os.arch(), libc = hostLibc(), strict = true) {
  if (!fs.existsSync(file)) return `${path.relative(repo, file)} does not exist`;
  const built = fs.statSync(file).mtimeMs;
  const newer = sources().filter((s) => fs.statSync(s).mtimeMs > built);
  if (newer.length) return `${path.relative(repo, file)} is older than ${newer.map((s) => path.relative(repo, s)).join(', ')}`;
  return strict ? fitness(file, arch, libc) : null;
}

// ---- building ---------------------------------------------------------------------------------

/** Sources, defines and flags from binding.gyp, so `npm run build:native` and this agree. */
function gypTarget() {
  const gyp = JSON.parse(fs.readFileSync(path.join(repo, 'binding.gyp'), 'utf8'));
  const t = gyp.targets.find((x) => x.target_name === 'ipvs_native');
  return { sources: t.sources.map((s) => path.join(repo, s)), defines: t.defines ?? [], cflags: t.cflags_cc ?? [], ldflags: t.ldflags ?? [] };
}

/** Node-API's C headers: those of the running Node's install, or Debian's nodejs. */
function nodeHeaders() {
  const candidates = [path.resolve(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/include/nodejs/src', '/usr/include/nodejs'];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!found) throw new Error(`Node-API headers (node_api.h) not found in ${candidates.join(', ')}`);
  return found;
}

function compileArgs(extra) {
  const t = gypTarget();
  const addonApi = path.join(repo, 'node_modules', 'node-addon-api');
  if (!fs.existsSync(path.join(addonApi, 'napi.h'))) throw new Error('node-addon-api is not installed: run npm install');
  return [
    '-shared', '-fPIC', '-O2', '-s', ...t.cflags, ...t.defines.map((d) => `-D${d}`), '-DBUILDING_NODE_EXTENSION',
    `-I${nodeHeaders()}`, `-I${addonApi}`, ...extra, ...t.sources, ...t.ldflags,
  ];
}

function zigTarget(arch, libc) {
  return `${ZIG_ARCH[arch]}-linux-${libc === 'glibc' ? `gnu.${GLIBC_FLOOR}` : 'musl'}`;
}

function build(arch, libc, toolchain) {
  const dest = prebuildPath(arch, libc);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  // Build beside, then rename: a test packing prebuilds/ at the same moment never sees half a file.
  const tmp = `${dest}.${process.pid}.tmp`;
  let cmd;
  let args;
  let env = process.env;
  if (toolchain === 'zig') {
    cmd = zig();
    const cache = path.join(cacheDir, 'zig-cache');
    env = { ...process.env, ZIG_GLOBAL_CACHE_DIR: process.env.ZIG_GLOBAL_CACHE_DIR ?? cache, ZIG_LOCAL_CACHE_DIR: process.env.ZIG_LOCAL_CACHE_DIR ?? cache };
    args = ['c++', '-target', zigTarget(arch, libc), ...compileArgs([]), '-o', tmp];
  } else {
    cmd = which('c++') ?? which('g++') ?? which('clang++');
    if (!cmd) throw new Error('no C++ compiler on PATH (c++, g++ or clang++)');
    args = [...compileArgs([]), '-static-libstdc++', '-static-libgcc', '-o', tmp];
  }
  try {
    const r = spawnSync(cmd, args, { cwd: repo, env, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(' ')} ... failed (status ${r.status ?? r.error})`);
    fs.renameSync(tmp, dest);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return dest;
}

/** zig, unless it cannot run here: then null and why. */
function zigUsable() {
  if (os.arch() !== 'x64') return { why: `the zig toolchain is fetched for x64 hosts; this is ${os.arch()}` };
  try {
    zig();
    return {};
  } catch (err) {
    return { why: err.message };
  }
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

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const host = { arch: os.arch(), libc: hostLibc() };
  if (process.platform !== 'linux') {
    log(`nothing to build: the addon is Linux-only and this is ${process.platform}`);
    return 0;
  }
  if (opts.check) {
    const why = staleness(prebuildPath(host.arch, host.libc), host.arch, host.libc, false);
    if (why) {
      log(`${why}: run npm run prebuild`);
      return 1;
    }
    return 0;
  }
  const targets = opts.all ? ARCHES.flatMap((arch) => LIBCS.map((libc) => ({ arch, libc }))) : [{ arch: opts.arch, libc: opts.libc ?? host.libc }];
  let failed = false;
  let zigState;
  for (const { arch, libc } of targets) {
    const label = `linux-${arch} ${libc}`;
    const isHost = arch === host.arch && libc === host.libc;
    const dest = prebuildPath(arch, libc);
    // A host-compiler fallback binary is good enough for this host's tests, not to ship.
    const why = staleness(dest, arch, libc, opts.all || !isHost);
    if (!opts.force && why === null) {
      log(`${label}: ${path.relative(repo, dest)} is up to date`);
      continue;
    }
    try {
      zigState ??= zigUsable();
      let toolchain = 'zig';
      if (zigState.why) {
        if (!isHost || opts.all) throw new Error(`needs the zig toolchain: ${zigState.why}`);
        log(`${label}: zig cannot run (${zigState.why}); building with this host's compiler: the binary needs this host's glibc, not ${GLIBC_FLOOR}`);
        toolchain = 'host';
      }
      log(`${label}: building with ${toolchain === 'zig' ? `zig (${zigTarget(arch, libc)})` : 'the host compiler'}${why ? ` (${why})` : ''}`);
      const t0 = Date.now();
      const out = build(arch, libc, toolchain);
      const unfit = toolchain === 'zig' ? fitness(out, arch, libc) : null;
      if (unfit) throw new Error(unfit);
      const info = elfInfo(out);
      log(`${label}: wrote ${path.relative(repo, out)} (${(info.size / 1024).toFixed(0)} KiB, needs ${info.glibc ?? 'musl'}${info.glibcxx ? `, ${info.glibcxx}` : ''}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      log(`${label}: FAILED: ${err.message}`);
      failed = true;
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
