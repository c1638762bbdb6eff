import { DecodeError } from './errors';
import { align4, nulString } from './header';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK } from '../uapi/netlink';
import { addressLength, formatAddressAt, writeAddress } from './address';

/**
 * Wire types an attribute can have. Byte order is part of the type: `u16` is host order (as
 * netlink's own fields are), `be16` network order.
 * @category Advanced protocol
 */
export type AttrType =
  | 'u8' | 'u16' | 'u32' | 'u64' | 's32'
  | 'be16' | 'be32' | 'be64'
  /** NUL-terminated string. */
  | 'string'
  /** Raw bytes. */
  | 'binary'
  /** No payload: presence means true. */
  | 'flag'
  /** An address as text; its family comes from a sibling attribute or a fixed family. */
  | 'addr'
  /** Nested attributes described by another schema. */
  | 'nested'
  /** A list of nested items, each an attribute with id `itemId` (e.g. IPSET_ATTR_ADT holding IPSET_ATTR_DATA). */
  | 'list'
  /** A fixed C struct of u32 fields in host order. */
  | 'struct32';

/** One attribute, as it reads in the kernel header plus type facts. @category Advanced protocol */
export interface AttrSpec {
  /** The kernel's name, verbatim (`IPVS_SVC_ATTR_PORT`). */
  nla: string;
  /** The kernel's number for it. */
  id: number;
  /** Wire type of the payload. */
  type: AttrType;
  /** What the attribute means, in a sentence. */
  doc: string;
  /** Sets NLA_F_NET_BYTEORDER on the wire (ipset demands it on its numbers). */
  netByteOrder?: boolean;
  /** For `nested` and `list`: the schema of the inside. */
  nested?: Schema;
  /** For `list`: the attribute id of each item. */
  itemId?: number;
  /** For `addr`: the key of the sibling attribute that holds the address family (AF_INET/AF_INET6)... */
  familyFrom?: string;
  /** ...or a fixed length on the wire: 16 pads IPv4 into `union nf_inet_addr` as the kernel sends it. */
  addrLen?: 16;
  /** For `struct32`: the field names, in order. */
  fields?: readonly string[];
  /** For `string`: false writes it without the NUL terminator (as iproute2 writes IFLA_INFO_KIND); decoding takes either. */
  nul?: false;
}

/** A declarative table of a family's attributes, keyed by friendly names. @category Advanced protocol */
export interface Schema {
  /** The schema's name, used in decode error paths: `'ipvs.service'`. */
  name: string;
  /** Set NLA_F_NESTED on nests written from this schema (ipset requires it; IPVS tools do not send it). */
  nestFlag: boolean;
  /** The specs by friendly name (`port`, `stats64`). */
  attrs: Record<string, AttrSpec>;
  /** The same specs by attribute id. */
  byId: Map<number, [string, AttrSpec]>;
}

/** Builds a schema; ids come from the generated UAPI constants, looked up by `nla`. */
export function defineSchema(
  name: string,
  uapi: Record<string, unknown>,
  attrs: Record<string, Omit<AttrSpec, 'id'>>,
  options: { nestFlag?: boolean } = {},
): Schema {
  const full: Record<string, AttrSpec> = {};
  const byId = new Map<number, [string, AttrSpec]>();
  for (const [key, spec] of Object.entries(attrs)) {
    const id = uapi[spec.nla];
    if (typeof id !== 'number') throw new Error(`schema ${name}: ${spec.nla} is not in the UAPI headers`);
    const s: AttrSpec = { ...spec, id };
    full[key] = s;
    byId.set(id, [key, s]);
  }
  return { name, nestFlag: options.nestFlag ?? false, attrs: full, byId };
}

/** An attribute this library does not know, kept to be re-emitted unchanged. */
export interface UnknownAttr {
  id: number;
  flags: number;
  bytes: Buffer;
}

/** Decoded attributes: friendly keys, plus `unknown` for what the schema lacks. */
export type AttrRecord = Record<string, unknown> & { unknown?: UnknownAttr[] };


function fixedSize(type: AttrType): number {
  switch (type) {
    case 'u8': return 1;
    case 'u16': case 'be16': return 2;
    case 'u32': case 's32': case 'be32': return 4;
    case 'u64': case 'be64': return 8;
    case 'flag': return 0;
    default: return -1;
  }
}

function addrFamily(spec: AttrSpec, rec: AttrRecord): number | undefined {
  return spec.familyFrom ? (rec[spec.familyFrom] as number | undefined) : undefined;
}

/** Payload length (unpadded) of one attribute's value. */
function payloadSize(spec: AttrSpec, rec: AttrRecord, value: unknown, path: string): number {
  const n = fixedSize(spec.type);
  if (n >= 0) return n;
  switch (spec.type) {
    case 'string':
      return Buffer.byteLength(String(value)) + (spec.nul === false ? 0 : 1);
    case 'binary':
      return (value as Uint8Array).length;
    case 'addr': {
      const n = addressLength(value as string, addrFamily(spec, rec));
      return spec.addrLen && n < spec.addrLen ? spec.addrLen : n;
    }
    case 'nested':
      return recordSize(spec.nested!, value as AttrRecord, `${path}.${spec.nested!.name}`);
    case 'list': {
      let total = 0;
      for (const item of value as AttrRecord[]) total += 4 + align4(recordSize(spec.nested!, item, path));
      return total;
    }
    case 'struct32':
      return 4 * spec.fields!.length;
    default:
      throw new TypeError(`${path}: unsupported attribute type ${spec.type}`);
  }
}

/** Bytes that a record of attributes takes on the wire (each attribute padded). */
export function recordSize(schema: Schema, rec: AttrRecord, path = schema.name): number {
  let total = 0;
  for (const key in rec) {
    if (key === 'unknown') continue;
    const spec = schema.attrs[key];
    const value = rec[key];
    if (value === undefined || value === false) continue;
    if (!spec) throw new TypeError(`${path}: unknown attribute key '${key}'`);
    total += 4 + align4(payloadSize(spec, rec, value, path));
  }
  for (const u of rec.unknown ?? []) total += 4 + align4(u.bytes.length);
  return total;
}

/** Writes a record's attributes at `off`; returns the offset after them. Padding is zeroed. */
export function writeRecord(buf: Buffer, off: number, schema: Schema, rec: AttrRecord): number {
  for (const key in rec) {
    if (key === 'unknown') continue;
    const value = rec[key];
    if (value === undefined || value === false) continue;
    off = writeAttr(buf, off, schema, schema.attrs[key]!, rec, value);
  }
  for (const u of rec.unknown ?? []) {
    buf.writeUInt16LE(4 + u.bytes.length, off);
    buf.writeUInt16LE(u.id | u.flags, off + 2);
    u.bytes.copy(buf, off + 4);
    off = zeroPad(buf, off + 4 + u.bytes.length);
  }
  return off;
}

function zeroPad(buf: Buffer, end: number): number {
  const padded = align4(end);
  if (padded > end) buf.fill(0, end, padded);
  return padded;
}

function writeAttr(buf: Buffer, off: number, schema: Schema, spec: AttrSpec, rec: AttrRecord, value: unknown): number {
  const start = off;
  let type = spec.id;
  if (spec.netByteOrder) type |= NLA_F_NET_BYTEORDER;
  if ((spec.type === 'nested' || spec.type === 'list') && schema.nestFlag) type |= NLA_F_NESTED;
  buf.writeUInt16LE(type, off + 2);
  let p = off + 4;
  switch (spec.type) {
    case 'u8': buf.writeUInt8(value as number, p); p += 1; break;
    case 'u16': buf.writeUInt16LE(value as number, p); p += 2; break;
    case 'u32': buf.writeUInt32LE((value as number) >>> 0, p); p += 4; break;
    case 's32': buf.writeInt32LE(value as number, p); p += 4; break;
    case 'u64': buf.writeBigUInt64LE(BigInt(value as bigint), p); p += 8; break;
    case 'be16': buf.writeUInt16BE(value as number, p); p += 2; break;
    case 'be32': buf.writeUInt32BE((value as number) >>> 0, p); p += 4; break;
    case 'be64': buf.writeBigUInt64BE(BigInt(value as bigint), p); p += 8; break;
    case 'flag': break;
    case 'string': p += buf.write(String(value), p); if (spec.nul !== false) buf[p++] = 0; break;
    case 'binary': buf.set(value as Uint8Array, p); p += (value as Uint8Array).length; break;
    case 'addr': {
      const n = writeAddress(buf, p, value as string, addrFamily(spec, rec));
      // the kernel's union nf_inet_addr: IPv4 padded to 16 bytes with zeros
      if (spec.addrLen && n < spec.addrLen) buf.fill(0, p + n, p + spec.addrLen);
      p += Math.max(n, spec.addrLen ?? 0);
      break;
    }
    case 'nested': p = writeRecord(buf, p, spec.nested!, value as AttrRecord); break;
    case 'list': {
      const itemType = spec.itemId! | (spec.nested!.nestFlag ? NLA_F_NESTED : 0);
      for (const item of value as AttrRecord[]) {
        const itemStart = p;
        buf.writeUInt16LE(itemType, p + 2);
        p = writeRecord(buf, p + 4, spec.nested!, item);
        buf.writeUInt16LE(p - itemStart, itemStart);
      }
      break;
    }
    case 'struct32': {
      const v = value as Record<string, number>;
      for (const f of spec.fields!) { buf.writeUInt32LE((v[f] ?? 0) >>> 0, p); p += 4; }
      break;
    }
  }
  // nla_len counts the payload without padding; nests are patched once their contents are written.
  buf.writeUInt16LE(p - start, start);
  return zeroPad(buf, p);
}

/**
 * The attributes in `buf[start, end)` as [id, start, end of its payload] (unpadded), in order;
 * stops at a malformed header. For reading back messages the encoders wrote (the batch's fast
 * paths learn their templates from them), not for what the kernel sends.
 */
export function attrSpans(buf: Buffer, start: number, end: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let a = start; a + 4 <= end;) {
    const len = buf.readUInt16LE(a);
    if (len < 4) break;
    out.push([buf.readUInt16LE(a + 2) & NLA_TYPE_MASK, a, a + len]);
    a += (len + 3) & ~3;
  }
  return out;
}

/** The nla_len of the attribute at `off` in `buf[.., end)`, checked: DecodeError when it does not fit. */
export function attrLength(buf: Buffer, off: number, end: number, path: string): number {
  if (end - off < 4) throw new DecodeError(path, `${end - off} trailing bytes, shorter than an attribute header`);
  const len = buf.readUInt16LE(off);
  if (len < 4) throw new DecodeError(path, `attribute length ${len} < 4`);
  if (off + len > end) throw new DecodeError(path, `attribute length ${len} runs past the end (${end - off} bytes left)`);
  return len;
}

/**
 * Decodes the attributes in `buf[off, end)` with a schema. Unknown attributes go to `unknown`.
 * Addresses are decoded after their siblings, since their family may come from one; `family`
 * is the fallback when that sibling is absent (older kernels send no IPVS_DEST_ATTR_ADDR_FAMILY).
 */
export function decodeRecord(
  buf: Buffer, off: number, end: number, schema: Schema, path = schema.name, family?: number,
): AttrRecord {
  if (off > end) throw new DecodeError(path, `attributes start ${off - end} bytes past the end of the message (shorter than its fixed header)`);
  const rec: AttrRecord = {};
  let addrs: [string, AttrSpec, number, number][] | undefined;
  while (off < end) {
    const len = attrLength(buf, off, end, path);
    const rawType = buf.readUInt16LE(off + 2);
    const id = rawType & NLA_TYPE_MASK;
    const entry = schema.byId.get(id);
    const p = off + 4;
    const q = off + len;
    if (!entry) {
      (rec.unknown ??= []).push({ id, flags: rawType & ~NLA_TYPE_MASK, bytes: Buffer.from(buf.subarray(p, q)) });
    } else {
      const [key, spec] = entry;
      if (spec.type === 'addr') {
        // Keep the key at its wire position (so re-encoding keeps the order); the value comes below.
        rec[key] = undefined;
        (addrs ??= []).push([key, spec, p, q]);
      } else rec[key] = decodeValue(buf, p, q, spec, path, key, family);
    }
    off += align4(len);
  }
  if (addrs) {
    for (const [key, spec, p, q] of addrs) {
      const sibling = spec.familyFrom ? (rec[spec.familyFrom] as number | undefined) : undefined;
      rec[key] = formatAddressAt(buf, p, q, sibling ?? (spec.familyFrom ? family : undefined), path, key);
    }
  }
  return rec;
}

function need(len: number, n: number, path: string): void {
  if (len < n) throw new DecodeError(path, `attribute length ${len} < ${n}`);
}

// The path of the attribute (`${parent}.${key}`) is built only where it is needed (errors, nests):
// a dump of 50,000 destinations decodes about a million attributes.
function decodeValue(buf: Buffer, p: number, q: number, spec: AttrSpec, parent: string, key: string, family?: number): unknown {
  const len = q - p;
  const n = fixedSize(spec.type);
  if (n > 0 && len < n) need(len, n, `${parent}.${key}`);
  switch (spec.type) {
    case 'u8': return buf.readUInt8(p);
    case 'u16': return buf.readUInt16LE(p);
    case 'u32': return buf.readUInt32LE(p);
    case 's32': return buf.readInt32LE(p);
    case 'u64': return buf.readBigUInt64LE(p);
    case 'be16': return buf.readUInt16BE(p);
    case 'be32': return buf.readUInt32BE(p);
    case 'be64': return buf.readBigUInt64BE(p);
    case 'flag': return true;
    case 'string': return nulString(buf, p, q);
    case 'binary': return Buffer.from(buf.subarray(p, q));
    case 'nested': return decodeRecord(buf, p, q, spec.nested!, `${parent}.${key}`, family);
    case 'list': {
      const path = `${parent}.${key}`;
      const items: AttrRecord[] = [];
      let o = p;
      while (o < q) {
        if (q - o < 4) throw new DecodeError(path, `${q - o} trailing bytes in list`);
        const l = buf.readUInt16LE(o);
        if (l < 4 || o + l > q) throw new DecodeError(path, `list item length ${l} out of bounds`);
        items.push(decodeRecord(buf, o + 4, o + l, spec.nested!, `${path}[${items.length}]`, family));
        o += align4(l);
      }
      return items;
    }
    case 'struct32': {
      need(len, 4 * spec.fields!.length, `${parent}.${key}`);
      const out: Record<string, number> = {};
      spec.fields!.forEach((f, i) => { out[f] = buf.readUInt32LE(p + 4 * i); });
      return out;
    }
    default:
      throw new DecodeError(`${parent}.${key}`, `unsupported attribute type ${spec.type}`);
  }
}

