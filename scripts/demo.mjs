#!/usr/bin/env node
// `npm run demo`: the proxy example (examples/proxy) carrying real traffic, narrated: services,
// how requests spread, what happens when the config changes or something breaks behind its back.
// Runs as root on a kernel with IPVS: directly on such a host, otherwise in the project's
// User-Mode Linux VM (scripts/vm/run.mjs), which boots in a few seconds.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { HarnessError, runAsRoot } from './vm/run.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// tsx (a devDependency) runs the example's TypeScript as it is.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const argv = [process.execPath, '--import', tsx, path.join(repo, 'examples', 'proxy', 'demo.ts')];

try {
  const r = await runAsRoot(argv, { cwd: repo });
  if (r.where === 'vm') process.stderr.write(`[demo] ran in the VM (Linux ${r.kernel}), booted in ${((r.bootMs ?? 0) / 1000).toFixed(1)} s\n`);
  process.exitCode = r.code;
} catch (e) {
  process.stderr.write(`demo: ${e instanceof HarnessError ? e.message : e.stack}\n`);
  process.exitCode = 1;
}
