// The IPVS golden fixtures' two forms and the mapping between them, shared by the generator
// (scripts/golden/ipvs-fixtures.ts) and the unit test (test/unit/ipvs-golden.test.ts):
//   *.hex   the captured bytes: '#' comment lines (kernel, command, capture method), then hex
//   *.json  what the library's decoder reads from them, one entry per netlink message
// Decoding and encoding use only the library's own codec (src/netlink, src/schema/ipvs.ts).
import { decodeRecord, writeRecord, type AttrRecord, type Schema, type UnknownAttr } from '../../src/netlink/attr';
import { align4 } from '../../src/netlink/header';
import { parseMessages, writeHeader, type MessageHeader } from '../../src/netlink/header';
import { ipvsCmd, ipvsInfo } from '../../src/schema/ipvs';
import * as K from '../../src/uapi/ip-vs';
import { NLA_F_NESTED, NLA_TYPE_MASK, NLM_F_REQUEST, SIZEOF_NLMSGHDR } from '../../src/uapi/netlink';
import { SIZEOF_GENLMSGHDR } from '../../src/uapi/genetlink';

/** JSON-safe attribute values: bigint as "123n", bytes as { hex }. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface FixtureMessage {
  /** `request` when NLM_F_REQUEST is set (what ipvsadm sent), else `reply` (what the kernel sent). */
  direction: 'request' | 'reply';
  header: MessageHeader;
  /** The genetlink command by its kernel name. */
  cmd: string;
  version: number;
  attrs: Json;
}

export interface Fixture {
  /** Family of the service whose destinations a reply lists, for replies without IPVS_DEST_ATTR_ADDR_FAMILY. */
  serviceFamily?: number;
  messages: FixtureMessage[];
}

const CMD_NAMES = new Map<number, string>(
  Object.entries(K).filter(([k, v]) => k.startsWith('IPVS_CMD_') && !k.startsWith('IPVS_CMD_ATTR_') && typeof v === 'number'
    && k !== 'IPVS_CMD_MAX' && k !== 'IPVS_CMD_UNSPEC').map(([k, v]) => [v as number, k]),
);
const CMD_NUMBERS = new Map([...CMD_NAMES].map(([n, k]) => [k, n]));

/** The first-level schema of a message: info replies (and requests) have their own. */
function schemaFor(cmd: number): Schema {
  return cmd === K.IPVS_CMD_GET_INFO || cmd === K.IPVS_CMD_SET_INFO ? ipvsInfo : ipvsCmd;
}

/** A copy of a schema tree with NLA_F_NESTED on or off: requests set it (libnl), kernel replies do not. */
function withNestFlag(schema: Schema, nestFlag: boolean, seen = new Map<Schema, Schema>()): Schema {
  const done = seen.get(schema);
  if (done) return done;
  const copy: Schema = { ...schema, nestFlag, attrs: {}, byId: new Map() };
  seen.set(schema, copy);
  for (const [key, spec] of Object.entries(schema.attrs)) {
    const s = spec.nested ? { ...spec, nested: withNestFlag(spec.nested, nestFlag, seen) } : spec;
    copy.attrs[key] = s;
    copy.byId.set(s.id, [key, s]);
  }
  return copy;
}
const REQUEST_SCHEMAS = new Map([ipvsCmd, ipvsInfo].map((s) => [s, withNestFlag(s, true)]));
const REPLY_SCHEMAS = new Map([ipvsCmd, ipvsInfo].map((s) => [s, withNestFlag(s, false)]));

export function toJson(v: unknown): Json {
  if (typeof v === 'bigint') return `${v}n`;
  if (Buffer.isBuffer(v)) return { hex: v.toString('hex') };
  if (Array.isArray(v)) return v.map(toJson);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toJson(x);
    return out;
  }
  return v as Json;
}

export function fromJson(v: Json): unknown {
  if (typeof v === 'string' && /^\d+n$/.test(v)) return BigInt(v.slice(0, -1));
  if (Array.isArray(v)) return v.map(fromJson);
  if (v !== null && typeof v === 'object') {
    if (typeof v.hex === 'string' && Object.keys(v).length === 1) return Buffer.from(v.hex, 'hex');
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromJson(x);
    return out;
  }
  return v;
}

/** The bytes of a .hex fixture: comment lines dropped, whitespace ignored. */
export function readHex(text: string): Buffer {
  const hex = text.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error('fixture: not an even run of hex digits');
  return Buffer.from(hex, 'hex');
}

/** A .hex fixture's text: the header comment, then each message on its own lines of 16 bytes. */
export function writeHex(header: string[], buf: Buffer, messages: FixtureMessage[]): string {
  const lines = header.map((h) => `# ${h}`);
  let off = 0;
  messages.forEach((m, i) => {
    lines.push(`# message ${i + 1}: ${m.direction} ${m.cmd}, ${m.header.len} bytes`);
    const end = off + ((m.header.len + 3) & ~3);
    for (let p = off; p < end; p += 16) {
      const chunk = buf.subarray(p, Math.min(p + 16, end)).toString('hex');
      lines.push(chunk.replace(/(.{8})(?=.)/g, '$1 '));
    }
    off = end;
  });
  return `${lines.join('\n')}\n`;
}

/** Decodes every message of a fixture with the library's codec. */
export function decodeFixture(buf: Buffer, serviceFamily?: number): FixtureMessage[] {
  return parseMessages(buf, 0, buf.length, 'fixture').map((m) => {
    const cmd = buf[m.payload]!;
    const version = buf[m.payload + 1]!;
    const attrs = decodeRecord(buf, m.payload + SIZEOF_GENLMSGHDR, m.end, schemaFor(cmd), 'ipvs', serviceFamily);
    placeUnknown(buf, m.payload + SIZEOF_GENLMSGHDR, m.end, schemaFor(cmd), attrs);
    return {
      direction: m.flags & NLM_F_REQUEST ? 'request' : 'reply',
      header: { len: m.len, type: m.type, flags: m.flags, seq: m.seq, pid: m.pid },
      cmd: CMD_NAMES.get(cmd) ?? `cmd ${cmd}`,
      version,
      attrs: toJson(attrs),
    };
  });
}

/** An unknown attribute with where it stood: after the known attribute `after` (null: first). */
type PlacedUnknown = UnknownAttr & { after?: string | null };

/**
 * Notes beside each unknown attribute the known one it followed. The library's decoder keeps
 * unknown attributes in a list; where they stood matters for byte equality, because the kernel
 * interleaves IPVS_STATS_ATTR_PAD (alignment of 64-bit values, nla_put_u64_64bit) with counters.
 */
function placeUnknown(buf: Buffer, off: number, end: number, schema: Schema, rec: AttrRecord): void {
  let last: string | null = null;
  let u = 0;
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    const entry = schema.byId.get(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK);
    if (!entry) (rec.unknown![u++] as PlacedUnknown).after = last;
    else {
      const [key, spec] = entry;
      last = key;
      if (spec.type === 'nested') placeUnknown(buf, off + 4, off + len, spec.nested!, rec[key] as AttrRecord);
    }
    off += align4(len);
  }
}

/**
 * Writes a record as the library's writeRecord does, attribute by attribute, putting unknown
 * attributes back where they stood (see placeUnknown). Returns the offset after it.
 */
function writePlaced(buf: Buffer, off: number, schema: Schema, rec: AttrRecord): number {
  const unknown = (rec.unknown ?? []) as PlacedUnknown[];
  const emit = (after: string | null | undefined) => {
    for (const u of unknown) {
      if (u.after !== after) continue;
      off = writeRecord(buf, off, schema, { unknown: [{ id: u.id, flags: u.flags, bytes: u.bytes }] });
    }
  };
  emit(null);
  for (const [key, value] of Object.entries(rec)) {
    if (key === 'unknown' || value === undefined) continue;
    const spec = schema.attrs[key];
    if (spec?.type === 'nested') {
      const start = off;
      buf.writeUInt16LE(spec.id | (schema.nestFlag ? NLA_F_NESTED : 0), off + 2);
      off = writePlaced(buf, off + 4, spec.nested!, value as AttrRecord);
      buf.writeUInt16LE(off - start, start);
    } else {
      off = writeRecord(buf, off, schema, { [key]: value });
    }
    emit(key);
  }
  emit(undefined);
  return off;
}

/** Encodes fixture messages back to bytes with the library's codec. */
export function encodeFixture(messages: FixtureMessage[]): Buffer {
  const parts = messages.map((m) => {
    const cmd = CMD_NUMBERS.get(m.cmd);
    if (cmd === undefined) throw new Error(`fixture: unknown command ${m.cmd}`);
    const base = schemaFor(cmd);
    const schema = (m.direction === 'request' ? REQUEST_SCHEMAS : REPLY_SCHEMAS).get(base)!;
    const attrs = fromJson(m.attrs) as AttrRecord;
    const buf = Buffer.alloc(65536);
    buf[SIZEOF_NLMSGHDR] = cmd;
    buf[SIZEOF_NLMSGHDR + 1] = m.version;
    const len = writePlaced(buf, SIZEOF_NLMSGHDR + SIZEOF_GENLMSGHDR, schema, attrs);
    writeHeader(buf, 0, { ...m.header, len });
    return buf.subarray(0, len);
  });
  return Buffer.concat(parts);
}
