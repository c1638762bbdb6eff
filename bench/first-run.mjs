#!/usr/bin/env node
// One workload of the bench, once, in a new Node process: what a short-lived script or a daemon's
// first sync pays. bench/run.mjs starts it (one process per repetition) through its shell, so the
// bench's own process is not forked; `--cpu-prof` on the node command line profiles it.
//
//   node bench/first-run.mjs W1|W2|W6 N M NETNS_PATH
//
// Prints one JSON line: startMs (Node's own start-up, process start to this script's first line),
// importMs (loading dist/ and the addon), openMs (openHandle plus the family or protocol lookup,
// which the warm rows also do before their clock starts), ms (the workload, timed as the warm row
// times it), faults (minor page faults during it: fresh memory, ~23 us each in the project's VM)
// and wholeMs (process start to the workload's end).
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const startMs = performance.now(); // milliseconds since the process started (timeOrigin)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [workload, N, M, nsPath] = process.argv.slice(2);
const n = Number(N), m = Number(M);

// the addresses of bench/run.mjs and bench/floor/floor.c
const vip = (s) => `10.96.${(s >> 8) & 255}.${s & 255}`;
const rip = (s, d) => {
  const k = s * m + d + 1;
  return `172.${16 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
};
function must(r, what) {
  if (!r.ok) throw new Error(`${what}: ${r.firstError?.message ?? 'failed'} (applied ${r.applied}, failed ${r.failed})`);
}

// inputs are built before the library loads, as a caller would have them
const services = [];
const entries = [];
if (workload === 'W1') {
  for (let s = 0; s < n; s++) {
    const key = { protocol: 'tcp', address: vip(s), port: 80 };
    const dests = [];
    for (let d = 0; d < m; d++) dests.push({ address: rip(s, d), port: 8080, forwarding: 'masq', weight: 1 });
    services.push({ key, settings: { ...key, scheduler: 'rr' }, dests });
  }
} else if (workload === 'W6') {
  for (let s = 0; s < n; s++) for (let d = 0; d < m; d++) entries.push({ ip: rip(s, d), proto: 'tcp', port: 8080 });
} else if (workload !== 'W2') {
  throw new Error(`first-run: unknown workload ${workload} (W1, W2 or W6)`);
}

const t0 = performance.now();
const lib = createRequire(import.meta.url)(path.join(root, 'dist', 'index.js'));
const t1 = performance.now();
const h = lib.openHandle({ netns: nsPath });
const out = { workload, startMs, importMs: t1 - t0 };
try {
  if (workload === 'W6') await h.ipset.protocol();
  else await h.ipvs.family();
  const t2 = performance.now();
  out.openMs = t2 - t1;
  const f0 = process.resourceUsage().minorPageFault;
  if (workload === 'W1') {
    const b = h.batch();
    for (const s of services) {
      b.ipvs.addService(s.settings);
      for (const d of s.dests) b.ipvs.addDestination(s.key, d);
    }
    must(await b.commit(), 'W1');
  } else if (workload === 'W2') {
    const snap = await h.snapshot({ ipvs: {} });
    const dests = snap.ipvs.reduce((a, s) => a + s.destinations.length, 0);
    if (snap.ipvs.length !== n || dests !== n * m) throw new Error(`W2: read ${snap.ipvs.length} services, ${dests} destinations`);
  } else {
    const b = h.batch();
    b.ipset.create('KUBE-BENCH', 'hash:ip,port');
    b.ipset.add('KUBE-BENCH', entries);
    must(await b.commit(), 'W6 create/add');
    const set = await h.ipset.list('KUBE-BENCH');
    if (set.entries.length !== n * m) throw new Error(`W6 listed ${set.entries.length}`);
    await h.ipset.destroy('KUBE-BENCH');
  }
  const t3 = performance.now();
  out.ms = t3 - t2;
  out.faults = process.resourceUsage().minorPageFault - f0;
  out.wholeMs = t3;
} finally {
  h.close();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
