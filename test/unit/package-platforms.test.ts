// The packed tarball on every platform it ships for: the four prebuilds (x64 and arm64, glibc and
// musl) are in it, each is an ELF object for its machine that needs at most glibc 2.17 and no
// C++ library, and each loads and talks to the kernel from the folder the tarball was installed in
// (no compiler on PATH, nothing asked of the registry), on:
//   - this host's Node (x64 glibc) and Node 22 and 24 (x64 glibc, from the npm registry);
//   - Bun's musl build (x64 musl, from the npm registry), on musl's loader from Debian's package;
//   - Node 22 for arm64 (arm64 glibc) under qemu-user, from Debian's packages.
// Each run happens in a fresh network namespace (unshare): it lists the links over rtnetlink, a
// real kernel call, cross-checked with `ip link` in the same namespace, and asks for the IPVS
// services over generic netlink, which either answers (no service: the namespace is new) or fails
// with a typed NetlinkError (no IPVS in this kernel; qemu-user does not relay generic netlink).
// The IPVS calls themselves run against a kernel with IPVS in test/kernel/package-install.test.ts.
//
// The runtimes and the zig toolchain are fetched by scripts/test-runtimes.mjs into ~/.cache/ipvs
// (once per machine), Debian's packages installed with apt-get when missing; one that cannot be
// had fails its test, saying why: nothing here skips.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PREBUILT_PLATFORMS } from '../../src/native';

const repo = join(__dirname, '..', '..');
const out = join(repo, '.vm', 'platforms');
const TARGETS = [
  { arch: 'x64', libc: 'glibc' },
  { arch: 'x64', libc: 'musl' },
  { arch: 'arm64', libc: 'glibc' },
  { arch: 'arm64', libc: 'musl' },
] as const;

interface PackResult {
  tarball: string;
  files: string[];
  installs: Record<'app' | 'otherOs', { code: number; log: string }>;
  bin: string;
}
interface Runtime {
  name: string;
  arch: string;
  libc: string;
  version: string;
  command: string[];
  env: NodeJS.ProcessEnv;
}
interface ElfInfo {
  arch: string;
  needed: string[];
  glibc: string | null;
  glibcxx: string | null;
  size: number;
}
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let packed: PackResult;
let app: string;
let prebuild: { elfInfo(f: string): ElfInfo; fitness(f: string, arch: string, libc: string): string | null; GLIBC_FLOOR: string };
const runs = new Map<string, Promise<{ runtime: Runtime; run: Run }>>();

// What the installed package does in the fresh namespace; prints one JSON line.
const CHECK = `
const { readFileSync } = require('node:fs');
const { openHandle, NetlinkError } = require('ipvs');
(async () => {
  const h = openHandle();
  const links = (await h.links.list()).map((l) => l.ifname);
  let ipvs;
  try {
    ipvs = { services: (await h.ipvs.listServices()).length };
  } catch (e) {
    ipvs = { error: e instanceof NetlinkError ? 'NetlinkError' : String(e && e.constructor && e.constructor.name), code: e.code, message: e.message };
  }
  h.close();
  const maps = readFileSync('/proc/self/maps', 'latin1').split('\\n').map((l) => l.split(/\\s+/)[5]);
  const addon = [...new Set(maps.filter((p) => p && p.endsWith('.node')))];
  console.log(JSON.stringify({ arch: process.arch, node: process.versions.node, bun: process.versions.bun, addon, links, ipvs }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function which(cmd: string): string {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) if (existsSync(join(dir, cmd))) return join(dir, cmd);
  throw new Error(`${cmd} not found`);
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const shq = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

beforeAll(async () => {
  prebuild = (await import(join(repo, 'scripts', 'prebuild.mjs'))) as typeof prebuild;
  const runtimes = (await import(join(repo, 'scripts', 'test-runtimes.mjs'))) as { runtime(name: string): Runtime; RUNTIMES: Record<string, unknown> };
  const packInstall = (await import(join(repo, 'scripts', 'pack-install.mjs'))) as {
    packAndInstall(out: string): PackResult;
    bareEnv(bin: string, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  };

  // All four prebuilds (seconds when zig's cache is warm; see scripts/prebuild.mjs).
  const b = spawnSync(process.execPath, [join(repo, 'scripts', 'prebuild.mjs'), '--all'], { cwd: repo, encoding: 'utf8' });
  expect(b.status, `prebuild --all failed:\n${b.stderr}`).toBe(0);
  packed = packInstall.packAndInstall(out);
  app = join(out, 'app');
  writeFileSync(join(app, 'check.cjs'), CHECK);

  const unshare = which('unshare');
  const ip = which('ip');
  const asRoot = process.getuid?.() === 0;
  const start = (runtime: Runtime) => {
    // In one fresh network namespace: the package's calls, then `ip` reading the same links.
    const script = `${runtime.command.map(shq).join(' ')} check.cjs && ${shq(ip)} -j link show`;
    const args = [...(asRoot ? [] : ['--user', '--map-root-user']), '--net', join(packed.bin, 'sh'), '-c', script];
    return run(unshare, args, app, packInstall.bareEnv(packed.bin, runtime.env)).then((r) => ({ runtime, run: r }));
  };
  const host: Runtime = { name: 'host', arch: process.arch, libc: 'glibc', version: process.versions.node, command: [join(packed.bin, 'node')], env: {} };
  runs.set('host', start(host));
  for (const name of Object.keys(runtimes.RUNTIMES)) {
    // Fetching or installing a runtime may fail: that runtime's test then fails saying why.
    let p: Promise<{ runtime: Runtime; run: Run }>;
    try {
      p = start(runtimes.runtime(name));
    } catch (err) {
      p = Promise.reject(new Error(`runtime ${name} could not be set up: ${(err as Error).message}`));
    }
    p.catch(() => {});
    runs.set(name, p);
  }
}, 1_800_000);

describe('the packed tarball', () => {
  it('ships the four prebuilds PREBUILT_PLATFORMS names, each for its machine, needing no C++ library and glibc 2.17 at most', () => {
    expect([...PREBUILT_PLATFORMS].sort()).toEqual(TARGETS.map((t) => `linux-${t.arch} ${t.libc}`).sort());
    expect(packed.installs.app.code, packed.installs.app.log).toBe(0);
    expect(packed.files.filter((f) => f.endsWith('.node')).sort()).toEqual(TARGETS.map((t) => `prebuilds/linux-${t.arch}/ipvs.${t.libc}.node`).sort());
    for (const { arch, libc } of TARGETS) {
      const file = join(app, 'node_modules', 'ipvs', 'prebuilds', `linux-${arch}`, `ipvs.${libc}.node`);
      expect(prebuild.fitness(file, arch, libc), file).toBeNull();
      const info = prebuild.elfInfo(file);
      expect(info.arch).toBe(arch);
      expect(info.glibcxx).toBeNull();
      expect(info.needed.filter((n) => /c\+\+|gcc_s/.test(n))).toEqual([]);
      if (libc === 'glibc') {
        expect(info.glibc).toBe(`GLIBC_${prebuild.GLIBC_FLOOR}`);
        expect(info.needed).toContain('libc.so.6');
      } else {
        expect(info.glibc).toBeNull();
        expect(info.needed).toEqual(['libc.so']);
      }
    }
  });

  it('was installed with no compiler on PATH and runs no install script', () => {
    for (const compiler of ['cc', 'gcc', 'g++', 'c++', 'clang', 'make', 'python3', 'zig']) {
      expect(existsSync(join(packed.bin, compiler)), `${compiler} must not be on the install's PATH`).toBe(false);
    }
    expect(packed.installs.app.log).not.toMatch(/> ipvs@[^ ]+ (preinstall|install|postinstall)/);
    expect(existsSync(join(app, 'node_modules', 'ipvs', 'build'))).toBe(false);
  });
});

const engines = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

describe.each([
  ['host', "this host's Node", 'x64', 'glibc'],
  ['node22', 'Node 22', 'x64', 'glibc'],
  ['node24', 'Node 24', 'x64', 'glibc'],
  ['bun-musl', "Bun's musl build", 'x64', 'musl'],
  ['node22-arm64', 'Node 22 for arm64 under qemu-user', 'arm64', 'glibc'],
])('installed, run by %s (%s)', (name, _label, arch, libc) => {
  it(`loads prebuilds/linux-${arch}/ipvs.${libc}.node and lists the links of a fresh network namespace as ip does`, async () => {
    const { runtime, run: r } = await runs.get(name)!;
    expect(r.code, `${runtime.command.join(' ')} check.cjs:\n${r.stderr}${r.stdout}`).toBe(0);
    const [line, ...ipJson] = r.stdout.trim().split('\n');
    const got = JSON.parse(line!) as { arch: string; node?: string; bun?: string; addon: string[]; links: string[]; ipvs: { services?: number; error?: string; code?: string; message?: string } };
    expect(got.arch).toBe(arch);
    expect(got.addon).toEqual([join(app, 'node_modules', 'ipvs', 'prebuilds', `linux-${arch}`, `ipvs.${libc}.node`)]);
    const ipLinks = (JSON.parse(ipJson.join('\n')) as { ifname: string }[]).map((l) => l.ifname);
    expect(ipLinks).toEqual(['lo']);
    expect(got.links).toEqual(ipLinks);
    // Generic netlink: an answer, or a typed error naming what is missing.
    if (got.ipvs.services === undefined) {
      expect(got.ipvs.error, JSON.stringify(got.ipvs)).toBe('NetlinkError');
      expect(['ENOENT', 'EPROTONOSUPPORT']).toContain(got.ipvs.code);
    } else {
      expect(got.ipvs.services).toBe(0);
    }
    if (got.bun === undefined && got.node !== undefined) {
      // The Node versions tested are the ones `engines` admits.
      const floor = /^>=(\d+)/.exec(engines);
      expect(floor, `engines.node ${engines}`).not.toBeNull();
      expect(Number(got.node.split('.')[0])).toBeGreaterThanOrEqual(Number(floor![1]));
    }
  });
});
