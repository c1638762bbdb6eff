#!/usr/bin/env node
// `npm run bench`, host side: builds the library (dist/), notes this machine's CPU (inside the VM
// /proc/cpuinfo describes the guest), then runs bench/run.mjs as root on a kernel with IPVS (the
// project's VM, or this host when it qualifies) in one boot.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

process.stderr.write('bench: building dist/ (npm run build:ts)\n');
run('npm', ['run', '--silent', 'build:ts']);
const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
const env = {
  ...process.env,
  IPVS_BENCH_HOST_CPU: `${cpu} (${os.cpus().length} cores)`,
  IPVS_BENCH_HOST_KERNEL: os.release(),
  IPVS_VM_TIMEOUT: process.env.IPVS_VM_TIMEOUT ?? '3000',
};
fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
run(process.execPath, [path.join(root, 'scripts', 'vm', 'run.mjs'), '--', process.execPath, '--expose-gc', path.join(root, 'bench', 'run.mjs'), ...process.argv.slice(2)], { env });
