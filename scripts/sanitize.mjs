#!/usr/bin/env node
// `npm run test:sanitize`: the addon under the sanitizers.
//
//   node scripts/sanitize.mjs [--unit-only | --kernel-only] [-- <vitest args, e.g. file filters>]
//
// 1. Builds the addon twice into .vm/sanitize/ (never build/ nor prebuilds/, which other work
//    loads): with -fsanitize=address,undefined (asan.node) and with -fsanitize=undefined only
//    (ubsan.node), from a staging copy of binding.gyp and src-native/ with the flags added.
// 2. Runs the unit suite on this host with asan.node loaded instead of the shipped addon
//    (IPVS_ADDON, honoured by src/native.ts) and libasan preloaded (ASan's runtime must be the first
//    library of the process; node itself is not instrumented, so only the addon's memory accesses
//    are checked, and LeakSanitizer is off: node and V8 do not free everything at exit).
// 3. Runs the kernel suite (without package-install.test.ts, which loads the addon of an installed
//    tarball, not this one) where scripts/test.mjs would run it, normally the User-Mode Linux VM,
//    with ubsan.node. ASan cannot run there: its shadow memory needs a fixed range of the address
//    space that UML's own mappings occupy, so it stops at start-up ("Shadow memory range
//    interleaves with an existing memory mapping"). The script tries it first in the same boot and
//    prints what happened, so the claim stays checked.
//
// Sanitizer reports go to .vm/sanitize/logs/ (log_path); the last line says how many tests passed
// and failed and how many reports were written. Exits non-zero on any failure or report.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HarnessError, repoRoot, runAsRoot, which } from './vm/run.mjs';

const OUT = path.join(repoRoot, '.vm', 'sanitize');
const LOGS = path.join(OUT, 'logs');
const USAGE = 'usage: node scripts/sanitize.mjs [--unit-only | --kernel-only] [-- <vitest args>]';
const log = (m) => process.stderr.write(`sanitize: ${m}\n`);

function parseArgs(argv) {
  const o = { unit: true, kernel: true, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      o.extra = argv.slice(i + 1);
      break;
    }
    if (a === '--unit-only') o.kernel = false;
    else if (a === '--kernel-only') o.unit = false;
    else {
      process.stderr.write(`${a === '-h' || a === '--help' ? '' : `sanitize.mjs: unknown argument ${a}\n`}${USAGE}\n`);
      process.exit(a === '-h' || a === '--help' ? 0 : 2);
    }
  }
  return o;
}

/** node-gyp as scripts/prebuild.mjs finds it: npm's own, one on PATH, or the one next to this node. */
function nodeGyp() {
  const found = [
    process.env.npm_config_node_gyp,
    which('node-gyp'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ].find((c) => c && fs.existsSync(c));
  if (!found) throw new Error('node-gyp not found: run this through npm (npm run test:sanitize) or install node-gyp');
  return found;
}

/** Builds the addon with `-fsanitize=<what>` into .vm/sanitize/<name>.node. */
function build(name, what) {
  const t = Date.now();
  const out = path.join(OUT, `${name}.node`);
  const sources = [path.join(repoRoot, 'binding.gyp'), ...fs.readdirSync(path.join(repoRoot, 'src-native')).map((f) => path.join(repoRoot, 'src-native', f))];
  if (fs.existsSync(out) && sources.every((f) => fs.statSync(f).mtimeMs < fs.statSync(out).mtimeMs)) {
    log(`${path.relative(repoRoot, out)} is newer than the native sources; not rebuilt`);
    return out;
  }
  const dir = path.join(OUT, `${name}-src`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const gyp = JSON.parse(fs.readFileSync(path.join(repoRoot, 'binding.gyp'), 'utf8'));
  const flags = [`-fsanitize=${what}`, '-fno-omit-frame-pointer', '-g', '-O1'];
  for (const target of gyp.targets) {
    target.cflags = [...(target.cflags ?? []), ...flags];
    target.cflags_cc = [...(target.cflags_cc ?? []), ...flags];
    target.ldflags = [...(target.ldflags ?? []), `-fsanitize=${what}`];
  }
  fs.writeFileSync(path.join(dir, 'binding.gyp'), JSON.stringify(gyp, null, 2));
  fs.cpSync(path.join(repoRoot, 'src-native'), path.join(dir, 'src-native'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'ipvs-sanitize', private: true }));
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const env = { ...process.env };
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (!env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
  const r = spawnSync(process.execPath, [nodeGyp(), 'rebuild', '--loglevel=warn'], { cwd: dir, stdio: ['ignore', 2, 2], env });
  if (r.status !== 0) throw new Error(`node-gyp rebuild with -fsanitize=${what} failed (status ${r.status})`);
  fs.copyFileSync(path.join(dir, 'build', 'Release', 'ipvs_native.node'), out);
  fs.rmSync(dir, { recursive: true, force: true });
  log(`built ${path.relative(repoRoot, out)} with -fsanitize=${what} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return out;
}

function runtimeLib(name) {
  const p = execFileSync('g++', [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
  if (!path.isAbsolute(p) || !fs.existsSync(p)) throw new Error(`g++ does not know where ${name} is (got ${p})`);
  return fs.realpathSync(p);
}

/** Sanitizer reports written so far (files under LOGS whose name starts with `prefix`) and their first lines. */
function reports(prefix) {
  if (!fs.existsSync(LOGS)) return [];
  return fs.readdirSync(LOGS).filter((f) => f.startsWith(prefix)).map((f) => {
    const text = fs.readFileSync(path.join(LOGS, f), 'utf8');
    const first = text.split('\n').find((l) => /runtime error|ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY/.test(l)) ?? text.split('\n')[0];
    return `${f}: ${first}`;
  });
}

/** The counts test.mjs prints as its last line (`N passed, N failed`). */
function countsOf(output) {
  const m = /(\d+) passed, (\d+) failed\s*$/.exec(output.trim());
  return m ? { passed: Number(m[1]), failed: Number(m[2]) } : null;
}

/** Checks that a process with `env` loads the sanitized addon, not the shipped one. */
function preflight(env, addon) {
  const script = `const n = require(${JSON.stringify(path.join(repoRoot, 'dist', 'native.js'))}).native();
const s = n.open(0); n.close(s);
const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');
process.stdout.write(String(maps.includes(${JSON.stringify(addon)})));`;
  const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  if (r.status !== 0 || r.stdout !== 'true') {
    throw new Error(`the sanitized addon ${addon} did not load (status ${r.status}): ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // The whole kernel suite under UBSan on a busy two-core machine can outlast the harness's 20 minutes.
  process.env.IPVS_VM_TIMEOUT ??= String(45 * 60);
  const started = Date.now();
  fs.rmSync(LOGS, { recursive: true, force: true });
  fs.mkdirSync(LOGS, { recursive: true });
  // dist/ is what the CLI tests spawn; it must have the IPVS_ADDON override too
  const tsc = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: ['ignore', 2, 2] });
  if (tsc.status !== 0) throw new Error('tsc -p tsconfig.build.json failed');
  spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'esm-entry.mjs')], { cwd: repoRoot, stdio: ['ignore', 2, 2] });
  const asan = opts.unit || opts.kernel ? build('asan', 'address,undefined') : null;
  const ubsan = opts.kernel ? build('ubsan', 'undefined') : null;
  const summary = [];
  let failed = 0, passed = 0, found = 0;

  if (opts.unit) {
    const env = {
      ...process.env,
      IPVS_ADDON: asan,
      LD_PRELOAD: runtimeLib('libasan.so'),
      ASAN_OPTIONS: `detect_leaks=0:log_path=${path.join(LOGS, 'host-asan')}`,
      UBSAN_OPTIONS: `print_stacktrace=1:log_path=${path.join(LOGS, 'host-ubsan')}`,
    };
    preflight(env, asan);
    log(`unit suite on this host with ${path.relative(repoRoot, asan)} (LD_PRELOAD=${env.LD_PRELOAD})`);
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'test.mjs'), '--unit-only', '--', ...opts.extra], {
      cwd: repoRoot, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 << 20,
    });
    process.stdout.write(r.stdout ?? '');
    const c = countsOf(r.stdout ?? '');
    const rep = reports('host-');
    found += rep.length;
    if (!c) failed++;
    else {
      passed += c.passed;
      failed += c.failed;
    }
    summary.push(`unit suite, host, ASan+UBSan (${path.relative(repoRoot, asan)}): ${c ? `${c.passed} passed, ${c.failed} failed` : `no counts (status ${r.status})`}; ${rep.length} sanitizer reports`);
    for (const x of rep.slice(0, 20)) summary.push(`  ${x}`);
  }

  if (opts.kernel) {
    const report = path.join(OUT, 'kernel.json');
    fs.rmSync(report, { force: true });
    const probe = path.join(OUT, 'asan-probe.txt');
    const probeJs = `require(${JSON.stringify(path.join(repoRoot, 'dist', 'native.js'))}).native(); console.log('ASan loaded')`;
    const vitest = [
      process.execPath, path.join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'vitest.kernel.config.ts',
      '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, '--passWithNoTests',
      '--exclude', 'test/kernel/package-install.test.ts', ...opts.extra,
    ];
    // One boot: try ASan first (expected to fail under UML), then the suite with UBSan.
    const shell = `LD_PRELOAD='${runtimeLib('libasan.so')}' IPVS_ADDON='${asan}' ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS= `
      + `node -e "${probeJs.replace(/"/g, '\\"')}" > '${probe}' 2>&1; echo "exit status $?" >> '${probe}'; exec "$@"`;
    const env = {
      ...process.env,
      IPVS_ADDON: ubsan,
      UBSAN_OPTIONS: `print_stacktrace=1:log_path=${path.join(LOGS, 'vm-ubsan')}`,
    };
    log(`kernel suite with ${path.relative(repoRoot, ubsan)}`);
    let r;
    try {
      r = await runAsRoot(['sh', '-c', shell, 'sh', ...vitest], { cwd: repoRoot, env });
    } catch (err) {
      if (!(err instanceof HarnessError)) throw err;
      failed++;
      summary.push(`kernel suite: could not run: ${err.message}`);
    }
    if (r) {
      const where = r.where === 'host' ? `on this host (Linux ${r.kernel})` : `in the UML VM (Linux ${r.kernel})`;
      const probeText = fs.existsSync(probe) ? fs.readFileSync(probe, 'utf8') : '(no probe output)';
      const asanRan = /ASan loaded/.test(probeText);
      const shadow = /Shadow memory range interleaves|ASan cannot proceed|failed to allocate|ReserveShadowMemoryRange failed/i.exec(probeText);
      summary.push(`ASan ${where}: ${asanRan ? 'loaded and ran (unexpected under UML; it could be used there)' : `did not start: ${shadow ? shadow[0] : probeText.trim().split('\n').slice(-3).join(' | ')}`}`);
      let json = null;
      try {
        json = JSON.parse(fs.readFileSync(report, 'utf8'));
      } catch {}
      const rep = reports('vm-');
      found += rep.length;
      if (!json) {
        failed++;
        summary.push(`kernel suite ${where}, UBSan: vitest exited with status ${r.code} and wrote no report`);
      } else {
        passed += json.numPassedTests;
        failed += json.numFailedTests;
        if (r.code !== 0 && json.numFailedTests === 0) failed++;
        summary.push(`kernel suite ${where}, UBSan (${path.relative(repoRoot, ubsan)}): ${json.numPassedTests} passed, ${json.numFailedTests} failed, ${json.numTotalTestSuites ?? '?'} suites; ${rep.length} sanitizer reports`);
      }
      for (const x of rep.slice(0, 20)) summary.push(`  ${x}`);
    }
  }

  process.stdout.write(`\n${summary.join('\n')}\ntotal time ${((Date.now() - started) / 1000).toFixed(1)} s; reports in ${path.relative(repoRoot, LOGS)}/\n`);
  process.stdout.write(`${passed} passed, ${failed} failed, ${found} sanitizer reports\n`);
  process.exit(failed > 0 || found > 0 ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`sanitize.mjs: ${err.stack ?? err}\n`);
  process.exit(1);
});
