/**
 * ipset operations as data: each builder checks its input (TypeError/RangeError before anything
 * is sent) and returns {@link Operation}s that a single call or a batch can carry. Every message
 * is `(NFNL_SUBSYS_IPSET << 8) | IPSET_CMD_*` with an nfgenmsg header and IPSET_ATTR_PROTOCOL first,
 * as the kernel demands (ip_set_core.c: protocol_min_failed).
 *
 * `proto` is the negotiated protocol version ({@link protocolOp}); `type` (the set's type, when
 * known) names type-specific error codes and shapes entries.
 */
import { decodeRecord, recordSize, type AttrRecord } from '../netlink/attr';
import type { OutMessage } from '../netlink/message';
import { NetlinkError } from '../netlink/errors';
import type { Operation } from '../netlink/operation';
import type { MessageOutcome } from '../netlink/protocol';
import { align4 } from '../netlink/header';
import { ipsetSchemaFor, ipsetSchemas } from '../schema/ipset';
import { NFNETLINK_V0, NFNL_SUBSYS_IPSET, SIZEOF_NFGENMSG } from '../uapi/nfnetlink';
import { NFPROTO_IPV4 } from '../uapi/netfilter';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, SIZEOF_NLMSGHDR } from '../uapi/netlink';
import {
  IPSET_CMD_ADD, IPSET_CMD_CREATE, IPSET_CMD_DEL, IPSET_CMD_DESTROY, IPSET_CMD_FLUSH, IPSET_CMD_HEADER, IPSET_CMD_LIST,
  IPSET_CMD_PROTOCOL, IPSET_CMD_RENAME, IPSET_CMD_SWAP, IPSET_CMD_TEST, IPSET_CMD_TYPE, IPSET_FLAG_LIST_HEADER, IPSET_PROTOCOL,
} from '../uapi/ipset';
import { checkSetName, entryAttrs, formatEntry, type IpsetEntry } from './entry';
import { createDataAttrs, createFamily, toSet, type IpsetCreateOptions, type IpsetFamily, type IpsetSet } from './set';
import { IpsetEntryError, ipsetErrorCode, ipsetErrorMeaning } from './errors';
import { decodeSets } from './list-decode';
import { quote } from '../validate';

/** nlmsg_type of an ipset command. */
export function ipsetMessageType(cmd: number): number {
  return (NFNL_SUBSYS_IPSET << 8) | cmd;
}

/** The nfgenmsg header: the ipset tool always sends NFPROTO_IPV4 here; the family that matters is IPSET_ATTR_FAMILY. */
export function nfgenmsg(): Buffer {
  const b = Buffer.alloc(SIZEOF_NFGENMSG);
  b[0] = NFPROTO_IPV4;
  b[1] = NFNETLINK_V0;
  return b; // res_id 0
}

function message(cmd: number, attrs: AttrRecord, flags = 0): OutMessage {
  return { type: ipsetMessageType(cmd), flags, fixed: nfgenmsg(), schema: ipsetSchemaFor(cmd), attrs };
}

/** The attributes of each reply of an ipset GET or dump. */
function replyRecords(replies: Buffer, outcome: MessageOutcome, cmd: number): AttrRecord[] {
  const schema = ipsetSchemaFor(cmd, 'reply');
  return outcome.replies.map((r) => decodeRecord(replies, r.payload + align4(SIZEOF_NFGENMSG), r.end, schema, 'ipset'));
}

/** A refusal in ipset's terms: the IPSET_ERR_* code and the tool's meaning, about `what`. */
function refuser(op: string, cmd: number, what: string, type?: string) {
  return (_replies: Buffer, outcome: MessageOutcome, index: number | undefined): NetlinkError => {
    const code = ipsetErrorCode(outcome.errno, type);
    const meaning = ipsetErrorMeaning(code, cmd, type);
    return new NetlinkError({
      code, errno: outcome.errno, op,
      ...(index !== undefined && { index }),
      ...(outcome.extack && { extack: outcome.extack }),
      ...(meaning && { detail: `${what}: ${meaning}` }),
    });
  };
}

/** Negotiated protocol: what the kernel speaks (IPSET_ATTR_PROTOCOL) and the oldest it accepts. */
export interface IpsetProtocolInfo {
  protocol: number;
  protocolMin: number;
}

/** IPSET_CMD_PROTOCOL: offers this library's protocol (IPSET_PROTOCOL) and reads the kernel's. */
export function protocolOp(): Operation<IpsetProtocolInfo> {
  const op = 'ipset.protocol';
  return {
    op,
    message: message(IPSET_CMD_PROTOCOL, { protocol: IPSET_PROTOCOL }),
    refuse: refuser(op, IPSET_CMD_PROTOCOL, 'protocol negotiation'),
    decode: (replies, outcome) => {
      const rec = replyRecords(replies, outcome, IPSET_CMD_PROTOCOL)[0];
      if (!rec || rec.protocol === undefined) throw new NetlinkError({ code: 'EPROTO', errno: -71, op, detail: 'the kernel sent no protocol version' });
      const protocol = rec.protocol as number;
      return { protocol, protocolMin: (rec.protocolMin as number | undefined) ?? protocol };
    },
  };
}

/** The protocol to speak with a kernel: the lower of ours and its, if it still accepts that. */
export function negotiate(kernel: IpsetProtocolInfo): number {
  const p = Math.min(IPSET_PROTOCOL, kernel.protocol);
  if (p < kernel.protocolMin) {
    throw new NetlinkError({
      code: 'IPSET_ERR_PROTOCOL', errno: -4097, op: 'ipset.protocol',
      detail: `the kernel speaks ipset protocol ${kernel.protocolMin}-${kernel.protocol}, this library ${IPSET_PROTOCOL}`,
    });
  }
  return p;
}

/** Revisions of a set type the kernel has. @category ipset */
export interface IpsetTypeRevisions {
  /** The newest revision (IPSET_ATTR_REVISION): what `ipset create` uses unless told otherwise. */
  revision: number;
  /** The oldest revision (IPSET_ATTR_REVISION_MIN); 0 when the kernel does not say. */
  revisionMin: number;
}

/** IPSET_CMD_TYPE: the newest and oldest revision of `type` in the kernel (it loads the module on demand). */
export function typeOp(proto: number, type: string, family?: IpsetFamily): Operation<IpsetTypeRevisions> {
  const op = 'ipset.typeRevisions';
  if (typeof type !== 'string' || !/^[a-z]+:[a-z,]+$/.test(type)) throw new TypeError(`${op}: ${quote(type)} is not a set type name such as hash:ip`);
  return {
    op,
    // the family the set would have, as the ipset tool asks (NFPROTO_UNSPEC for hash:mac, bitmap:port, list:set)
    message: message(IPSET_CMD_TYPE, { protocol: proto, typename: type, family: createFamily(type, family ? { family } : {}, op) }),
    refuse: refuser(op, IPSET_CMD_TYPE, `set type ${type}`, type),
    decode: (replies, outcome) => {
      const rec = replyRecords(replies, outcome, IPSET_CMD_TYPE)[0];
      if (!rec || rec.revision === undefined) throw new NetlinkError({ code: 'EPROTO', errno: -71, op, detail: `the kernel sent no revision for ${type}` });
      return { revision: rec.revision as number, revisionMin: (rec.revisionMin as number | undefined) ?? 0 };
    },
  };
}

/** Options shared by the changing commands. @category ipset */
export interface IpsetExistOptions {
  /** `ipset -exist`: no error when the set or entry already exists (create, add) or is already gone (del). */
  exist?: boolean;
}

/**
 * IPSET_CMD_CREATE with revision `revision` (ask the kernel with {@link typeOp}). Equivalent to
 * `ipset create NAME TYPE OPTIONS`. With `exist`, an identical existing set is not an error.
 */
export function createOp(proto: number, name: string, type: string, revision: number, options: IpsetCreateOptions & IpsetExistOptions = {}): Operation {
  const op = 'ipset.create';
  checkSetName(name, 'name', op);
  if (typeof type !== 'string' || !/^[a-z]+:[a-z,]+$/.test(type)) throw new TypeError(`${op}: ${quote(type)} is not a set type name such as hash:ip`);
  if (!Number.isInteger(revision) || revision < 0 || revision > 255) throw new RangeError(`${op}: revision must be 0-255, got ${quote(revision)}`);
  const family = createFamily(type, options, op);
  const data = createDataAttrs(type, options, op);
  return {
    op,
    message: message(IPSET_CMD_CREATE, { protocol: proto, setname: name, typename: type, revision, family, data },
      NLM_F_CREATE | (options.exist ? 0 : NLM_F_EXCL)),
    refuse: refuser(op, IPSET_CMD_CREATE, `set ${name} (${type})`, type),
  };
}

function nameOp(cmd: number, op: string, proto: number, name: string | undefined): Operation {
  if (name !== undefined) checkSetName(name, 'name', op);
  return {
    op,
    message: message(cmd, name === undefined ? { protocol: proto } : { protocol: proto, setname: name }),
    refuse: refuser(op, cmd, name === undefined ? 'all sets' : `set ${name}`),
  };
}

/** IPSET_CMD_DESTROY: `ipset destroy NAME`, or every set (not referenced) without a name. */
export function destroyOp(proto: number, name?: string): Operation {
  return nameOp(IPSET_CMD_DESTROY, 'ipset.destroy', proto, name);
}

/** IPSET_CMD_FLUSH: `ipset flush NAME`, or every set without a name. */
export function flushOp(proto: number, name?: string): Operation {
  return nameOp(IPSET_CMD_FLUSH, 'ipset.flush', proto, name);
}

function twoNames(cmd: number, op: string, proto: number, a: string, b: string): Operation {
  checkSetName(a, 'first name', op);
  checkSetName(b, 'second name', op);
  return {
    op,
    message: message(cmd, { protocol: proto, setname: a, setname2: b }),
    refuse: refuser(op, cmd, cmd === IPSET_CMD_RENAME ? `rename ${a} to ${b}` : `swap ${a} and ${b}`),
  };
}

/** IPSET_CMD_RENAME: `ipset rename FROM TO`. */
export function renameOp(proto: number, from: string, to: string): Operation {
  return twoNames(IPSET_CMD_RENAME, 'ipset.rename', proto, from, to);
}

/** IPSET_CMD_SWAP: `ipset swap A B` (their contents and types trade names atomically). */
export function swapOp(proto: number, a: string, b: string): Operation {
  return twoNames(IPSET_CMD_SWAP, 'ipset.swap', proto, a, b);
}

/** IPSET_CMD_HEADER: type, revision and family of a set (no counts; {@link listOp} with `headerOnly` has those). */
export function headerOp(proto: number, name: string): Operation<IpsetSet> {
  const op = 'ipset.header';
  checkSetName(name, 'name', op);
  return {
    op,
    message: message(IPSET_CMD_HEADER, { protocol: proto, setname: name }),
    refuse: refuser(op, IPSET_CMD_HEADER, `set ${name}`),
    decode: (replies, outcome) => {
      const rec = replyRecords(replies, outcome, IPSET_CMD_HEADER)[0];
      if (!rec) throw new NetlinkError({ code: 'EPROTO', errno: -71, op, detail: `the kernel sent no header for ${name}` });
      return toSet(rec);
    },
  };
}

/** Options of {@link Ipset.listAll} (`ipset list`). @category ipset */
export interface IpsetListOptions {
  /** Only headers, no entries (`ipset list -t`). */
  headerOnly?: boolean;
}

/**
 * IPSET_CMD_LIST as a dump: one set, or every set without a name. A set split over many dump
 * messages (each after the first repeats only its name and carries more entries) comes back whole.
 */
export function listOp(proto: number, name?: string, options: IpsetListOptions = {}): Operation<IpsetSet[]> {
  const op = 'ipset.list';
  if (name !== undefined) checkSetName(name, 'name', op);
  const attrs: AttrRecord = { protocol: proto };
  if (name !== undefined) attrs.setname = name;
  if (options.headerOnly) attrs.flags = IPSET_FLAG_LIST_HEADER;
  return {
    op,
    message: message(IPSET_CMD_LIST, attrs, NLM_F_DUMP),
    refuse: refuser(op, IPSET_CMD_LIST, name === undefined ? 'all sets' : `set ${name}`),
    decode: (replies, outcome) => decodeSets(replies, outcome, options.headerOnly ?? false),
  };
}

/** Options of {@link addOps} and {@link delOps}. */
export interface IpsetBulkOptions extends IpsetExistOptions {
  /** The set's type, when known: names type-specific errors, drops fields the type has no place for. */
  type?: string;
  /** Largest message, bytes (the ADT nest's 16-bit length caps it near 64 KiB). Default 65536. */
  maxMessageBytes?: number;
  /** Index of `entries[0]` in the caller's list, for error reports. Default 0. */
  firstIndex?: number;
}

const ADT_SIZE_LIMIT = 65536;

function entryText(type: string | undefined, e: IpsetEntry): string {
  return type ? formatEntry(type, e) : JSON.stringify(e);
}

/** The failing line of an ipset bulk refusal: the kernel writes it into the echoed request's IPSET_ATTR_LINENO. */
export function failedLine(replies: Buffer, outcome: MessageOutcome): number | undefined {
  const r = outcome.errorReply;
  if (!r) return undefined;
  const echo = r.payload + 4;
  if (r.end - echo <= SIZEOF_NLMSGHDR) return undefined; // capped: only the header came back
  const len = replies.readUInt32LE(echo);
  const attrs = echo + SIZEOF_NLMSGHDR + align4(SIZEOF_NFGENMSG);
  const end = Math.min(echo + len, r.end);
  if (attrs > end) return undefined;
  try {
    const rec = decodeRecord(replies, attrs, end, ipsetSchemas.adt, 'ipset.echo');
    const line = rec.lineno as number | undefined;
    return line ? line : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bulk IPSET_CMD_ADD / DEL: entries packed into as few messages as fit `maxMessageBytes`, each in
 * the kernel's bulk form (IPSET_ATTR_ADT holding one IPSET_ATTR_DATA per entry, each with its line
 * number, and IPSET_ATTR_LINENO so a refusal names the entry). One entry travels as plain
 * IPSET_ATTR_DATA, as `ipset add` sends it.
 *
 * A refusal is an {@link IpsetEntryError} naming the entry; entries before it in its message were
 * applied, none after. Send the messages in order and stop at the first refusal (`stopOnError`,
 * one message per chunk) to keep "everything before was applied, nothing after" true across
 * messages.
 */
function adtOps(cmd: number, op: string, proto: number, name: string, entries: readonly IpsetEntry[], options: IpsetBulkOptions): Operation[] {
  checkSetName(name, 'name', op);
  if (!Array.isArray(entries)) throw new TypeError(`${op}: entries must be an array`);
  const { type } = options;
  const first = options.firstIndex ?? 0;
  const limit = options.maxMessageBytes ?? ADT_SIZE_LIMIT;
  if (!Number.isInteger(limit) || limit < 256 || limit > ADT_SIZE_LIMIT) throw new RangeError(`${op}: maxMessageBytes must be 256-${ADT_SIZE_LIMIT}`);
  const flags = options.exist ? 0 : NLM_F_EXCL;
  const records = entries.map((e, i) => {
    try {
      return entryAttrs(e, op, type);
    } catch (err) {
      if (err instanceof Error) err.message = `${err.message} (entry #${first + i})`;
      throw err;
    }
  });
  const ops: Operation[] = [];
  if (records.length === 1) {
    const rec = records[0]!;
    rec.lineno = 0;
    ops.push(bulkOp(cmd, op, message(cmd, { protocol: proto, setname: name, data: rec }, flags), name, entries, first, 0, 1, type));
    return ops;
  }
  const adtSchema = ipsetSchemas.adtData;
  const base = SIZEOF_NLMSGHDR + align4(SIZEOF_NFGENMSG) + 8 + 4 + align4(Buffer.byteLength(name) + 1) + 8 + 4;
  let start = 0;
  while (start < records.length) {
    let size = base;
    let end = start;
    while (end < records.length) {
      const rec = records[end]!;
      rec.lineno = first + end + 1;
      const s = 4 + recordSize(adtSchema, rec);
      if (end > start && size + s > limit) break;
      size += s;
      end++;
    }
    const adt = records.slice(start, end);
    const msg = message(cmd, { protocol: proto, setname: name, lineno: first + start + 1, adt }, flags);
    ops.push(bulkOp(cmd, op, msg, name, entries, first, start, end, type));
    start = end;
  }
  return ops;
}

function bulkOp(cmd: number, op: string, msg: OutMessage, name: string, entries: readonly IpsetEntry[], first: number,
  start: number, end: number, type: string | undefined): Operation {
  return {
    op,
    message: msg,
    refuse: (replies, outcome, index) => {
      const code = ipsetErrorCode(outcome.errno, type);
      const meaning = ipsetErrorMeaning(code, cmd) ?? 'the kernel refused it';
      const line = failedLine(replies, outcome);
      let at: number | undefined;
      if (line !== undefined && line >= first + start + 1 && line <= first + end) at = line - 1 - first;
      else if (end - start === 1 && code !== 'ENOENT' && code !== 'IPSET_ERR_PROTOCOL') at = start;
      const common = {
        code, errno: outcome.errno, op,
        ...(index !== undefined && { index }),
        ...(outcome.extack && { extack: outcome.extack }),
      };
      if (at === undefined) return new NetlinkError({ ...common, detail: `set ${name}: ${meaning}` });
      const text = entryText(type, entries[at]!);
      const entryIndex = first + at;
      const verb = cmd === IPSET_CMD_DEL ? 'deleted' : 'added';
      const before = entryIndex === 0 ? 'nothing was' : entryIndex === 1 ? 'the entry before it was' : `the ${entryIndex} entries before it were`;
      return new IpsetEntryError({
        ...common,
        detail: `set ${name}, entry #${entryIndex} (${text}): ${meaning}; ${before} ${verb}, none after it`,
        entryIndex, entryText: text, applied: entryIndex,
      });
    },
  };
}

/** `ipset add NAME ENTRY...` in bulk; see {@link adtOps}. */
export function addOps(proto: number, name: string, entries: readonly IpsetEntry[], options: IpsetBulkOptions = {}): Operation[] {
  return adtOps(IPSET_CMD_ADD, 'ipset.add', proto, name, entries, options);
}

/** `ipset del NAME ENTRY...` in bulk; with `exist`, entries already gone are not errors. */
export function delOps(proto: number, name: string, entries: readonly IpsetEntry[], options: IpsetBulkOptions = {}): Operation[] {
  return adtOps(IPSET_CMD_DEL, 'ipset.del', proto, name, entries, options);
}

/**
 * IPSET_CMD_TEST of one entry (the kernel tests one per message). Acknowledged: it is in the set;
 * refused with IPSET_ERR_EXIST: it is not (a `nomatch` entry tests as not in the set).
 */
export function testOp(proto: number, name: string, entry: IpsetEntry, type?: string): Operation<boolean> {
  const op = 'ipset.test';
  checkSetName(name, 'name', op);
  const data = entryAttrs(entry, op, type);
  const refuse = refuser(op, IPSET_CMD_TEST, `set ${name}`, type);
  return {
    op,
    message: message(IPSET_CMD_TEST, { protocol: proto, setname: name, data }),
    refuse: (replies, outcome, index) => {
      const e = refuse(replies, outcome, index);
      if (e.code !== 'IPSET_ERR_EXIST') return e;
      return new NetlinkError({ code: e.code, errno: e.errno, op, ...(index !== undefined && { index }), detail: `${entryText(type, entry)} is not in set ${name}` });
    },
    decode: () => true,
  };
}

