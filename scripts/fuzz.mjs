#!/usr/bin/env node
// `npm run fuzz`: the decoder fuzzer (test/fuzz/engine.mjs) over the compiled library in dist/
// (npm run fuzz builds it first). Every decoder a kernel reply reaches gets random bytes, random
// well-framed messages and mutations of the golden captures; anything but a DecodeError (or the
// NetlinkError of a refusal or an empty reply) is reported with its input in hex and the seed to replay it.
//
//   node scripts/fuzz.mjs [--seed N] [--inputs N] [--replay I] [--slow-ms N]
//
// Defaults: seed 1, 1,000,000 inputs. Exits 1 when an input threw an untyped exception or stayed
// over --slow-ms (default 100) on three re-runs.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODULES, formatReport, runFuzz } from '../test/fuzz/engine.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function parseArgs(argv) {
  const o = { seed: 1, inputs: 1_000_000, replay: undefined, slowMs: 100 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a} needs a non-negative integer`);
      return n;
    };
    if (a === '--seed') o.seed = v();
    else if (a === '--inputs') o.inputs = v();
    else if (a === '--replay') o.replay = v();
    else if (a === '--slow-ms') o.slowMs = v();
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node scripts/fuzz.mjs [--seed N] [--inputs N] [--replay I] [--slow-ms N]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const lib = {};
for (const [key, p] of Object.entries(MODULES)) lib[key] = require(path.join(root, 'dist', `${p}.js`));
const res = await runFuzz({
  lib, corpusDir: path.join(root, 'test', 'golden'), seed: opts.seed, inputs: opts.inputs, replay: opts.replay, slowMs: opts.slowMs,
  onProgress: (n, r) => process.stderr.write(`fuzz: ${n} inputs, ${r.untypedCount} untyped, slowest ${r.slowest.ms.toFixed(1)} ms\n`),
});
process.stdout.write(`${formatReport(res, opts.slowMs)}\n`);
process.exitCode = res.untypedCount > 0 || res.slow.length > 0 ? 1 : 0;
