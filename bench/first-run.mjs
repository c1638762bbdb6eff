#!/usr/bin/env node
// One workload of the bench, once, in a new Node process: what a short-lived script or a daemon's
// first sync pays. bench/run.mjs starts it (one process per repetition) through its shell, so the
// bench's own process is not forked; `--cpu-prof` on the node command line profiles it.
//
//   node bench/first-run.mjs W1|W2|W6 N M NETNS_PATH
//   node bench/first-run.mjs L1 N M
//
// Prints one JSON line: startMs (Node's own start-up, process start to this script's first line),
// importMs (loading dist/ and the addon), openMs (openHandle plus the family or protocol lookup,
// which the warm rows also do before their clock starts), ms (the workload, timed as the warm row
// times it), faults (minor page faults during it: fresh memory, ~23 us each in the project's VM)
// and wholeMs (process start to the workload's end).
//
// L1 loads no library and needs no kernel: a bare loop over W1's input doing the least any
// JavaScript code must do per change (check the object's keys, parse the address text, check the
// port and weight, write a message's fields into a Buffer), run ten times in this process. It
// prints its first run as ms and the fastest of the last five as warmMs: how much slower a first
// run is than a warm one in this VM for code that JavaScript cannot avoid, whatever the library.
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

// inputs are built before the library loads, as a caller would have them (L1 takes W1's)
const services = [];
const entries = [];
if (workload === 'W1' || workload === 'L1') {
  for (let s = 0; s < n; s++) {
    const key = { protocol: 'tcp', address: vip(s), port: 80 };
    const dests = [];
    for (let d = 0; d < m; d++) dests.push({ address: rip(s, d), port: 8080, forwarding: 'masq', weight: 1 });
    services.push({ key, settings: { ...key, scheduler: 'rr' }, dests });
  }
} else if (workload === 'W6') {
  for (let s = 0; s < n; s++) for (let d = 0; d < m; d++) entries.push({ ip: rip(s, d), proto: 'tcp', port: 8080 });
} else if (workload !== 'W2' && workload !== 'L1') {
  throw new Error(`first-run: unknown workload ${workload} (W1, W2, W6 or L1)`);
}
if (workload === 'L1') {
  const times = [];
  for (let rep = 0; rep < 10; rep++) {
    const t0 = performance.now();
    bareLoop(services);
    times.push(performance.now() - t0);
  }
  process.stdout.write(`${JSON.stringify({ workload, startMs, ms: times[0], warmMs: Math.min(...times.slice(5)) })}\n`);
  process.exit(0);
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

/**
 * L1's loop: per service and destination, the checks and writes no implementation can skip. Its
 * address parser is its own on purpose (the library's parseIPv4 would mean loading the library).
 */
function bareLoop(inputs) {
  const SERVICE_KEYS = new Set(['protocol', 'address', 'port', 'scheduler']);
  const DEST_KEYS = new Set(['address', 'port', 'forwarding', 'weight']);
  const FORWARDING = new Map([['masq', 0], ['local', 1], ['tunnel', 2], ['route', 3], ['bypass', 4]]);
  let count = 0;
  for (const s of inputs) count += 1 + s.dests.length;
  const buf = Buffer.allocUnsafe(count * 64);
  let o = 0;
  const header = (type, len) => {
    buf.writeUInt32LE(len, o);
    buf.writeUInt16LE(type, o + 4);
    buf.writeUInt16LE(5, o + 6);
    buf.writeUInt32LE(count, o + 8);
    buf.writeUInt32LE(0, o + 12);
  };
  for (const { settings: sv, dests } of inputs) {
    for (const k in sv) if (!SERVICE_KEYS.has(k)) throw new TypeError(`unknown key ${k}`);
    if (sv.protocol !== 'tcp' && sv.protocol !== 'udp' && sv.protocol !== 'sctp') throw new TypeError('protocol');
    const a = ipv4(sv.address);
    if (a < 0 || !Number.isInteger(sv.port) || sv.port < 0 || sv.port > 65535) throw new TypeError('service key');
    header(1, 64);
    buf.writeUInt32BE(a, o + 20);
    buf.writeUInt16BE(sv.port, o + 28);
    buf.write(sv.scheduler, o + 32, 'latin1');
    o += 64;
    for (const d of dests) {
      for (const k in d) if (!DEST_KEYS.has(k)) throw new TypeError(`unknown key ${k}`);
      const da = ipv4(d.address);
      const fwd = FORWARDING.get(d.forwarding);
      if (da < 0 || !Number.isInteger(d.port) || d.port < 0 || d.port > 65535 || fwd === undefined || !Number.isInteger(d.weight)) {
        throw new TypeError('destination');
      }
      header(2, 64);
      buf.writeUInt32BE(a, o + 20);
      buf.writeUInt32BE(da, o + 32);
      buf.writeUInt16BE(d.port, o + 40);
      buf.writeUInt32LE(fwd, o + 44);
      buf.writeUInt32LE(d.weight, o + 52);
      o += 64;
    }
  }
  return buf;
}

/** A dotted quad's value, or -1. */
function ipv4(text) {
  let v = 0, part = 0, digits = 0, dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + part;
      part = digits = 0;
    } else if (c >= 48 && c <= 57 && ++digits <= 3) {
      part = part * 10 + c - 48;
      if (part > 255) return -1;
    } else return -1;
  }
  return dots === 3 && digits > 0 ? v * 256 + part : -1;
}
