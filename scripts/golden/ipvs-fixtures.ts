// Turns the captures of scripts/golden/ipvs-capture.sh into golden fixtures:
//
//   node scripts/vm/run.mjs -- bash scripts/golden/ipvs-capture.sh /tmp/ipvs-cap
//   npx vite-node scripts/golden/ipvs-fixtures.ts /tmp/ipvs-cap [test/golden]
//
// Each pcap (LINKTYPE_NETLINK: a 16-byte pseudo header, then the datagram) holds ipvsadm's whole
// conversation. Kept: the messages of the IPVS family, grouped by request (a request and the
// replies carrying its sequence number), without the GET_INFO exchange every ipvsadm run starts
// with (one scenario keeps it as its own fixture). Also written: two derived fixtures, an
// old-kernel destination dump (attributes of 4.1+ removed) and a future-kernel one (attributes
// unknown to the schema added), each saying so in its header.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseMessages } from '../../src/netlink/header';
import { GENL_ID_CTRL } from '../../src/uapi/genetlink';
import { NLM_F_REQUEST, NLMSG_MIN_TYPE } from '../../src/uapi/netlink';
import { decodeFixture, encodeFixture, toJson, writeHex, type Fixture, type FixtureMessage, type Json } from './ipvs-fixture-codec';

const [capDir, outArg] = process.argv.slice(2);
if (!capDir) throw new Error('usage: vite-node scripts/golden/ipvs-fixtures.ts CAPTURE_DIR [OUT_DIR]');
const outDir = outArg ?? path.join(__dirname, '..', '..', 'test', 'golden');
const kernel = readFileSync(path.join(capDir, 'kernel'), 'utf8').trim();
const ipvsadm = readFileSync(path.join(capDir, 'ipvsadm-version'), 'utf8').trim();
const KERNEL_LINE = `kernel: Linux ${kernel} (User-Mode Linux guest of scripts/vm/run.mjs); ${ipvsadm}`;
const CAPTURE_LINE = 'captured: nlmon0 in the command\'s network namespace, tcpdump -w (LINKTYPE_NETLINK), by scripts/golden/ipvs-capture.sh';
const EXTRACT_LINE = 'kept: the IPVS-family messages of one exchange (a request and its replies), by scripts/golden/ipvs-fixtures.ts';

/** Every netlink datagram of a pcap, in capture order. */
function datagrams(file: string): Buffer[] {
  const d = readFileSync(file);
  if (d.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian pcap`);
  if (d.readUInt32LE(20) !== 253) throw new Error(`${file}: link type ${d.readUInt32LE(20)} is not LINKTYPE_NETLINK`);
  const out: Buffer[] = [];
  for (let off = 24; off < d.length;) {
    const incl = d.readUInt32LE(off + 8);
    out.push(d.subarray(off + 16 + 16, off + 16 + incl));
    off += 16 + incl;
  }
  return out;
}

interface Group { request: Buffer; replies: Buffer[]; cmd: number }

/** The IPVS-family exchanges of a capture, each a request and its data replies, in request order. */
function exchanges(file: string): Group[] {
  const groups = new Map<number, Group>();
  const order: Group[] = [];
  for (const dg of datagrams(file)) {
    for (const m of parseMessages(dg)) {
      if (m.type < NLMSG_MIN_TYPE || m.type === GENL_ID_CTRL) continue;
      const bytes = Buffer.from(dg.subarray(m.offset, m.offset + ((m.len + 3) & ~3)));
      if (m.flags & NLM_F_REQUEST) {
        const g = { request: bytes, replies: [], cmd: dg[m.payload]! };
        groups.set(m.seq, g);
        order.push(g);
      } else {
        groups.get(m.seq)?.replies.push(bytes);
      }
    }
  }
  return order;
}

const CMD_SLUG: Record<number, string> = {
  1: 'new-service', 2: 'set-service', 3: 'del-service', 4: 'get-service', 5: 'new-dest', 6: 'set-dest', 7: 'del-dest',
  8: 'get-dest', 9: 'new-daemon', 10: 'del-daemon', 11: 'get-daemon', 12: 'set-config', 13: 'get-config',
  15: 'get-info', 16: 'zero', 17: 'flush',
};

function write(name: string, header: string[], buf: Buffer, fixture: Fixture): void {
  writeFileSync(path.join(outDir, `ipvs-${name}.hex`), writeHex(header, buf, fixture.messages));
  writeFileSync(path.join(outDir, `ipvs-${name}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
  // a fixture that does not survive its own round trip is a bug here, not a fixture
  if (!encodeFixture(fixture.messages).equals(buf)) throw new Error(`ipvs-${name}: encode(decode(bytes)) differs from the bytes`);
}

const written: string[] = [];
let listDest: { buf: Buffer; fixture: Fixture } | undefined;
let listServices: { buf: Buffer; fixture: Fixture } | undefined;

for (const file of readdirSync(capDir).filter((f) => f.endsWith('.pcap')).sort()) {
  const scenario = file.replace(/\.pcap$/, '');
  const command = readFileSync(path.join(capDir, `${scenario}.cmd`), 'utf8').trim();
  const all = exchanges(path.join(capDir, file));
  // every ipvsadm run starts with GET_INFO (ipvs_init); only the listing shows what it read
  const groups = scenario === 'list' ? all : all.filter((g) => g.cmd !== 15);
  if (groups.length === 0) {
    console.warn(`${scenario}: no IPVS exchange beyond GET_INFO, skipped`);
    continue;
  }
  let destN = 0;
  for (const g of groups) {
    const slug = CMD_SLUG[g.cmd] ?? `cmd-${g.cmd}`;
    let name = groups.length === 1 ? scenario : `${scenario}-${slug}`;
    if (g.cmd === 8 && groups.filter((x) => x.cmd === 8).length > 1) name += `-${++destN}`;
    const buf = Buffer.concat([g.request, ...g.replies]);
    const fixture: Fixture = { messages: decodeFixture(buf) };
    const what = g.replies.length ? `the request and the kernel's ${g.replies.length} data repl${g.replies.length === 1 ? 'y' : 'ies'}` : 'the request';
    write(name, [KERNEL_LINE, `command: ${command}`, CAPTURE_LINE, EXTRACT_LINE, `holds: ${what}`], buf, fixture);
    written.push(name);
    if (scenario === 'list' && g.cmd === 8 && destN === 1) listDest = { buf, fixture };
    if (scenario === 'list' && g.cmd === 4) listServices = { buf, fixture };
  }
}

/** A derived fixture: the same messages with some attributes changed, re-encoded by the library. */
function derive(name: string, from: string, how: string, fixture: Fixture, edit: (m: FixtureMessage) => FixtureMessage | undefined): void {
  const messages = fixture.messages.map(edit).filter((m): m is FixtureMessage => m !== undefined);
  const buf = encodeFixture(messages);
  const out: Fixture = { ...(fixture.serviceFamily !== undefined && { serviceFamily: fixture.serviceFamily }), messages: decodeFixture(buf, fixture.serviceFamily) };
  write(name, [KERNEL_LINE, `derived from ipvs-${from}.hex: ${how}`, CAPTURE_LINE], buf, out);
  written.push(name);
}

function without(attrs: Json, nest: string, keys: string[]): Json {
  const a = { ...(attrs as Record<string, Json>) };
  const inner = { ...(a[nest] as Record<string, Json>) };
  for (const k of keys) delete inner[k];
  a[nest] = inner;
  return a;
}

if (listDest && listServices) {
  const oldDest = (m: FixtureMessage): FixtureMessage | undefined => {
    if (m.direction === 'reply' && ((m.attrs as { dest?: { addrFamily?: number } }).dest?.addrFamily ?? 2) !== 2) return undefined;
    return m.direction === 'request' ? m : { ...m, attrs: without(m.attrs, 'dest', ['addrFamily', 'stats64', 'tunType', 'tunPort', 'tunFlags']) };
  };
  derive('old-kernel-get-dest', 'list-get-dest-1',
    'IPVS_DEST_ATTR_ADDR_FAMILY, _STATS64, _TUN_TYPE, _TUN_PORT and _TUN_FLAGS removed (what a kernel before 4.1 sends; it cannot hold the IPv6 destination, dropped too); addresses then take the service\'s family',
    { serviceFamily: 2, messages: listDest.fixture.messages }, oldDest);
  derive('old-kernel-get-service', 'list-get-service', 'IPVS_SVC_ATTR_STATS64 removed (what a kernel before 4.1 sends)',
    listServices.fixture, (m) => (m.direction === 'request' ? m : { ...m, attrs: without(m.attrs, 'service', ['stats64']) }));
  const unknown = (id: number) => toJson([{ id, flags: 0, bytes: Buffer.from([1, 0, 0, 0]) }]);
  derive('future-kernel-get-dest', 'list-get-dest-1',
    'an attribute unknown to the schema (id 16, 4 bytes) appended to each destination nest and one (id 7) at the first level, as a newer kernel might send',
    listDest.fixture, (m) => {
      if (m.direction === 'request') return m;
      const a = { ...(m.attrs as Record<string, Json>) };
      a.dest = { ...(a.dest as Record<string, Json>), unknown: unknown(16) };
      a.unknown = unknown(7);
      return { ...m, attrs: a };
    });
}

console.log(`wrote ${written.length} fixtures to ${outDir}: ${written.join(', ')}`);
