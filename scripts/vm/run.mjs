#!/usr/bin/env node
// Run a command as root on a kernel that has IPVS, streaming its output and exiting with its status.
//
//   node scripts/vm/run.mjs [--vm] [--] <command...>
//
// Where it runs:
//   - directly, when this host is root and its kernel has IPVS and dummy links (IPVS_TEST_WHERE=host);
//   - otherwise in a User-Mode Linux guest (Debian's linux.uml, 6.1) whose root filesystem is this
//     host's own (hostfs), so node, the repo and its build are all visible and writes land here
//     (IPVS_TEST_WHERE=vm:<uname -r>). scripts/vm/init.sh is the guest's PID 1.
//
// Options: --vm forces the VM even on an IPVS host.
// Environment:
//   IPVS_VM=1|0          force the VM / forbid it (0: fail unless the host can run the command itself)
//   IPVS_VM_MEM=2G       guest memory (default: 2G, less if the backing filesystem is short)
//   IPVS_VM_TIMEOUT=1200 hard limit for the whole run, in seconds (the command is killed after it)
//   IPVS_VM_KEEP=1       keep the per-run folder under .vm/ even when the run succeeded
//   IPVS_VM_QUIET=1      no "[vm]" status lines on stderr
//   IPVS_VM_CPU=N|all    the host CPU the guest runs on (default: the last one this process may use;
//                        all: no pinning). UML runs every guest process as a ptraced host process:
//                        when the tracer and the traced process sit on different host CPUs, every
//                        guest system call pays two cross-CPU wake-ups. Measured here on two cores:
//                        5,000 IPVS destination dumps took ~1,100 ms unpinned and 162 ms pinned.
//
// Also importable: `runAsRoot(argv, options)` resolves to { code, where, kernel, bootMs, memory }.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
const UML = '/usr/bin/linux.uml';
const UML_MODULES = '/usr/lib/uml/modules';
const APT_PACKAGES = ['user-mode-linux', 'kmod', 'ipvsadm', 'ipset', 'iproute2'];
const TOOLS = { modprobe: 'kmod', ip: 'iproute2', ipvsadm: 'ipvsadm', ipset: 'ipset' };
const DEFAULT_TIMEOUT_S = 20 * 60;
const MiB = 1024 * 1024;

/**
 * The host CPU to run the guest on, or null (no pinning: asked for, or taskset missing). Default:
 * the last CPU of this process's allowed list (often the less busy one).
 */
function pinCpu(setting) {
  if (setting === 'all' || !which('taskset')) return null;
  if (setting !== undefined && setting !== '') {
    if (!/^\d+$/.test(setting)) throw new HarnessError(`IPVS_VM_CPU must be a CPU number or 'all', got '${setting}'`);
    return Number(setting);
  }
  let allowed = [];
  try {
    const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('Cpus_allowed_list:'));
    for (const part of (line?.split(':')[1] ?? '').trim().split(',')) {
      const [a, b] = part.split('-').map(Number);
      if (Number.isInteger(a)) for (let c = a; c <= (Number.isInteger(b) ? b : a); c++) allowed.push(c);
    }
  } catch {
    allowed = [];
  }
  return allowed.length > 0 ? allowed[allowed.length - 1] : null;
}

/** A failure of the harness itself (not of the command it runs). */
export class HarnessError extends Error {}

/** The executable `cmd` on PATH (then /usr/sbin, /sbin), or null. */
export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir || '.', cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

function quiet(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

const isRoot = () => process.getuid?.() === 0;

/**
 * Can this host run kernel tests itself? Root, IPVS (built in or loadable) and dummy links.
 * Loading modules is the only change made here: dummy is loaded with numdummies=0 so no dummy0
 * appears, and the dummy link probe runs in a throw-away network namespace.
 */
export function hostCanRunKernelTests() {
  if (!isRoot()) return { ok: false, why: 'not root' };
  if (!fs.existsSync('/proc/net/ip_vs')) quiet('modprobe', ['ip_vs']);
  if (!fs.existsSync('/proc/net/ip_vs')) return { ok: false, why: `kernel ${os.release()} has no IPVS` };
  if (!fs.existsSync('/sys/module/dummy')) quiet('modprobe', ['dummy', 'numdummies=0']);
  if (!fs.existsSync('/sys/module/dummy')) return { ok: false, why: `kernel ${os.release()} has no dummy links` };
  const probe = quiet('unshare', ['--net', 'ip', 'link', 'add', 'ipvsprobe0', 'type', 'dummy']);
  if (!probe.ok) return { ok: false, why: `cannot create a dummy link in a new netns: ${probe.out}` };
  for (const tool of Object.keys(TOOLS)) {
    if (!which(tool)) return { ok: false, why: `${tool} is not installed` };
  }
  return { ok: true, why: '' };
}

function umlVersion() {
  const r = quiet(UML, ['--version']);
  const m = /(\d+\.\d+\.\d+\S*)/.exec(r.out);
  return m ? m[1] : null;
}

function missingVmPieces() {
  const missing = new Set();
  const version = fs.existsSync(UML) ? umlVersion() : null;
  if (!version || !fs.existsSync(path.join(UML_MODULES, version))) missing.add('user-mode-linux');
  for (const [tool, pkg] of Object.entries(TOOLS)) if (!which(tool)) missing.add(pkg);
  return [...missing];
}

/** Make sure linux.uml, its modules and the tools exist; install them with apt-get as root. */
export function ensureVmPrerequisites(log) {
  let missing = missingVmPieces();
  if (missing.length === 0) return umlVersion();
  const hint = `apt-get install -y ${APT_PACKAGES.join(' ')}`;
  if (!isRoot() || !which('apt-get')) {
    throw new HarnessError(
      `kernel tests need a kernel with IPVS; this one (${os.release()}) has none, and the VM that ` +
        `replaces it is missing ${missing.join(', ')}. Install it as root (Debian/Ubuntu): ${hint}`,
    );
  }
  log(`installing ${APT_PACKAGES.join(' ')} with apt-get (missing: ${missing.join(', ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...APT_PACKAGES]]) {
    const r = spawnSync('apt-get', args, { env, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) {
      throw new HarnessError(`'apt-get ${args.join(' ')}' failed (status ${r.status}); install by hand: ${hint}`);
    }
  }
  missing = missingVmPieces();
  if (missing.length > 0) throw new HarnessError(`still missing after apt-get: ${missing.join(', ')}`);
  return umlVersion();
}

/** Build the xstate shim (see uml-xstate-shim.c) once per source version; null without a compiler. */
function buildShim(cacheDir, log) {
  const src = path.join(here, 'uml-xstate-shim.c');
  const hash = createHash('sha256').update(fs.readFileSync(src)).digest('hex').slice(0, 12);
  const out = path.join(cacheDir, `uml-xstate-shim-${hash}.so`);
  if (fs.existsSync(out)) return out;
  const cc = which('cc') ?? which('gcc') ?? which('clang');
  if (!cc) {
    log('no C compiler: starting linux.uml without its xstate shim (it dies at once on hosts with AVX-512/PKRU/AMX)');
    return null;
  }
  const tmp = `${out}.${process.pid}.tmp`;
  const r = quiet(cc, ['-shared', '-fPIC', '-O2', '-Wall', '-o', tmp, src, '-ldl']);
  if (!r.ok) throw new HarnessError(`building ${src} failed:\n${r.out}`);
  fs.renameSync(tmp, out);
  return out;
}

/** Where UML can back its RAM (it mmaps a file in $TMPDIR), and how much to give the guest. */
function chooseMemory(log) {
  const requested = process.env.IPVS_VM_MEM ? parseSize(process.env.IPVS_VM_MEM) : null;
  const want = requested ?? 2048 * MiB;
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' '));
  const noexec = (dir) => {
    let best = null;
    for (const f of mounts) {
      if (f.length < 6) continue;
      const mp = f[4];
      if ((dir === mp || dir.startsWith(mp.endsWith('/') ? mp : `${mp}/`)) && (!best || mp.length > best[4].length)) best = f;
    }
    return best ? best[5].split(',').includes('noexec') : false;
  };
  const candidates = [process.env.TMPDIR, '/dev/shm', os.tmpdir(), '/tmp', '/var/tmp'].filter(Boolean);
  let best = null;
  for (const dir of candidates) {
    try {
      fs.accessSync(dir, fs.constants.W_OK);
      if (noexec(dir)) continue; // UML maps its RAM executable
      const st = fs.statfsSync(dir);
      const avail = st.bavail * st.bsize;
      if (!best || avail > best.avail) best = { dir, avail };
      if (avail >= want + 512 * MiB) break;
    } catch {}
  }
  if (!best) throw new HarnessError(`no writable, exec-mountable folder for the VM's RAM among ${candidates.join(', ')}`);
  let bytes = want;
  if (!requested && best.avail < want + 512 * MiB) {
    bytes = Math.floor((best.avail - 512 * MiB) / (256 * MiB)) * 256 * MiB;
    if (bytes < 768 * MiB) {
      throw new HarnessError(`only ${Math.round(best.avail / MiB)} MiB free in ${best.dir} for the VM's RAM; need about 1.3 GiB (set TMPDIR to a roomier folder)`);
    }
    log(`${best.dir} has ${Math.round(best.avail / MiB)} MiB free: giving the guest ${bytes / MiB} MiB`);
  }
  return { dir: best.dir, mib: Math.floor(bytes / MiB) };
}

function parseSize(s) {
  const m = /^(\d+)([kKmMgG]?)$/.exec(s.trim());
  if (!m) throw new HarnessError(`IPVS_VM_MEM=${s}: expected a size like 1536M or 2G`);
  const unit = { '': 1, k: 1024, m: MiB, g: 1024 * MiB }[m[2].toLowerCase()];
  return Number(m[1]) * unit;
}

const shQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
// Kernel command line words cannot hold spaces or quotes; keep paths to a safe alphabet.
const cmdlineSafe = (p) => /^[A-Za-z0-9_./+@:-]+$/.test(p);

// Host-only variables that point into the host's /run or session and mean nothing in the guest.
const DROP_ENV = new Set(['PWD', 'OLDPWD', 'SHLVL', '_', 'IPVS_TEST_WHERE', 'IPVS_VM_RUN', 'XDG_RUNTIME_DIR',
  'DBUS_SESSION_BUS_ADDRESS', 'SSH_AUTH_SOCK', 'TERM', 'COLUMNS', 'LINES']);

function payloadScript(argv, cwd, env) {
  const lines = ['# written by scripts/vm/run.mjs; run by scripts/vm/init.sh inside the guest'];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || DROP_ENV.has(k) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) continue;
    if (/^(TMPDIR|TMP|TEMP)$/.test(k) && /^\/(run|dev\/shm)(\/|$)/.test(v)) continue;
    lines.push(`export ${k}=${shQuote(v)}`);
  }
  // The guest's init has its own PATH; put node's own folder first so the same node runs inside.
  const hostPath = env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  // IPVS_VM_BIN: the init's modprobe/modinfo wrappers, when the host has no /lib/modules.
  lines.push(`export PATH="\${IPVS_VM_BIN:+$IPVS_VM_BIN:}"${shQuote(`${path.dirname(process.execPath)}:${hostPath}:/usr/local/sbin:/usr/sbin:/sbin`)}`);
  lines.push(`cd ${shQuote(cwd)} || exit 125`);
  lines.push(`exec ${argv.map(shQuote).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** Incrementally copy a growing file to a stream. */
class Tail {
  constructor(file, stream) {
    this.file = file;
    this.stream = stream;
    this.fd = null;
    this.pos = 0;
    this.buf = Buffer.alloc(64 * 1024);
  }
  pump() {
    if (this.fd === null) {
      try {
        this.fd = fs.openSync(this.file, 'r');
      } catch {
        return;
      }
    }
    for (;;) {
      const n = fs.readSync(this.fd, this.buf, 0, this.buf.length, this.pos);
      if (n <= 0) return;
      this.pos += n;
      this.stream.write(Buffer.from(this.buf.subarray(0, n)));
    }
  }
  close() {
    this.pump();
    if (this.fd !== null) fs.closeSync(this.fd);
  }
}

const readIf = (f) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return null;
  }
};
const tailLines = (text, n) => text.split('\n').slice(-n).join('\n');
const flush = (stream) => new Promise((resolve) => stream.write('', resolve));

function runOnHost(argv, { cwd, env, stdout, stderr }) {
  return new Promise((resolve) => {
    const pipe = (s, own) => (s === own ? 'inherit' : 'pipe');
    const stdio = ['inherit', pipe(stdout, process.stdout), pipe(stderr, process.stderr)];
    const child = spawn(argv[0], argv.slice(1), { cwd, env: { ...env, IPVS_TEST_WHERE: 'host' }, stdio });
    child.stdout?.pipe(stdout, { end: false });
    child.stderr?.pipe(stderr, { end: false });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', (err) => {
      process.stderr.write(`[host] cannot start ${argv[0]}: ${err.message}\n`);
      resolve(127);
    });
    child.on('close', (code, sig) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolve(code ?? 128 + (os.constants.signals[sig] ?? 0));
    });
  });
}

/** Failed runs keep their folder for a post-mortem; drop those older than a day. */
function pruneOldRuns(dir) {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith('run-')) continue;
    try {
      if (fs.statSync(path.join(dir, name)).mtimeMs < dayAgo) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    } catch {}
  }
}

async function runInVm(argv, { cwd, env, stdout, stderr, log, timeoutS }) {
  const kernel = ensureVmPrerequisites(log);
  const cacheDir = path.join(repoRoot, '.vm');
  let runDir;
  if (cmdlineSafe(cacheDir)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    pruneOldRuns(cacheDir);
    runDir = fs.mkdtempSync(path.join(cacheDir, 'run-'));
  } else {
    runDir = fs.mkdtempSync(path.join(cmdlineSafe(os.tmpdir()) ? os.tmpdir() : '/tmp', 'ipvs-vm-'));
  }
  let init = path.join(here, 'init.sh');
  const executable = (f) => {
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (!cmdlineSafe(init) || !executable(init)) {
    fs.copyFileSync(init, path.join(runDir, 'init.sh'));
    fs.chmodSync(path.join(runDir, 'init.sh'), 0o755);
    init = path.join(runDir, 'init.sh');
  }
  const shim = buildShim(cmdlineSafe(cacheDir) ? cacheDir : runDir, log);
  const mem = chooseMemory(log);
  const payloadEnv = { ...env };
  if (stdout.isTTY && payloadEnv.FORCE_COLOR === undefined && payloadEnv.NO_COLOR === undefined) payloadEnv.FORCE_COLOR = '1';
  fs.writeFileSync(path.join(runDir, 'payload.sh'), payloadScript(argv, cwd, payloadEnv));

  const consoleLog = path.join(runDir, 'console.log');
  const consoleFd = fs.openSync(consoleLog, 'w');
  const args = [
    `mem=${mem.mib}M`, 'root=/dev/root', 'rootfstype=hostfs', 'rootflags=/', 'rw', `init=${init}`,
    // con0 writes to our stdout (a file, not the user's terminal) and reads nothing: with no
    // standard input (CI) an fd:0 console would poll /dev/null. Other consoles and serial lines
    // would otherwise try to open xterms or ptys.
    'con0=null,fd:1', 'con=null', 'ssl=null', 'quiet', `IPVS_VM_RUN=${runDir}`,
  ];
  const umlEnv = { ...process.env, TMPDIR: mem.dir };
  if (shim) umlEnv.LD_PRELOAD = shim;
  const cpu = pinCpu(env.IPVS_VM_CPU ?? process.env.IPVS_VM_CPU);
  const [exe, exeArgs] = cpu === null ? [UML, args] : ['taskset', ['-c', String(cpu), UML, ...args]];
  if (cpu !== null) log(`guest pinned to host CPU ${cpu}`);
  const t0 = Date.now();
  const uml = spawn(exe, exeArgs, { cwd: '/', env: umlEnv, stdio: ['ignore', consoleFd, consoleFd], detached: true });
  fs.closeSync(consoleFd);

  const outTail = new Tail(path.join(runDir, 'stdout'), stdout);
  const errTail = new Tail(path.join(runDir, 'stderr'), stderr);
  let bootMs = null;
  let timedOut = false;
  let interrupted = null;
  const killVm = (sig) => {
    try {
      process.kill(-uml.pid, sig);
    } catch {}
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killVm('SIGTERM');
    setTimeout(() => killVm('SIGKILL'), 5000).unref();
  }, timeoutS * 1000);
  const onSignal = (sig) => {
    interrupted = sig;
    killVm('SIGKILL');
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const poll = setInterval(() => {
    if (bootMs === null && fs.existsSync(path.join(runDir, 'started'))) {
      bootMs = Date.now() - t0;
      log(`Linux ${readIf(path.join(runDir, 'kernel'))?.trim() ?? kernel} (User-Mode Linux, ${mem.mib} MiB) booted in ${(bootMs / 1000).toFixed(1)} s; running: ${argv.join(' ')}`);
    }
    outTail.pump();
    errTail.pump();
  }, 100);

  const exit = await new Promise((resolve) => {
    uml.on('error', (err) => resolve({ code: null, sig: null, err }));
    uml.on('exit', (code, sig) => resolve({ code, sig, err: null }));
  });
  clearInterval(poll);
  clearTimeout(timer);
  process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  killVm('SIGKILL'); // stray helper processes of a crashed guest, if any
  outTail.close();
  errTail.close();
  await flush(stdout);

  const initErr = readIf(path.join(runDir, 'init.err'));
  if (initErr) stderr.write(initErr.replace(/^/gm, '[vm] ').replace(/\[vm\] $/, ''));
  const statusText = readIf(path.join(runDir, 'status'));
  const guestKernel = readIf(path.join(runDir, 'kernel'))?.trim() ?? kernel;
  let code;
  if (statusText !== null && !timedOut && !interrupted) {
    code = Number.parseInt(statusText, 10);
  } else {
    const why = exit.err
      ? `could not start ${UML}: ${exit.err.message}`
      : timedOut
        ? `timed out after ${timeoutS} s (IPVS_VM_TIMEOUT) and was killed`
        : interrupted
          ? `was stopped by ${interrupted}`
          : `died without recording an exit status (linux.uml exit ${exit.code ?? exit.sig})`;
    stderr.write(`[vm] the VM ${why}. Run folder: ${runDir}\n`);
    const con = readIf(consoleLog) ?? '';
    stderr.write(`[vm] last lines of the guest console:\n${tailLines(con.trimEnd(), 40).replace(/^/gm, '  | ')}\n`);
    const initLog = readIf(path.join(runDir, 'init.log'));
    if (initLog) stderr.write(`[vm] init.log:\n${initLog.trimEnd().replace(/^/gm, '  | ')}\n`);
    if (/set fp regs failed/.test(con)) {
      stderr.write('[vm] this is UML 6.1 meeting a host whose XSAVE area is larger than it expects; the shim in scripts/vm/uml-xstate-shim.c fixes it but needs a C compiler (apt-get install gcc libc6-dev)\n');
    }
    code = timedOut ? 124 : interrupted ? 130 : 70;
  }
  await flush(stderr);
  if (code === 0 && !process.env.IPVS_VM_KEEP) fs.rmSync(runDir, { recursive: true, force: true });
  else if (code !== 0 && statusText !== null) log(`run folder kept: ${runDir}`);
  return { code, where: 'vm', kernel: guestKernel, bootMs, memory: mem.mib };
}

/**
 * Run argv as root on a kernel with IPVS. Never throws for the command's own failure: the result
 * carries its exit status. Throws HarnessError when no such kernel can be found or started.
 */
export async function runAsRoot(argv, opts = {}) {
  if (argv.length === 0) throw new HarnessError('no command given');
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const log = opts.log ?? ((m) => (process.env.IPVS_VM_QUIET ? null : stderr.write(`[vm] ${m}\n`)));
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const timeoutS = Number(process.env.IPVS_VM_TIMEOUT ?? DEFAULT_TIMEOUT_S);
  const mode = opts.forceVm || process.env.IPVS_VM === '1' ? 'vm' : process.env.IPVS_VM === '0' ? 'host' : 'auto';
  if (mode !== 'vm') {
    const host = hostCanRunKernelTests();
    if (host.ok) {
      const code = await runOnHost(argv, { cwd, env, stdout, stderr });
      return { code, where: 'host', kernel: os.release(), bootMs: 0, memory: null };
    }
    if (mode === 'host') throw new HarnessError(`IPVS_VM=0 but this host cannot run kernel tests: ${host.why}`);
  }
  return runInVm(argv, { cwd, env, stdout, stderr, log, timeoutS });
}

async function main() {
  const args = process.argv.slice(2);
  let forceVm = false;
  while (args.length > 0 && args[0].startsWith('--')) {
    const a = args.shift();
    if (a === '--') break;
    if (a === '--vm') forceVm = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node scripts/vm/run.mjs [--vm] [--] <command...>\n');
      return 0;
    } else throw new HarnessError(`unknown option ${a} (put the command after --)`);
  }
  if (args.length === 0) throw new HarnessError('usage: node scripts/vm/run.mjs [--vm] [--] <command...>');
  const r = await runAsRoot(args, { forceVm });
  return r.code;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`run.mjs: ${err instanceof HarnessError ? err.message : err.stack}\n`);
      process.exit(err instanceof HarnessError ? 69 : 70);
    },
  );
}
