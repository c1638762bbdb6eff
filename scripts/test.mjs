#!/usr/bin/env node
// `npm test`: the unit tests on this host, then the kernel tests on a kernel with IPVS: directly
// when this host is root and has IPVS, otherwise in one User-Mode Linux boot for the whole suite
// (scripts/vm/run.mjs). Kernel tests never skip silently.
//
//   node scripts/test.mjs [--unit-only | --kernel-only | --lint-only] [-- <vitest args, e.g. file filters>]
//
// The unit phase starts with ESLint over the repository (eslint.config.mjs; counted as one test,
// failed on any lint error) when no file filter is given, and ends with a short fixed-seed decoder fuzzing run (vitest.fuzz.config.ts) when no
// file filter is given. Prints a summary per suite and, as its last line, `N passed, N failed` (what CI reads).
// Exits non-zero if any test failed, a suite's vitest run failed, or the kernel suite could not run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packAndInstall } from './pack-install.mjs';
import { HarnessError, repoRoot, runAsRoot } from './vm/run.mjs';

const USAGE = 'usage: node scripts/test.mjs [--unit-only | --kernel-only | --lint-only] [-- <vitest args>]';

function parseArgs(argv) {
  const opts = { lint: true, unit: true, kernel: true, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      opts.extra = argv.slice(i + 1);
      break;
    }
    if (a === '--unit-only') opts.kernel = false;
    else if (a === '--kernel-only') opts.unit = false;
    else if (a === '--lint-only') opts.unit = opts.kernel = false;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else {
      process.stderr.write(`test.mjs: unknown argument ${a}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  if (argv.includes('--lint-only') && (argv.includes('--unit-only') || argv.includes('--kernel-only'))) {
    process.stderr.write('test.mjs: --lint-only goes alone\n');
    process.exit(2);
  }
  if (!opts.unit && !opts.kernel && !argv.includes('--lint-only')) {
    process.stderr.write('test.mjs: --unit-only and --kernel-only together select nothing\n');
    process.exit(2);
  }
  return opts;
}

function vitestBin() {
  const bin = path.join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
  if (!fs.existsSync(bin)) throw new HarnessError(`vitest is not installed (${bin} is missing): run npm install`);
  return bin;
}

// Results go under .vm/ (gitignored): the VM writes there through hostfs and we read them here.
function reportPath(suite) {
  const dir = path.join(repoRoot, '.vm', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${suite}.json`);
  fs.rmSync(file, { force: true });
  return file;
}

function vitestArgs(config, report, extra) {
  return [
    process.execPath, vitestBin(), 'run', '--config', config,
    '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, '--passWithNoTests',
    ...extra,
  ];
}

/** Counts from vitest's JSON report. A file that fails to load has no tests but counts as a failure. */
function readReport(file) {
  let json;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  const brokenFiles = (json.testResults ?? []).filter(
    (f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0,
  );
  return {
    files: (json.testResults ?? []).length,
    passed: json.numPassedTests ?? 0,
    failed: (json.numFailedTests ?? 0) + brokenFiles.length,
    skipped: (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0),
    brokenFiles: brokenFiles.map((f) => path.relative(repoRoot, f.name)),
  };
}

function runUnit(extra, config = 'vitest.unit.config.ts', suite = 'unit') {
  const report = reportPath(suite);
  const [cmd, ...args] = vitestArgs(config, report, extra);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, sig) => resolve({ code: code ?? 128 + (os.constants.signals[sig] ?? 0), counts: readReport(report) }));
  });
}

function addonStatus() {
  const built = path.join(repoRoot, 'build', 'Release', 'ipvs_native.node');
  if (fs.existsSync(built)) return null;
  const prebuilds = path.join(repoRoot, 'prebuilds', `${process.platform}-${process.arch}`);
  if (fs.existsSync(prebuilds) && fs.readdirSync(prebuilds).some((f) => f.endsWith('.node'))) return null;
  return (
    `the native addon is not built (no ${path.relative(repoRoot, built)} and no ` +
    `${path.relative(repoRoot, prebuilds)}/*.node): run \`npm run build\`. Kernel tests that load it will fail.`
  );
}

/**
 * `prebuild --all` and the platform test's runtimes, started in the background before the kernel
 * suite, on the first CPU: the VM is pinned to the last one (scripts/vm/run.mjs), so on a two-core
 * machine the other is mostly idle meanwhile. Resolves to { code, log, ms }.
 */
function startPlatformBuild() {
  const started = Date.now();
  const script = `${JSON.stringify(process.execPath)} scripts/prebuild.mjs --all && ${JSON.stringify(process.execPath)} scripts/test-runtimes.mjs`;
  const pin = os.availableParallelism() > 1 && fs.existsSync('/usr/bin/taskset') ? ['taskset', '-c', '0'] : [];
  const [cmd, ...args] = [...pin, 'sh', '-c', script];
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (b) => (log += b));
    child.stderr.on('data', (b) => (log += b));
    child.on('error', (err) => resolve({ code: 1, log: `${log}${err.message}\n`, ms: Date.now() - started }));
    child.on('close', (code) => resolve({ code: code ?? 1, log, ms: Date.now() - started }));
  });
}

/** ESLint over the repository, as `npm run lint` runs it (same cache); its report printed here. */
async function runLint() {
  const t = Date.now();
  const { ESLint } = await import('eslint');
  const eslint = new ESLint({ cwd: repoRoot, cache: true, cacheLocation: path.join(repoRoot, '.vm', 'eslintcache') });
  const results = await eslint.lintFiles(['.']);
  const formatter = await eslint.loadFormatter('stylish');
  const text = await formatter.format(results);
  if (text) process.stdout.write(text);
  const count = (k) => results.reduce((n, r) => n + r[k], 0);
  return { files: results.length, errors: count('errorCount'), warnings: count('warningCount'), seconds: (Date.now() - t) / 1000 };
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const fmtCounts = (c) => `${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}`;

/**
 * A vitest step of its own on this host (the short fuzzing run, the platform test): its counts
 * and summary line. A step that ran nothing, or whose vitest failed outside its tests, is a failure.
 */
async function runStep(label, config, suite, filter, note) {
  const r = await runUnit(filter, config, suite);
  if (!r.counts || r.counts.files === 0) return { passed: 0, failed: 1, line: `${label}: vitest exited with status ${r.code} and ran nothing` };
  const outside = r.code !== 0 && r.counts.failed === 0 ? 1 : 0;
  return { passed: r.counts.passed, failed: r.counts.failed + outside, line: `${label}: ${fmtCounts(r.counts)} (${note})` };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const summary = [];
  let passed = 0;
  let failed = 0;

  if (opts.lint && (opts.unit || !opts.kernel) && opts.extra.length === 0) {
    process.stdout.write('\n== lint (eslint, this host) ==\n');
    try {
      const l = await runLint();
      if (l.errors > 0) failed += 1;
      else passed += 1;
      summary.push(`lint: ${plural(l.files, 'file')}, ${plural(l.errors, 'error')}, ${plural(l.warnings, 'warning')} (eslint, ${l.seconds.toFixed(1)} s; npm run lint)`);
    } catch (err) {
      failed += 1;
      summary.push(`lint: eslint could not run: ${err.message}`);
    }
  }

  if (opts.unit) {
    process.stdout.write('\n== unit tests (this host) ==\n');
    const r = await runUnit(opts.extra);
    const c = r.counts;
    if (!c) {
      failed += 1;
      summary.push(`unit tests: vitest exited with status ${r.code} and wrote no report`);
    } else {
      passed += c.passed;
      failed += c.failed;
      let line = `unit tests: ${fmtCounts(c)}`;
      if (c.files === 0) line = `unit tests: no test files found (${opts.extra.length ? 'none matched the filter' : 'test/unit/**/*.test.ts'}); nothing ran`;
      if (c.brokenFiles.length) line += `; failed to load: ${c.brokenFiles.join(', ')}`;
      if (r.code !== 0 && c.failed === 0) {
        failed += 1;
        line += `; vitest exited with status ${r.code} (errors outside tests, see above)`;
      }
      summary.push(line);
    }
    // The short fixed-seed decoder fuzzing run (test/fuzz/short.test.ts), on its own so that its CPU
    // does not slow the unit files running in parallel. Part of every unfiltered run.
    if (opts.extra.length === 0) {
      process.stdout.write('\n== decoder fuzzing, short fixed-seed run (this host) ==\n');
      const f = await runStep('decoder fuzzing', 'vitest.fuzz.config.ts', 'fuzz', [], 'npm run fuzz for the long run');
      passed += f.passed;
      failed += f.failed;
      summary.push(f.line);
    }
  }

  // test/kernel/package-install.test.ts installs the packed tarball: pack and install it here on
  // the host, where it takes seconds (in the guest of a loaded machine it took minutes).
  if (opts.kernel && (opts.extra.length === 0 || opts.extra.some((a) => a.includes('package-install')))) {
    const t = Date.now();
    try {
      const p = packAndInstall();
      process.stdout.write(`packed ${path.basename(p.tarball)} (${(p.size / 1024).toFixed(0)} KiB) and installed it on the host in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      process.stderr.write(`test.mjs: packing or installing the tarball failed (package-install.test.ts will say more): ${err.message}\n`);
    }
  }
  // The platform test needs every prebuild: build them while the kernel suite runs (after the
  // packing above, so that the tarball the kernel suite installs is not made while they change).
  const platforms = opts.unit && (opts.extra.length === 0 || opts.extra.some((a) => a.includes('package-platforms')));
  const platformBuild = platforms ? startPlatformBuild() : null;

  if (opts.kernel) {
    process.stdout.write('\n== kernel tests (root, kernel with IPVS) ==\n');
    const addon = addonStatus();
    if (addon) process.stderr.write(`test.mjs: warning: ${addon}\n`);
    const report = reportPath('kernel');
    try {
      const r = await runAsRoot(vitestArgs('vitest.kernel.config.ts', report, opts.extra), { cwd: repoRoot });
      const where = r.where === 'host' ? `ran directly on this host (Linux ${r.kernel})` : `ran in UML VM (Linux ${r.kernel})`;
      const c = readReport(report);
      if (!c) {
        failed += 1;
        summary.push(`kernel tests: vitest exited with status ${r.code} and wrote no report; ${where}`);
      } else if (c.files === 0 && opts.extra.length === 0) {
        failed += 1;
        summary.push(`kernel tests: no test files found under test/kernel/; ${where}`);
      } else {
        passed += c.passed;
        failed += c.failed;
        let line = `kernel tests: ${fmtCounts(c)}, ${where}`;
        if (c.files === 0) line = `kernel tests: no file matched the filter; ${where}`;
        if (r.bootMs) line += `, booted in ${(r.bootMs / 1000).toFixed(1)} s`;
        if (c.brokenFiles.length) line += `; failed to load: ${c.brokenFiles.join(', ')}`;
        if (r.code !== 0 && c.failed === 0) {
          failed += 1;
          line += `; vitest exited with status ${r.code} (errors outside tests, see above)`;
        }
        summary.push(line);
      }
    } catch (err) {
      if (!(err instanceof HarnessError)) throw err;
      failed += 1;
      summary.push(`kernel tests: could not run: ${err.message}`);
    }
  }

  if (platformBuild) {
    process.stdout.write('\n== the package on every platform it ships for (this host) ==\n');
    const b = await platformBuild;
    process.stdout.write(`prebuilds and runtimes ready (${(b.ms / 1000).toFixed(1)} s in the background)${b.code === 0 ? '' : `; that step failed:\n${b.log.slice(-3000)}`}\n`);
    const filter = opts.extra.filter((a) => a.includes('package-platforms'));
    const r = await runStep('platform tests', 'vitest.platform.config.ts', 'platforms', filter, `prebuilds built in ${(b.ms / 1000).toFixed(0)} s beside the kernel suite`);
    passed += r.passed;
    failed += r.failed;
    summary.push(r.line);
  }

  if (!opts.kernel && opts.unit) {
    summary.push(
      'kernel tests: skipped (--unit-only). They need root and a kernel with IPVS and dummy links, ' +
        "or Debian's user-mode-linux package to boot one; `npm run test:kernel` runs them.",
    );
  }

  process.stdout.write(`\n${summary.join('\n')}\n`);
  process.stdout.write(`total time ${((Date.now() - started) / 1000).toFixed(1)} s, ${plural(passed + failed, 'test')} counted\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`test.mjs: ${err instanceof HarnessError ? err.message : err.stack}\n`);
    process.stdout.write('0 passed, 1 failed\n');
    process.exitCode = 1;
  },
);
