// The decoder fuzzer: every decoder a kernel reply reaches, fed random bytes, random well-framed
// messages and mutations of the golden captures (test/golden/*.hex). Malformed bytes may only
// ever produce a DecodeError, or a NetlinkError (the refusal an error reply carries, or the EPROTO
// a decoder throws for a reply that says nothing); anything else is an untyped exception and is reported with its input in hex.
//
// Plain JavaScript over a `lib` of the library's modules, so that one engine serves both
// `npm run fuzz` (scripts/fuzz.mjs: the compiled dist/) and the short fixed-seed run in the unit
// suite (test/unit/fuzz.test.ts: the TypeScript sources). Seeded: input `i` of seed `s` is made
// from a generator seeded with (s, i) alone, so `--seed s --replay i` makes the same bytes again.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** The modules the engine uses, by the key it reads them under (paths below src/ or dist/). */
export const MODULES = {
  header: 'netlink/header', errors: 'netlink/errors', dump: 'netlink/dump', protocol: 'netlink/protocol',
  message: 'netlink/message', attr: 'netlink/attr', genl: 'netlink/genl',
  schemaCtrl: 'schema/genl-ctrl', schemaIpset: 'schema/ipset', schemaIpvs: 'schema/ipvs',
  schemaAddr: 'schema/rtnl-addr', schemaLink: 'schema/rtnl-link',
  ipvsDecode: 'snapshot/ipvs-decode', ipvsOps: 'ipvs/ops', ipsetDecode: 'ipset/list-decode', ipsetOps: 'ipset/ops',
  linkOps: 'link/ops', addrOps: 'address/ops', addrDecode: 'address/list-decode',
};

/** mulberry32: a small deterministic generator of u32s (test/unit/random.ts makes floats of it). */
export function rng32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The generator of input `i` of seed `seed` (splitmix-style mix of the two). */
function inputRng(seed, i) {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  const next = rng32(h ^ (h >>> 16));
  const r = {
    u32: next,
    int: (n) => (n <= 0 ? 0 : next() % n),
    chance: (p) => next() / 4294967296 < p,
    pick: (arr) => arr[next() % arr.length],
  };
  return r;
}

/** The golden captures: each file's datagrams (`>` requests, `<` replies) as Buffers. */
export function loadCorpus(dir) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.hex')).sort();
  const out = [];
  for (const f of files) {
    const requests = [];
    const replies = [];
    let block = null;
    const flush = () => {
      if (block && block.hex) (block.dir === '>' ? requests : replies).push(Buffer.from(block.hex, 'hex'));
      block = null;
    };
    for (const raw of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const line = raw.trim();
      if (line === '') continue;
      const m = /^# message \d+: (request|reply)/.exec(line);
      if (m) {
        flush();
        block = { dir: m[1] === 'request' ? '>' : '<', hex: '' };
      } else if (line.startsWith('#')) {
        continue;
      } else if (line[0] === '>' || line[0] === '<') {
        flush();
        (line[0] === '>' ? requests : replies).push(Buffer.from(line.slice(1).replace(/\s+/g, ''), 'hex'));
      } else if (block) {
        block.hex += line.replace(/\s+/g, '');
      }
    }
    flush();
    const kind = f.startsWith('ipvs-') ? 'ipvs' : f.startsWith('ipset-') ? 'ipset' : f.startsWith('rtnl-link') ? 'link' : 'addr';
    out.push({ file: f, kind, requests, replies, dump: Buffer.concat(replies) });
  }
  return out;
}

// ---- structure-aware helpers ----

/** Offsets of every nlmsg_len and of every plausible nla_len (found by walking payloads as attributes). */
function lengthFields(buf) {
  const msgs = [];
  const attrs = [];
  for (let off = 0; off + 16 <= buf.length;) {
    const len = buf.readUInt32LE(off);
    msgs.push(off);
    if (len < 16 || off + len > buf.length) break;
    for (const fixed of [4, 8, 16]) walkAttrs(buf, off + 16 + fixed, off + len, attrs, 0);
    off += (len + 3) & ~3;
  }
  return { msgs, attrs };
}

function walkAttrs(buf, start, end, out, depth) {
  if (depth > 4) return;
  for (let a = start; a + 4 <= end;) {
    const len = buf.readUInt16LE(a);
    if (len < 4 || a + len > end) return;
    out.push(a);
    if (len >= 8) walkAttrs(buf, a + 4, a + len, out, depth + 1);
    a += (len + 3) & ~3;
  }
}

const INTERESTING32 = [0, 1, 3, 4, 7, 8, 15, 16, 17, 19, 20, 24, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];
const INTERESTING16 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 20, 0x7fff, 0x8000, 0xfffc, 0xffff];

/** One mutation of `buf` (a new Buffer). */
function mutate(r, buf, corpus) {
  const b = Buffer.from(buf);
  switch (r.int(9)) {
    case 0: { // flip 1-8 bits
      if (b.length === 0) return b;
      for (let n = 1 + r.int(8); n > 0; n--) b[r.int(b.length)] ^= 1 << r.int(8);
      return b;
    }
    case 1: { // set bytes to interesting values
      if (b.length === 0) return b;
      for (let n = 1 + r.int(4); n > 0; n--) b[r.int(b.length)] = r.pick([0, 1, 0x7f, 0x80, 0xfe, 0xff, r.int(256)]);
      return b;
    }
    case 2: // truncate
      return b.subarray(0, r.int(b.length + 1));
    case 3: { // corrupt an nlmsg_len
      const { msgs } = lengthFields(b);
      if (msgs.length === 0) return b;
      const at = r.pick(msgs);
      const old = b.readUInt32LE(at);
      b.writeUInt32LE(r.chance(0.5) ? r.pick(INTERESTING32) >>> 0 : (old + r.int(41) - 20) >>> 0, at);
      return b;
    }
    case 4:
    case 5: { // corrupt an nla_len (or an attribute type)
      const { attrs } = lengthFields(b);
      if (attrs.length === 0) return b;
      const at = r.pick(attrs);
      if (r.chance(0.25)) b.writeUInt16LE(r.u32() & 0xffff, at + 2);
      else {
        const old = b.readUInt16LE(at);
        b.writeUInt16LE(r.chance(0.5) ? r.pick(INTERESTING16) : (old + r.int(17) - 8) & 0xffff, at);
      }
      return b;
    }
    case 6: { // splice: a prefix of this and a suffix of another capture
      const other = r.pick(corpus).dump;
      return Buffer.concat([b.subarray(0, r.int(b.length + 1)), other.subarray(r.int(other.length + 1))]);
    }
    case 7: { // insert a chunk of another capture, or of this one
      const other = r.chance(0.5) ? b : r.pick(corpus).dump;
      const s = r.int(other.length + 1);
      const chunk = other.subarray(s, s + 1 + r.int(64));
      const at = r.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), chunk, b.subarray(at)]);
    }
    default: { // duplicate or drop a message
      const { msgs } = lengthFields(b);
      if (msgs.length === 0) return b;
      const at = r.pick(msgs);
      const len = Math.min(Math.max(b.readUInt32LE(at), 16), b.length - at);
      const m = b.subarray(at, at + ((len + 3) & ~3));
      return r.chance(0.5) ? Buffer.concat([b.subarray(0, at), m, b.subarray(at)]) : Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
    }
  }
}

/** Random attributes, nested at random (ids near the schemas' range), `budget` bytes at most. */
function randomAttrs(r, budget, depth) {
  const parts = [];
  let used = 0;
  while (used < budget && parts.length < 12) {
    let payload;
    if (depth < 3 && r.chance(0.3)) payload = randomAttrs(r, Math.min(budget - used, 120), depth + 1);
    else {
      payload = Buffer.alloc(r.pick([0, 1, 2, 4, 8, 16, r.int(24)]));
      for (let i = 0; i < payload.length; i++) payload[i] = r.chance(0.5) ? 0 : r.int(256);
    }
    const a = Buffer.alloc(4 + ((payload.length + 3) & ~3));
    a.writeUInt16LE(r.chance(0.05) ? r.pick(INTERESTING16) : 4 + payload.length, 0);
    a.writeUInt16LE((r.int(r.chance(0.8) ? 32 : 65536) | (r.chance(0.2) ? 0x8000 : 0)) & 0xffff, 2);
    payload.copy(a, 4);
    parts.push(a);
    used += a.length;
  }
  return Buffer.concat(parts);
}

const NLMSG_ERROR = 2, NLMSG_DONE = 3;

/** 1-4 messages with proper headers of the given types and sequence number, random family header and attributes. */
function randomMessages(r, types, seq, fixedSizes) {
  const parts = [];
  for (let n = 1 + r.int(4); n > 0; n--) {
    const type = r.pick(types);
    let body;
    if (type === NLMSG_ERROR) {
      const echoLen = r.chance(0.3) ? 16 + r.int(64) : r.pick(INTERESTING32) >>> 0;
      body = Buffer.concat([Buffer.alloc(4), Buffer.alloc(16), r.chance(0.5) ? Buffer.alloc(r.int(64)) : Buffer.alloc(0), randomAttrs(r, 64, 2)]);
      body.writeInt32LE(r.chance(0.3) ? 0 : -(1 + r.int(4200)), 0);
      body.writeUInt32LE(echoLen, 4);
      body.writeUInt32LE(seq >>> 0, 12);
    } else if (type === NLMSG_DONE) {
      body = Buffer.alloc(r.pick([0, 4, 8]));
      if (body.length >= 4) body.writeInt32LE(r.chance(0.5) ? 0 : -(1 + r.int(200)), 0);
    } else {
      body = Buffer.concat([Buffer.alloc(r.pick(fixedSizes)), randomAttrs(r, 400, 0)]);
      for (let i = 0; i < Math.min(16, body.length); i++) if (r.chance(0.5)) body[i] = r.int(256);
    }
    const m = Buffer.alloc(16 + ((body.length + 3) & ~3));
    m.writeUInt32LE(16 + body.length, 0);
    m.writeUInt16LE(type, 4);
    m.writeUInt16LE(r.pick([0, 2, 0x100, 0x102, 0x200, 0x300, 0x10, r.u32() & 0xffff]), 6);
    m.writeUInt32LE(seq >>> 0, 8);
    body.copy(m, 16);
    parts.push(m);
  }
  return Buffer.concat(parts);
}

const seqOf = (b) => (b.length >= 12 ? b.readUInt32LE(8) : 0);
const typeOf = (b) => (b.length >= 6 ? b.readUInt16LE(4) : 0);

/** The targets: what a reply of each kind goes through in the library. */
function targets(lib) {
  const { header, dump, protocol, message, attr, genl } = lib;
  const schemas = [];
  const seen = new Set();
  const addSchema = (s) => {
    if (s && typeof s === 'object' && s.byId instanceof Map && !seen.has(s)) {
      seen.add(s);
      schemas.push(s);
      for (const spec of Object.values(s.attrs)) if (spec.nested) addSchema(spec.nested);
    }
  };
  for (const m of [lib.schemaCtrl, lib.schemaIpset, lib.schemaIpvs, lib.schemaAddr, lib.schemaLink]) {
    for (const v of Object.values(m)) {
      addSchema(v);
      if (v && typeof v === 'object' && !(v.byId instanceof Map)) for (const s of Object.values(v)) addSchema(s);
    }
  }
  const { ipvsOps, ipsetOps, linkOps, addrOps } = lib;
  const family = (id) => ({ name: 'IPVS', id, version: 1, hdrsize: 0, maxattr: 10, commands: new Set(), groups: new Map() });
  /** The outcome matchReplies gives request `op` (sequence number `seq`) for these replies. */
  const outcomeFor = (op, buf, seq) => {
    const req = message.encodeMessages([op.message], seq);
    return protocol.matchReplies(req, buf, req.length)[0];
  };
  /** As runOperations does: decode when acknowledged, build the refusal when refused. */
  const settle = (op, buf) => {
    const o = outcomeFor(op, buf, seqOf(buf));
    if (o.status === 'ok' && op.decode) op.decode(buf, o);
    else if (o.status === 'error' && op.refuse) op.refuse(buf, o, 0);
  };
  const svcKey = { protocol: 'tcp', address: '10.0.0.1', port: 80 };

  return [
    { name: 'parseMessages', kind: 'any', run: (b) => header.parseMessages(b) },
    {
      name: 'ext-ack', kind: 'any',
      run: (b, r) => {
        for (const m of header.parseMessages(b)) if (m.type === NLMSG_ERROR) header.decodeErrorReply(b, m);
        // the input as the payload of an NLMSG_ERROR, with each combination of the ack flags
        const m = Buffer.alloc(16 + b.length);
        m.writeUInt32LE(m.length, 0);
        m.writeUInt16LE(NLMSG_ERROR, 4);
        m.writeUInt16LE(r.pick([0, 0x100, 0x200, 0x300]), 6);
        b.copy(m, 16);
        header.decodeErrorReply(m, header.parseMessages(m)[0]);
      },
    },
    {
      name: 'matchReplies', kind: 'any',
      run: (b, r) => {
        const seq = seqOf(b);
        const req = message.encodeMessages(Array.from({ length: 1 + r.int(3) }, () => ({ type: 0x20, flags: 0, fixed: Buffer.alloc(4) })), seq);
        protocol.matchReplies(req, b, r.int(req.length + 1));
      },
    },
    {
      name: 'endOfDump', kind: 'any',
      run: (b) => {
        const st = { errno: 0, interrupted: false, done: false };
        for (const m of header.parseMessages(b)) dump.endOfDump(b, m.offset, m.len, m.type, m.flags, m.seq, st);
      },
    },
    {
      name: 'schema', kind: 'any',
      run: (b, r) => {
        const s = r.pick(schemas);
        const off = Math.min(r.pick([0, 0, 4, 8, 16, 20, 24]), b.length);
        attr.decodeRecord(b, off, b.length, s, s.name, r.pick([undefined, 2, 10, 0, 7]));
      },
    },
    {
      name: 'ipvs dumps (one pass)', kind: 'ipvs',
      run: (b, r) => {
        const fam = typeOf(b);
        lib.ipvsDecode.decodeServiceDump(b, seqOf(b), fam);
        const n = 1 + r.int(3);
        lib.ipvsDecode.decodeDestinationDumps(b, seqOf(b) - r.int(n), Array.from({ length: n }, () => r.pick([2, 10, 0, 7])), fam, r.chance(0.5));
      },
    },
    {
      name: 'ipvs replies (general)', kind: 'ipvs',
      run: (b, r) => {
        const f = family(typeOf(b));
        settle(r.pick([
          () => ipvsOps.listServicesOp(f), () => ipvsOps.getServiceOp(f, svcKey), () => ipvsOps.listDestinationsOp(f, svcKey),
          () => ipvsOps.getInfoOp(f), () => ipvsOps.getTimeoutsOp(f), () => ipvsOps.listDaemonsOp(f),
        ])(), b);
      },
    },
    {
      name: 'ipset dumps', kind: 'ipset',
      run: (b, r) => {
        const o = outcomeFor(ipsetOps.listOp(7), b, seqOf(b));
        lib.ipsetDecode.decodeSets(b, o, r.chance(0.2));
        lib.ipsetDecode.decodeSetsGeneric(b, o, r.chance(0.2));
      },
    },
    {
      name: 'ipset replies', kind: 'ipset',
      run: (b, r) => {
        settle(r.pick([
          () => ipsetOps.protocolOp(), () => ipsetOps.typeOp(7, 'hash:ip,port'), () => ipsetOps.headerOp(7, 's'),
          () => ipsetOps.listOp(7, 's'), () => ipsetOps.testOp(7, 's', { ip: '10.0.0.1', proto: 'tcp', port: 80 }, 'hash:ip,port'),
          () => ipsetOps.addOps(7, 's', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], { type: 'hash:ip' })[0],
          () => ipsetOps.createOp(7, 's', 'hash:ip', 4),
          () => ipsetOps.listOp(7, 'macs'), () => ipsetOps.typeOp(7, 'hash:mac'),
          () => ipsetOps.testOp(7, 's', { mac: 'aa:bb:cc:dd:ee:ff' }, 'hash:mac'),
          () => ipsetOps.testOp(7, 's', { ip: '10.0.0.1', mac: '00:01:02:03:04:05' }, 'hash:ip,mac'),
          () => ipsetOps.addOps(7, 's', [{ ip: '10.0.0.2' }, { ip: '10.0.0.3', mac: '0:1:2:3:4:5' }], { type: 'bitmap:ip,mac' })[0],
          () => ipsetOps.createOp(7, 's', 'bitmap:ip,mac', 3, { range: '10.0.0.0/24' }),
        ])(), b);
      },
    },
    {
      name: 'link replies', kind: 'link',
      run: (b, r) => settle(r.chance(0.5) ? linkOps.listLinksOp() : linkOps.getLinkOp(r.chance(0.5) ? 'kube-ipvs0' : 3), b),
    },
    {
      name: 'address dumps', kind: 'addr',
      run: (b, r) => {
        const filter = r.pick([{}, { index: 1 + r.int(4) }, { family: 'inet' }, { family: 'inet6' }]);
        lib.addrDecode.decodeAddressDump(b, seqOf(b), filter);
        settle(addrOps.listAddressesOp(filter), b);
      },
    },
    {
      name: 'address events', kind: 'addr',
      run: (b) => {
        // as addresses.events reads each datagram of notifications
        for (const m of header.parseMessages(b, 0, b.length, 'address.events')) {
          if (m.type === 20 || m.type === 21) addrOps.decodeAddressMessage(b, m);
        }
      },
    },
    {
      name: 'family resolution', kind: 'genl',
      run: (b) => {
        const conn = {
          exchange: async (msgs) => {
            const req = message.encodeMessages(msgs, seqOf(b));
            return { outcomes: protocol.matchReplies(req, b, req.length), replies: b, error: null };
          },
        };
        return genl.resolveFamily(conn, 'IPVS');
      },
    },
  ];
}

const KIND_TYPES = {
  ipvs: { types: [0x1c, 0x1c, 0x1c, NLMSG_ERROR, NLMSG_DONE], fixed: [4] },
  ipset: { types: [0x601, 0x607, 0x607, 0x608, 0x60c, 0x60d, NLMSG_ERROR, NLMSG_DONE], fixed: [4] },
  link: { types: [16, 16, 16, NLMSG_ERROR, NLMSG_DONE], fixed: [16, 16, 8, 0] },
  addr: { types: [20, 20, 21, NLMSG_ERROR, NLMSG_DONE], fixed: [8, 8, 4, 0] },
  genl: { types: [0x10, 0x10, NLMSG_ERROR, NLMSG_DONE], fixed: [4] },
  any: { types: [0x1c, 0x601, 16, 20, 0x10, NLMSG_ERROR, NLMSG_DONE, 0], fixed: [0, 4, 8, 16] },
};

/** A CTRL_CMD_NEWFAMILY reply, as the controller sends it for IPVS, for the family-resolution corpus. */
function familyReply(lib, seq) {
  const m = lib.message.encodeMessages([{
    type: 0x10, flags: 0, fixed: Buffer.from([1, 2, 0, 0]), schema: lib.schemaCtrl.ctrlFamily,
    attrs: {
      familyName: 'IPVS', familyId: 0x1c, version: 1, hdrsize: 0, maxattr: 10,
      ops: [{ id: 1, flags: 0xb }, { id: 2, flags: 0xb }], mcastGroups: [{ name: 'x', id: 9 }],
    },
  }], seq);
  return m;
}

/** Makes input `i`: for a target of `kind`, from its corpus or from scratch. */
function makeInput(r, kind, corpus, byKind) {
  const pool = kind === 'any' ? corpus : byKind[kind];
  const roll = r.int(100);
  if (roll < 8) { // random bytes
    const b = Buffer.alloc(r.int(r.chance(0.8) ? 64 : 600));
    for (let i = 0; i < b.length; i++) b[i] = r.int(256);
    return b;
  }
  const seed = r.pick(pool);
  if (roll < 30) { // well-framed messages of the kind's types, random insides
    const t = KIND_TYPES[kind];
    return randomMessages(r, t.types, seqOf(seed.dump), t.fixed);
  }
  let b = r.chance(0.8) || seed.requests.length === 0 ? seed.dump : r.pick(seed.requests);
  for (let n = 1 + r.int(r.chance(0.7) ? 2 : 6); n > 0; n--) b = mutate(r, b, corpus);
  return b;
}

/**
 * Runs the fuzzer. Options: `lib` (modules by {@link MODULES} key), `corpusDir`, `seed`, `inputs`,
 * `replay` (only input number `replay`), `slowMs` (default 100), `onProgress(done)`.
 * Returns the figures: inputs, per-target counts, DecodeErrors, other typed errors, untyped
 * exceptions (each with seed, index, target, message, input hex), inputs over `slowMs`, the slowest.
 */
export async function runFuzz(options) {
  const lib = options.lib;
  const seed = options.seed >>> 0;
  const slowMs = options.slowMs ?? 100;
  const recheckMs = Math.min(2, slowMs);
  const corpus = loadCorpus(options.corpusDir);
  const byKind = {};
  for (const c of corpus) (byKind[c.kind] ??= []).push(c);
  const fam = { file: '(synthesized) CTRL_CMD_NEWFAMILY IPVS', kind: 'genl', requests: [], replies: [], dump: familyReply(lib, 1000) };
  byKind.genl = [fam];
  const all = [...corpus, fam];
  const ts = targets(lib);
  const { DecodeError, NetlinkError } = lib.errors;
  const perTarget = Object.fromEntries(ts.map((t) => [t.name, { inputs: 0, decodeErrors: 0, typed: 0, untyped: 0 }]));
  const res = {
    seed, inputs: 0, decodeErrors: 0, typed: 0, untyped: [], untypedCount: 0, slow: [], slowest: { ms: 0 }, perTarget,
    corpusFiles: corpus.length, elapsedMs: 0,
  };
  const seenUntyped = new Set();
  const first = options.replay ?? 0;
  const last = options.replay !== undefined ? options.replay + 1 : options.inputs;
  const t0 = performance.now();

  const runOnce = async (t, b, i) => {
    const r = inputRng(seed ^ 0x5bd1e995, i); // the target's own choices, also from (seed, i)
    const v = t.run(b, r);
    if (v && typeof v.then === 'function') await v;
  };

  for (let i = first; i < last; i++) {
    const r = inputRng(seed, i);
    const t = ts[i % ts.length];
    const b = makeInput(r, t.kind, all, byKind);
    const s = performance.now();
    let err = null;
    try {
      await runOnce(t, b, i);
    } catch (e) {
      err = e;
    }
    let ms = performance.now() - s;
    if (ms > recheckMs) {
      // A busy machine (or a garbage collection) can stall any one call: an input's time is the
      // least of up to four runs, so it counts as slow only if it stays slow.
      for (let k = 0; k < 3; k++) {
        const s2 = performance.now();
        try { await runOnce(t, b, i); } catch { /* classified above */ }
        ms = Math.min(ms, performance.now() - s2);
      }
      if (ms > slowMs) res.slow.push({ index: i, target: t.name, ms, bytes: b.length, hex: b.toString('hex') });
    }
    if (ms > res.slowest.ms) res.slowest = { ms, index: i, target: t.name, bytes: b.length };
    res.inputs++;
    const pt = perTarget[t.name];
    pt.inputs++;
    if (err) {
      if (err instanceof DecodeError) {
        res.decodeErrors++;
        pt.decodeErrors++;
      } else if (err instanceof NetlinkError) {
        res.typed++;
        pt.typed++;
      } else {
        res.untypedCount++;
        pt.untyped++;
        const what = `${t.name}: ${err && err.name}: ${err && err.message}`;
        const key = `${t.name}|${err && err.name}|${String(err && err.stack).split('\n')[1] ?? ''}`;
        if (!seenUntyped.has(key) && res.untyped.length < 50) {
          seenUntyped.add(key);
          res.untyped.push({ seed, index: i, target: t.name, error: what, stack: String(err && err.stack).split('\n').slice(0, 4).join('\n'), hex: b.toString('hex') });
        }
      }
    }
    if (options.onProgress && (i + 1) % 50000 === 0) options.onProgress(i + 1 - first, res);
  }
  res.elapsedMs = performance.now() - t0;
  return res;
}

/** The figures as a few lines of text. */
export function formatReport(res, slowMs = 100) {
  const lines = [];
  lines.push(`fuzz: seed ${res.seed}, ${res.inputs} inputs (${res.corpusFiles} golden captures mutated, plus random), ${(res.elapsedMs / 1000).toFixed(1)} s`);
  lines.push(`  DecodeError ${res.decodeErrors}, NetlinkError (refusal or EPROTO) ${res.typed}, decoded without error ${res.inputs - res.decodeErrors - res.typed - res.untypedCount}`);
  lines.push(`  untyped exceptions: ${res.untypedCount}${res.untyped.length ? ` (${res.untyped.length} distinct)` : ''}`);
  for (const u of res.untyped) lines.push(`    seed ${u.seed} input ${u.index} [${u.target}] ${u.error}\n      ${u.stack.split('\n').slice(1).join('\n      ')}\n      input: ${u.hex}`);
  lines.push(`  inputs over ${slowMs} ms: ${res.slow.length}`);
  for (const s of res.slow.slice(0, 10)) lines.push(`    seed ${res.seed} input ${s.index} [${s.target}] ${s.ms.toFixed(1)} ms, ${s.bytes} bytes: ${s.hex.slice(0, 400)}`);
  lines.push(`  slowest input (least of up to four runs): ${res.slowest.ms.toFixed(2)} ms (input ${res.slowest.index}, ${res.slowest.target}, ${res.slowest.bytes} bytes)`);
  for (const [name, c] of Object.entries(res.perTarget)) {
    lines.push(`    ${name.padEnd(24)} ${String(c.inputs).padStart(8)} inputs, ${String(c.decodeErrors).padStart(8)} DecodeError, ${c.typed} NetlinkError, ${c.untyped} untyped`);
  }
  return lines.join('\n');
}
