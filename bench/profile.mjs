#!/usr/bin/env node
// A developer's tool: runs one library workload of the bench under V8's CPU profiler, as root on a
// kernel with IPVS, and prints where the JavaScript time goes (self time per function) with the
// wall time of each repetition. Not part of `npm run bench`; for finding what to make faster.
//
//   node scripts/vm/run.mjs -- node --expose-gc bench/profile.mjs W1 [N] [M] [reps]
//   (IPVS_DIST=dir: the compiled library to load instead of dist/)
//
// Workloads: W1 (create), W2 (snapshot), W3 (edit weights), W4 (delete services),
// W5 (addresses add/list/delete), W6 (hash:ip,port add/list/destroy), W7 (reconcile 1% change).
import { execFileSync, spawnSync } from 'node:child_process';
import inspector from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lib = createRequire(import.meta.url)(path.join(process.env.IPVS_DIST ?? path.join(root, 'dist'), 'index.js'));
const [workload = 'W1', N = '5000', M = '10', REPS = '5'] = process.argv.slice(2);
const n = Number(N), m = Number(M), reps = Number(REPS);

const vip = (s) => `10.96.${(s >> 8) & 255}.${s & 255}`;
const rip = (s, d) => {
  const k = s * m + d + 1;
  return `172.${16 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
};
const input = Array.from({ length: n }, (_, s) => {
  const key = { protocol: 'tcp', address: vip(s), port: 80 };
  return { key, settings: { ...key, scheduler: 'rr' }, dests: Array.from({ length: m }, (_, d) => ({ address: rip(s, d), port: 8080, forwarding: 'masq', weight: 1 })) };
});

// All namespaces are made before the first repetition and deleted after the last: a spawnSync
// forks this process, and after a fork the first write to each page costs a copy-on-write fault
// (~25 us in the guest), which the next repetition would pay (as bench/run.mjs's Shell explains).
// Each is emptied through the library when its repetition ends, which does not fork.
const NS_PREFIX = `prof-${process.pid}-`;
function makeNamespaces(count) {
  const names = Array.from({ length: count }, (_, k) => `${NS_PREFIX}${k}`);
  execFileSync('sh', ['-c', names.map((x) => `ip netns add ${x} && ip -n ${x} link set lo up`).join(' && ')]);
  return names.map((name) => ({ name, path: `/run/netns/${name}` }));
}
function deleteNamespaces(list) {
  spawnSync('sh', ['-c', list.map((x) => `ip netns del ${x.name}`).join('; ')]);
}
async function empty(h) {
  await h.ipvs.flush();
  await h.ipset.destroyAll();
  await h.links.delete('kube-ipvs0').catch(() => undefined);
}
function must(r) {
  if (!r.ok) throw new Error(`${r.firstError?.message} (applied ${r.applied}, failed ${r.failed})`);
}
const queued = [];
const phases = [];
async function create(h) {
  const t0 = performance.now();
  const b = h.batch();
  for (const s of input) {
    b.ipvs.addService(s.settings);
    for (const d of s.dests) b.ipvs.addDestination(s.key, d);
  }
  queued.push(performance.now() - t0);
  must(await b.commit());
}

/** Sets up the state a workload starts from (not timed), then returns the timed part. */
const WORKLOADS = {
  W1: async () => (h) => create(h),
  W2: async (h) => { await create(h); return (h2) => h2.snapshot({ ipvs: {} }); },
  W3: async (h) => {
    await create(h);
    return async (h2) => {
      const b = h2.batch();
      for (const s of input) for (const d of s.dests) b.ipvs.editDestination(s.key, { ...d, weight: 2 });
      must(await b.commit());
    };
  },
  W4: async (h) => {
    await create(h);
    return async (h2) => {
      const b = h2.batch();
      for (const s of input) b.ipvs.deleteService(s.key);
      must(await b.commit());
    };
  },
  W5: async (h) => {
    await h.links.ensureDummy('kube-ipvs0');
    const cidrs = input.map((s) => `${s.key.address}/32`);
    return async (h2) => {
      const t0 = performance.now();
      const b = h2.batch();
      for (const c of cidrs) b.addresses.add('kube-ipvs0', c);
      must(await b.commit());
      const t1 = performance.now();
      const list = await h2.addresses.list('kube-ipvs0', { family: 'inet' });
      if (list.length !== n) throw new Error(`W5 listed ${list.length}`);
      const t2 = performance.now();
      const d = h2.batch();
      for (const c of cidrs) d.addresses.delete('kube-ipvs0', c);
      must(await d.commit());
      phases.push(`add ${(t1 - t0).toFixed(0)} list ${(t2 - t1).toFixed(0)} delete ${(performance.now() - t2).toFixed(0)}`);
    };
  },
  W6: async (h) => {
    await h.ipset.protocol();
    const entries = input.flatMap((s) => s.dests.map((d) => ({ ip: d.address, proto: 'tcp', port: d.port })));
    return async (h2) => {
      const t0 = performance.now();
      const b = h2.batch();
      b.ipset.create('KUBE-TEST', 'hash:ip,port');
      b.ipset.add('KUBE-TEST', entries);
      must(await b.commit());
      const t1 = performance.now();
      const set = await h2.ipset.list('KUBE-TEST');
      const t2 = performance.now();
      if (set.entries.length !== n * m) throw new Error(`W6 listed ${set.entries.length}`);
      await h2.ipset.destroy('KUBE-TEST');
      phases.push(`add ${(t1 - t0).toFixed(0)} list ${(t2 - t1).toFixed(0)} destroy ${(performance.now() - t2).toFixed(0)}`);
    };
  },
  W7: async (h) => {
    await create(h);
    const snap = await h.snapshot({ ipvs: {} });
    const desired = input.map((s, i) => ({
      ...s.settings,
      destinations: s.dests.map((d, j) => (i % 10 === 0 && j === 0 ? { ...d, weight: 5 } : d)),
    }));
    return (h2) => h2.reconcile({ ipvs: desired }, { current: snap });
  },
};

/** A profile's call frame as `name file:line`. */
const frameName = (f) => `${f.functionName || '(anon)'} ${path.relative(root, f.url.replace('file://', '')) || f.url}:${f.lineNumber + 1}`;

const session = new inspector.Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: Number(process.env.PROF_INTERVAL_US ?? 1000) });
// PROF=0: timing only; PROF=alloc: sampled allocations (bytes per allocating function) instead of CPU time
const PROFILE = process.env.PROF !== '0';
const ALLOC = process.env.PROF === 'alloc';
if (ALLOC) await session.post('HeapProfiler.enable');
const allocs = new Map();
const allocPaths = new Map();
const walls = [];
// GC pauses during the timed part, per repetition: { ms, major }
let gcNow = null;
const gcs = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (!gcNow) continue;
    gcNow.ms += e.duration;
    if (e.detail?.kind !== 1) gcNow.major++; // 1: minor (scavenge)
  }
}).observe({ entryTypes: ['gc'] });
const profiles = [];
const namespaces = makeNamespaces(reps + 1);
for (let r = 0; r <= reps; r++) {
  const ns = namespaces[r];
  const h = lib.openHandle({ netns: ns.path });
  try {
    await h.ipvs.family();
    const run = await WORKLOADS[workload](h, ns);
    globalThis.gc?.({ type: 'minor' }); // as bench/run.mjs: a full GC would shrink the heap the timed part then faults in again
    // repetition 0 warms up; only the timed part is profiled
    if (r > 0 && PROFILE) await session.post(ALLOC ? 'HeapProfiler.startSampling' : 'Profiler.start', ALLOC ? { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } : {});
    gcNow = { ms: 0, major: 0 };
    const faults0 = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    await run(h);
    const wall = performance.now() - t0;
    const faults = process.resourceUsage().minorPageFault - faults0;
    await new Promise((res) => setImmediate(res)); // GC entries are delivered asynchronously
    if (r > 0) {
      walls.push(wall);
      gcs.push(`${wall.toFixed(0)}:${gcNow.ms.toFixed(0)}${gcNow.major ? `(${gcNow.major} major)` : ''}:${faults}`);
    }
    gcNow = null;
    if (r > 0 && ALLOC) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      const want = new Set((process.env.PROF_STACKS ?? '').split(','));
      const walk = (node, path) => {
        const k = frameName(node.callFrame);
        allocs.set(k, (allocs.get(k) ?? 0) + node.selfSize);
        const here = [node.callFrame.functionName || '(anon)', ...path];
        // with PROF_STACKS: the call paths that allocate in the named functions
        if (node.selfSize > 0 && want.has(here[0])) {
          const p = here.slice(0, 8).join(' < ');
          allocPaths.set(p, (allocPaths.get(p) ?? 0) + node.selfSize);
        }
        for (const c of node.children) walk(c, here);
      };
      walk(profile.head, []);
    } else if (r > 0 && PROFILE) profiles.push((await session.post('Profiler.stop')).profile);
  } finally {
    await empty(h).catch(() => undefined);
    h.close();
  }
}
deleteNamespaces(namespaces);
walls.sort((a, b) => a - b);
console.log(`${workload} ${n}x${m}: wall ms per rep ${walls.map((w) => w.toFixed(0)).join(' ')} (median ${walls[walls.length >> 1].toFixed(0)})`);
if (workload === 'W1') console.log(`queueing ms per rep: ${queued.map((w) => w.toFixed(0)).join(' ')}`);
console.log(`wall:gc ms:page faults per rep ${gcs.join(' ')}`);
if (phases.length) console.log(phases.join('; '));
if (!PROFILE) process.exit(0);
if (ALLOC) {
  const total = [...allocs.values()].reduce((a, b) => a + b, 0);
  console.log(`sampled allocations ${(total / reps / 1048576).toFixed(1)} MB/rep; by allocating function, top 30:`);
  for (const [k, b] of [...allocs].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${(b / reps / 1024).toFixed(0).padStart(8)} KB/rep  ${(100 * b / total).toFixed(1).padStart(5)}%  ${k}`);
  }
  for (const [k, b] of [...allocPaths].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${(b / reps / 1024).toFixed(0).padStart(8)} KB/rep  ${k}`);
  process.exit(0);
}
const self = new Map();
let total = 0;
for (const profile of profiles) {
  const dt = profile.timeDeltas;
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  profile.samples.forEach((id, i) => {
    const k = frameName(byId.get(id).callFrame);
    self.set(k, (self.get(k) ?? 0) + (dt[i] ?? 0));
    total += dt[i] ?? 0;
  });
}
if (process.env.PROF_STACKS) {
  // the call paths of the named functions' samples (PROF_STACKS=dispatch,receive)
  const want = new Set(process.env.PROF_STACKS.split(','));
  const paths = new Map();
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((x) => [x.id, x]));
    const parent = new Map();
    for (const x of profile.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
    profile.samples.forEach((id, i) => {
      if (!want.has(byId.get(id).callFrame.functionName)) return;
      const names = [];
      for (let at = id; at !== undefined; at = parent.get(at)) names.push(byId.get(at).callFrame.functionName || '(anon)');
      const k = names.slice(0, 8).join(' < ');
      paths.set(k, (paths.get(k) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
  }
  for (const [k, us] of [...paths].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`${(us / 1000 / reps).toFixed(1).padStart(8)} ms/rep  ${k}`);
}
console.log(`profiled ${(total / 1000).toFixed(0)} ms over ${reps} reps; self time, top 30:`);
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  console.log(`${(us / 1000 / reps).toFixed(1).padStart(8)} ms/rep  ${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`);
}
