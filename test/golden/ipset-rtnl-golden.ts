// Golden fixtures: each `*.hex` holds `#` comment lines (kernel, command, capture method) and one
// netlink datagram per line, `>` for a request and `<` for a kernel reply. The `*.json` next to it is
// the expected decoding, message by message, with the library's schemas; tests check both
// directions: decode(hex) equals the JSON, and encode(JSON) equals the hex byte for byte.
//
// This file holds the message framing (nlmsghdr, NLMSG_ERROR/DONE, the family header); the
// attributes go through the library's own codec (decodeRecord/writeRecord) and schemas.
import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { join } from 'node:path';
import { decodeRecord, recordSize, writeRecord, type AttrRecord, type Schema } from '../../src/netlink/attr';
import { align4, parseMessages, writeHeader, type MessageHeader } from '../../src/netlink/header';
import { NLA_F_NESTED, NLA_TYPE_MASK, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED, SIZEOF_NLMSGHDR } from '../../src/uapi/netlink';

/** How a family frames its messages: the fixed header after nlmsghdr and the schema per type. */
export interface GoldenFamily {
  /** Size of the family header of a message type. */
  fixedSize(type: number): number;
  decodeFixed(buf: Buffer, off: number, type: number): Record<string, number>;
  encodeFixed(fixed: Record<string, number>, type: number): Buffer;
  /** The schema of a message, or undefined for one without attributes. */
  schemaFor(type: number, direction: 'request' | 'reply'): Schema | undefined;
  /** A readable name for the message type (informational in the JSON). */
  typeName(type: number): string;
  /**
   * The family's padding attribute: the kernel puts one before a 64-bit value whose payload would
   * not be 8-byte aligned in the datagram (nla_put_64bit). It carries nothing, so decoding drops
   * it and encoding a reply re-inserts it by the kernel's rule.
   */
  pad64?: number;
}

export interface GoldenMessage {
  header: MessageHeader;
  name?: string;
  fixed?: Record<string, number>;
  attrs?: AttrRecord;
  /** NLMSG_ERROR: the errno (0 for an ack)... */
  error?: number;
  /** ...and the request it answers: its header only (capped) or all of it. */
  request?: MessageHeader;
  echo?: GoldenMessage;
  /** NLMSG_DONE: the status word. */
  done?: number;
}

export interface GoldenDatagram {
  direction: '>' | '<';
  messages: GoldenMessage[];
  /** Bytes after the last message that are not one (iproute2 sends its whole request buffer; the kernel stops at nlmsg_len 0). */
  trailing?: Buffer;
}

export interface GoldenFile {
  comments: string[];
  datagrams: { direction: '>' | '<'; bytes: Buffer }[];
}

export const goldenDir = __dirname;

export function readHex(name: string): GoldenFile {
  const text = readFileSync(join(goldenDir, `${name}.hex`), 'utf8');
  const comments: string[] = [];
  const datagrams: GoldenFile['datagrams'] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) comments.push(line.slice(1).trim());
    else if (line.trim()) {
      const [dir, hex] = line.split(' ') as ['>' | '<', string];
      datagrams.push({ direction: dir, bytes: Buffer.from(hex, 'hex') });
    }
  }
  return { comments, datagrams };
}

function readHeader(buf: Buffer, off: number): MessageHeader {
  return {
    len: buf.readUInt32LE(off), type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6),
    seq: buf.readUInt32LE(off + 8), pid: buf.readUInt32LE(off + 12),
  };
}

function decodeOne(fam: GoldenFamily, buf: Buffer, off: number, end: number, direction: 'request' | 'reply'): GoldenMessage {
  const header = readHeader(buf, off);
  const p = off + SIZEOF_NLMSGHDR;
  if (header.type === NLMSG_ERROR) {
    const error = buf.readInt32LE(p);
    const request = readHeader(buf, p + 4);
    if (header.flags & NLM_F_CAPPED || end - (p + 4) === SIZEOF_NLMSGHDR) {
      if (header.flags & NLM_F_ACK_TLVS) throw new Error('golden: extended-ack TLVs are not handled here');
      return { header, error, request };
    }
    return { header, error, echo: decodeOne(fam, buf, p + 4, p + 4 + request.len, 'request') };
  }
  if (header.type === NLMSG_DONE) return { header, done: buf.readInt32LE(p) };
  const fixed = fam.decodeFixed(buf, p, header.type);
  const schema = fam.schemaFor(header.type, direction);
  const m: GoldenMessage = { header, name: fam.typeName(header.type), fixed };
  if (schema) m.attrs = decodeRecord(buf, p + align4(fam.fixedSize(header.type)), end, schema);
  if (m.attrs && fam.pad64 !== undefined) dropPads(m.attrs, fam.pad64);
  return m;
}

/** Decodes a datagram into messages. */
export function decodeDatagram(fam: GoldenFamily, direction: '>' | '<', bytes: Buffer): GoldenDatagram {
  const dir = direction === '>' ? 'request' : 'reply';
  let end = 0;
  while (end + SIZEOF_NLMSGHDR <= bytes.length) {
    const len = bytes.readUInt32LE(end);
    if (len < SIZEOF_NLMSGHDR || end + len > bytes.length) break;
    end += align4(len);
  }
  end = Math.min(end, bytes.length);
  const d: GoldenDatagram = { direction, messages: parseMessages(bytes, 0, end).map((m) => decodeOne(fam, bytes, m.offset, m.end, dir)) };
  if (end < bytes.length) d.trailing = Buffer.from(bytes.subarray(end));
  return d;
}

function encodeOne(fam: GoldenFamily, m: GoldenMessage, direction: 'request' | 'reply'): Buffer {
  let body: Buffer;
  if (m.error !== undefined) {
    const head = Buffer.alloc(4);
    head.writeInt32LE(m.error);
    let rest: Buffer;
    if (m.echo) rest = encodeOne(fam, m.echo, 'request');
    else {
      rest = Buffer.alloc(SIZEOF_NLMSGHDR);
      writeHeader(rest, 0, m.request!);
    }
    body = Buffer.concat([head, rest]);
  } else if (m.done !== undefined) {
    body = Buffer.alloc(4);
    body.writeInt32LE(m.done);
  } else {
    const fixed = fam.encodeFixed(m.fixed!, m.header.type);
    const schema = fam.schemaFor(m.header.type, direction);
    const attrs = schema && m.attrs ? m.attrs : undefined;
    const size = attrs ? recordSize(schema!, attrs) : 0;
    body = Buffer.alloc(align4(fixed.length) + size);
    fixed.copy(body);
    if (attrs) writeRecord(body, align4(fixed.length), schema!, attrs);
  }
  const out = Buffer.alloc(align4(SIZEOF_NLMSGHDR + body.length));
  writeHeader(out, 0, m.header);
  body.copy(out, SIZEOF_NLMSGHDR);
  return out;
}

/** Encodes a datagram's messages back into bytes (each message padded to 4 bytes, as sent). */
export function encodeDatagram(fam: GoldenFamily, d: GoldenDatagram): Buffer {
  const dir = d.direction === '>' ? 'request' : 'reply';
  const parts: Buffer[] = [];
  let pos = 0;
  for (const m of d.messages) {
    let b = encodeOne(fam, m, dir);
    const schema = m.attrs ? fam.schemaFor(m.header.type, dir) : undefined;
    if (dir === 'reply' && fam.pad64 !== undefined && schema) {
      const start = SIZEOF_NLMSGHDR + align4(fam.fixedSize(m.header.type));
      const attrs = insertPads(b, start, b.length, schema, pos + start, fam.pad64);
      b = Buffer.concat([b.subarray(0, start), attrs]);
      b.writeUInt32LE(b.length, 0);
    }
    parts.push(b);
    pos += b.length;
  }
  if (d.trailing) parts.push(d.trailing);
  return Buffer.concat(parts);
}

function dropPads(rec: AttrRecord, pad: number): void {
  if (rec.unknown) {
    rec.unknown = rec.unknown.filter((u) => u.id !== pad);
    if (rec.unknown.length === 0) delete rec.unknown;
  }
  for (const v of Object.values(rec)) {
    if (Array.isArray(v)) for (const item of v) if (item && typeof item === 'object' && !Buffer.isBuffer(item)) dropPads(item as AttrRecord, pad);
    if (v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)) dropPads(v as AttrRecord, pad);
  }
}

/** Re-inserts the kernel's 4-byte pad attribute before each 64-bit value not 8-aligned at `pos`. */
function insertPads(src: Buffer, off: number, end: number, schema: Schema | undefined, pos: number, pad: number): Buffer {
  const parts: Buffer[] = [];
  let p = pos;
  while (off + 4 <= end) {
    const len = src.readUInt16LE(off);
    const type = src.readUInt16LE(off + 2);
    const spec = schema?.byId.get(type & NLA_TYPE_MASK)?.[1];
    if (spec && (spec.type === 'be64' || spec.type === 'u64') && (p + 4) % 8 !== 0) {
      const padAttr = Buffer.from([4, 0, pad & 0xff, pad >> 8]);
      parts.push(padAttr);
      p += 4;
    }
    if (spec && (spec.type === 'nested' || spec.type === 'list')) {
      let inner: Buffer;
      if (spec.type === 'nested') inner = insertPads(src, off + 4, off + len, spec.nested, p + 4, pad);
      else {
        const items: Buffer[] = [];
        let q = p + 4;
        for (let o = off + 4; o + 4 <= off + len;) {
          const l = src.readUInt16LE(o);
          const body = insertPads(src, o + 4, o + l, spec.nested, q + 4, pad);
          const h = Buffer.alloc(4);
          h.writeUInt16LE(4 + body.length);
          h.writeUInt16LE(src.readUInt16LE(o + 2), 2);
          items.push(h, body);
          q += 4 + body.length;
          o += align4(l);
        }
        inner = Buffer.concat(items);
      }
      const h = Buffer.alloc(4);
      h.writeUInt16LE(4 + inner.length);
      h.writeUInt16LE(type, 2);
      parts.push(h, inner);
      p += 4 + inner.length;
    } else {
      const a = src.subarray(off, off + align4(len));
      parts.push(a);
      p += a.length;
    }
    off += align4(len);
  }
  return Buffer.concat(parts);
}

/** JSON with bigints as `{"$bigint": "..."}` and Buffers as `{"$hex": "..."}`. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return { $bigint: v.toString() };
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return { $hex: Buffer.from((v as { data: number[] }).data).toString('hex') };
    }
    return v;
  }, 2);
}

export function fromJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && '$bigint' in v) return BigInt((v as { $bigint: string }).$bigint);
    if (v && typeof v === 'object' && '$hex' in v) return Buffer.from((v as { $hex: string }).$hex, 'hex');
    return v;
  });
}

export function readJson(name: string): { datagrams: GoldenDatagram[] } & Record<string, unknown> {
  return fromJson(readFileSync(join(goldenDir, `${name}.json`), 'utf8')) as { datagrams: GoldenDatagram[] };
}

/** A tool that reuses its buffer leaves stale bytes in attribute padding; the kernel ignores them. */
export function zeroPadding(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  const walk = (off: number, end: number) => {
    while (off + 4 <= end) {
      const len = out.readUInt16LE(off);
      if (len < 4) return;
      out.fill(0, off + len, Math.min(off + align4(len), end));
      if (out.readUInt16LE(off + 2) & NLA_F_NESTED) walk(off + 4, off + len);
      off += align4(len);
    }
  };
  for (const m of parseMessages(out)) walk(m.payload + 4, m.end);
  return out;
}

/**
 * Checks a fixture both ways: decode(hex) equals the JSON, encode(JSON) equals the hex (datagrams
 * listed in the JSON's `stalePadding` with their padding zeroed). With GOLDEN_UPDATE=1 the JSON is
 * first rewritten from the capture, keeping its `note` and `stalePadding` (review the diff).
 */
export function checkGolden(fam: GoldenFamily, name: string): void {
  const hex = readHex(name);
  expect(hex.comments.join('\n')).toMatch(/kernel: Linux \d+\.\d+/);
  expect(hex.comments.join('\n')).toMatch(/capture: nlmon/);
  const decoded = hex.datagrams.map((d) => decodeDatagram(fam, d.direction, d.bytes));
  if (process.env.GOLDEN_UPDATE) {
    let previous: Record<string, unknown> = {};
    try {
      previous = readJson(name);
    } catch { /* first time */ }
    const doc = {
      comment: hex.comments,
      ...(previous.note ? { note: previous.note } : {}),
      ...(previous.stalePadding ? { stalePadding: previous.stalePadding } : {}),
      datagrams: decoded,
    };
    writeFileSync(join(goldenDir, `${name}.json`), `${toJson(doc)}\n`);
  }
  const json = readJson(name) as { datagrams: GoldenDatagram[]; stalePadding?: number[] };
  expect(fromJson(toJson(decoded))).toEqual(json.datagrams);
  json.datagrams.forEach((d, i) => {
    const wire = json.stalePadding?.includes(i) ? zeroPadding(hex.datagrams[i]!.bytes) : hex.datagrams[i]!.bytes;
    expect(encodeDatagram(fam, d).toString('hex'), `${name} datagram ${i}`).toBe(wire.toString('hex'));
  });
}
