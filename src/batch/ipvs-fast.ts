/**
 * The IPVS fast path of a batch. Tens of thousands of destinations would otherwise each build an
 * attribute record and run through the schema encoder, which is most of a large commit's
 * JavaScript time (several times slower again inside a VM).
 *
 * Nothing here knows the wire format on its own: templates are the op builders' own output for
 * a sample, and the values are patched in at the offsets found there. Validation stays the
 * builders': a service key or a service's settings are checked by them the first time they are
 * seen, and anything the fast path does not handle (IPv6 real servers, tunnels, invalid input)
 * goes to them whole. Unit tests compare the bytes with the builders' for many inputs.
 *
 * @module
 * @internal
 */
import { attrSpans, writeRecord, recordSize } from '../netlink/attr';
import { dottedQuad, parseIPv4 } from '../netlink/address';
import type { GenlFamily } from '../netlink/genl';
import { encodeMessages } from '../netlink/message';
import type { Operation } from '../netlink/operation';
import { ipvsCmd, ipvsDest, ipvsService } from '../schema/ipvs';
import {
  IPVS_GENL_NAME, IPVS_GENL_VERSION, IP_VS_CONN_F_BYPASS, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_LOCALNODE, IP_VS_CONN_F_MASQ,
} from '../uapi/ip-vs';
import { AF_INET, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, NLM_F_REQUEST } from '../uapi/netlink';
import * as ops from '../ipvs/ops';
import { serviceKeyAttrs, type IpvsServiceKey, type IpvsServiceOptions } from '../ipvs/service';
import { FORWARDING_NAMES, type IpvsDestinationKey, type IpvsDestinationOptions } from '../ipvs/destination';
import type { BoundFamily, Change, FastMessage } from './change';

export type IpvsKind = 'addService' | 'editService' | 'deleteService' | 'addDestination' | 'editDestination' | 'deleteDestination';

/** Stand-in until the commit resolves the real family: genl ids are assigned at run time. */
export const PROVISIONAL: GenlFamily = {
  name: IPVS_GENL_NAME, id: 0, version: IPVS_GENL_VERSION, hdrsize: 0, maxattr: 0, commands: new Set(), groups: new Map(),
};

export const OP_NAMES: Record<IpvsKind, string> = {
  addService: 'ipvs.addService', editService: 'ipvs.editService', deleteService: 'ipvs.deleteService',
  addDestination: 'ipvs.addDestination', editDestination: 'ipvs.editDestination', deleteDestination: 'ipvs.deleteDestination',
};

/** Absolute offsets of a destination message's values within its template; -1: not carried. */
interface DestOffsets {
  addr: number;
  port: number;
  fwd: number;
  weight: number;
  uThresh: number;
  lThresh: number;
}

/**
 * The genl header and a key nest: the start of every IPVS message of a batch. Byte by byte rather
 * than through Buffer's write methods: a batch's first commit in a process runs before V8 has
 * optimised anything, and there each of those calls (argument checks, bounds checks) cost more
 * than the whole message otherwise (the netlink header is host order: little-endian on every
 * platform with prebuilds).
 */
function writeHead(buf: Buffer, off: number, size: number, seq: number, genlId: number, cmd: number, key: Buffer): void {
  put32(buf, off, size);
  buf[off + 4] = genlId;
  buf[off + 5] = genlId >>> 8;
  buf[off + 6] = NLM_F_REQUEST;
  buf[off + 7] = NLM_F_REQUEST >>> 8;
  put32(buf, off + 8, seq);
  put32(buf, off + 12, 0); // pid
  buf[off + 16] = cmd;
  buf[off + 17] = IPVS_GENL_VERSION;
  buf[off + 18] = 0; // reserved
  buf[off + 19] = 0;
  buf.set(key, off + 20);
}

/** A u32 in host (little-endian) order; typed-array stores keep the low byte of each shift. */
function put32(buf: Buffer, off: number, v: number): void {
  buf[off] = v;
  buf[off + 1] = v >>> 8;
  buf[off + 2] = v >>> 16;
  buf[off + 3] = v >>> 24;
}

/**
 * A queued IPVS change of a service, or a destination change the fast path does not write
 * (IPv6, tunnels, invalid input: the builder checked it and built its operation). A service
 * with a template writes its own message (the op builder's bytes).
 */
export class IpvsChange implements Change, FastMessage {
  generic?: Operation<unknown>;
  private entry: ServiceEntry | undefined;
  /** The settings attributes, when the change writes its own message. */
  private settings: Buffer | undefined;

  constructor(
    readonly kind: IpvsKind,
    readonly service: IpvsServiceOptions | IpvsServiceKey,
    readonly dest?: IpvsDestinationOptions | IpvsDestinationKey,
  ) {}

  /** `'ipvs'`, on the prototype (see {@link FastDestChange.family}). */
  declare readonly family: 'ipvs';

  get op(): string {
    return OP_NAMES[this.kind];
  }

  get subject(): IpvsChange {
    return this;
  }

  /** Itself, when it writes its own message. */
  get fast(): FastMessage | undefined {
    return this.settings === undefined ? undefined : this;
  }

  get size(): number {
    return 20 + this.entry!.keyNest.length + this.settings!.length;
  }

  /** A service message: its key's nest extended with the settings attributes. */
  setService(entry: ServiceEntry, settings: Buffer): void {
    this.entry = entry;
    this.settings = settings;
  }

  write(buf: Buffer, off: number, seq: number, bound: BoundFamily): void {
    const key = this.entry!.keyNest;
    const settings = this.settings!;
    writeHead(buf, off, this.size, seq, bound.genlId, commandOf(this.kind), key);
    buf.set(settings, off + 20 + key.length);
    const nestLen = key.length + settings.length;
    buf[off + 20] = nestLen;
    buf[off + 21] = nestLen >>> 8;
  }
}

/** A weight with thresholds other than 0/0, kept apart: most destinations have none. */
interface Weighted {
  w: number;
  u: number;
  l: number;
}

/** The destination kinds by the code a FastDestChange keeps (bits 3-4 of its `bits`). */
const DEST_KINDS: readonly IpvsKind[] = ['addDestination', 'editDestination', 'deleteDestination'];
const layoutByCode: DestLayout[] = [];

/**
 * A queued IPv4 destination change of an IPv4 service, written from the builder's template. It
 * keeps the values, not the caller's object: a batch holds tens of thousands of these until it
 * commits, and the caller's objects can then die young instead of being copied into the old
 * generation (fresh pages cost a fault each in a VM). Four fields (56 bytes), for the same reason.
 * `service` and `dest` are rebuilt on demand (for undo and for explaining a refusal): the builder
 * writes the same bytes from them.
 */
export class FastDestChange implements Change, FastMessage {
  // `declare`d, assigned only in the constructor: compiled to ES2022 class fields, they would be
  // defined (as undefined) by an initializer run on every construction first, which costs as much
  // as the constructor itself before V8 optimises it (a process's first batch)
  private declare readonly entry: ServiceEntry;
  /** The address as an int32. */
  private declare readonly addr: number;
  /** `port << 8 | kind code << 3 | forwarding code` (IP_VS_CONN_F_FWD_MASK is 7; the code is 0 for deletes). */
  private declare readonly bits: number;
  /** The weight, or the weight with thresholds other than 0/0. */
  private declare readonly wt: number | Weighted;

  constructor(
    entry: ServiceEntry,
    layout: DestLayout,
    addr: number,
    /** `port << 8 | forwarding code`. */
    portFwd: number,
    weight: number,
    u: number,
    l: number,
  ) {
    this.entry = entry;
    this.addr = addr;
    this.bits = portFwd | (layout.code << 3);
    this.wt = u === 0 && l === 0 ? weight : { w: weight, u, l };
  }

  private get layout(): DestLayout {
    return layoutByCode[(this.bits >>> 3) & 3]!;
  }

  /**
   * `'ipvs'`: a value on the prototype rather than a getter. The commit reads it several times per
   * change, and before V8 optimises (a process's first commit) each getter read is a call.
   */
  declare readonly family: 'ipvs';

  get kind(): IpvsKind {
    return DEST_KINDS[(this.bits >>> 3) & 3]!;
  }

  get op(): string {
    return OP_NAMES[this.kind];
  }

  get subject(): FastDestChange {
    return this;
  }

  get fast(): FastMessage {
    return this;
  }

  /** No operation until one is asked for (see {@link buildOp}). */
  get generic(): undefined {
    return undefined;
  }

  /** The service key (the first object queued with this key's text). */
  get service(): IpvsServiceKey {
    return this.entry.key;
  }

  /** The destination, as the caller's values were read when queued. */
  get dest(): IpvsDestinationOptions | IpvsDestinationKey {
    const a = this.addr;
    const address = dottedQuad(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
    const port = this.bits >>> 8;
    if (this.kind === 'deleteDestination') return { address, port };
    const t = this.wt;
    const weighted = typeof t === 'number' ? null : t;
    return {
      address, port, forwarding: FORWARDING_NAMES.get(this.bits & 7)!, weight: weighted ? weighted.w : t as number,
      upperThreshold: weighted ? weighted.u : 0, lowerThreshold: weighted ? weighted.l : 0,
    };
  }

  get size(): number {
    return 20 + this.entry.keyNest.length + layoutByCode[(this.bits >>> 3) & 3]!.nest.length;
  }

  /**
   * Copies the service's template for this kind (header, key nest and destination nest, every
   * value zero) and stores the values byte by byte: few enough operations to stay cheap before
   * V8 has optimised this (a process's first commit), as fast as Buffer's methods after.
   */
  write(buf: Buffer, off: number, seq: number, bound: BoundFamily): void {
    const l = this.layout;
    const t = destTemplate(this.entry, l, bound.genlId);
    buf.set(t, off);
    buf[off + 8] = seq;
    buf[off + 9] = seq >>> 8;
    buf[off + 10] = seq >>> 16;
    buf[off + 11] = seq >>> 24;
    const p = off + t.length - l.nest.length;
    const at = l.at;
    // the destination's values are big-endian (addr, port) or host order (the rest), as the kernel reads them
    const a = this.addr;
    let q = p + at.addr;
    buf[q] = a >>> 24;
    buf[q + 1] = a >>> 16;
    buf[q + 2] = a >>> 8;
    buf[q + 3] = a;
    const bits = this.bits;
    q = p + at.port;
    buf[q] = bits >>> 16;
    buf[q + 1] = bits >>> 8;
    if (at.fwd < 0) return;
    buf[p + at.fwd] = bits & 7; // a u32 whose other bytes the template holds as zero
    const w = this.wt;
    if (typeof w === 'number') {
      put32(buf, p + at.weight, w); // thresholds 0: the template's
    } else {
      put32(buf, p + at.weight, w.w);
      put32(buf, p + at.uThresh, w.u);
      put32(buf, p + at.lThresh, w.l);
    }
  }
}

/**
 * The whole message of a destination change of `entry`'s service for layout `l`, values zero:
 * made on its first use in a commit and kept on the entry (one per kind; a family id other than
 * the one it was made for makes it again).
 */
function destTemplate(entry: ServiceEntry, l: DestLayout, genlId: number): Buffer {
  const cache = entry.templates;
  if (entry.templateGenlId !== genlId) {
    cache.length = 0;
    entry.templateGenlId = genlId;
  }
  let t = cache[l.code];
  if (t !== undefined) return t;
  const key = entry.keyNest;
  // from the shared pool: a small Buffer per service and kind, without an ArrayBuffer of its own
  t = Buffer.allocUnsafe(20 + key.length + l.nest.length);
  writeHead(t, 0, t.length, 0, genlId, l.cmd, key);
  t.set(l.blank, 20 + key.length);
  cache[l.code] = t;
  return t;
}

for (const c of [IpvsChange, FastDestChange]) Object.defineProperty(c.prototype, 'family', { value: 'ipvs' });

/** Either kind of queued IPVS change. */
export type AnyIpvsChange = IpvsChange | FastDestChange;

// ---- templates ------------------------------------------------------------------------------------

/** The generic operation of a change (the builders', with their validation and explanations). */
export function buildOp(f: GenlFamily, c: AnyIpvsChange): Operation {
  switch (c.kind) {
    case 'addService': return ops.addServiceOp(f, c.service as IpvsServiceOptions);
    case 'editService': return ops.editServiceOp(f, c.service as IpvsServiceOptions);
    case 'deleteService': return ops.deleteServiceOp(f, c.service);
    case 'addDestination': return ops.addDestinationOp(f, c.service, c.dest as IpvsDestinationOptions);
    case 'editDestination': return ops.editDestinationOp(f, c.service, c.dest as IpvsDestinationOptions);
    default: return ops.deleteDestinationOp(f, c.service, c.dest!);
  }
}

const SERVICE_ID = ipvsCmd.attrs.service!.id;
const DEST_ID = ipvsCmd.attrs.dest!.id;
const KEY_IDS = new Set(['af', 'protocol', 'addr', 'port', 'fwmark'].map((k) => ipvsService.attrs[k]!.id));
const SAMPLE_SERVICE: IpvsServiceKey = { protocol: 'tcp', address: '10.0.0.1', port: 1 };
const SAMPLE_DEST: IpvsDestinationOptions = { address: '10.0.0.2', port: 2, forwarding: 'masq', weight: 3, upperThreshold: 5, lowerThreshold: 4 };

/** The builder's destination nest for the sample, where its values sit inside it, and the command. */
export interface DestLayout {
  kind: IpvsKind;
  /** Its index in DEST_KINDS (what a FastDestChange keeps instead of the layout). */
  code: number;
  cmd: number;
  nest: Buffer;
  /** The nest with the sample's values zeroed: what a template carries. */
  blank: Buffer;
  at: DestOffsets;
}
const destLayouts = new Map<IpvsKind, DestLayout | null>();

export function destLayout(kind: IpvsKind): DestLayout | null {
  let l = destLayouts.get(kind);
  if (l !== undefined) return l;
  l = null;
  const msg = encodeMessages([buildOp(PROVISIONAL, new IpvsChange(kind, SAMPLE_SERVICE, SAMPLE_DEST)).message], 0);
  const dest = attrSpans(msg, 20, msg.length).find(([id]) => id === DEST_ID);
  if (dest) {
    const nest = Buffer.from(msg.subarray(dest[1], dest[2]));
    const byId = new Map(attrSpans(nest, 4, nest.length).map(([id, a]) => [id, a + 4]));
    const D = ipvsDest.attrs;
    const off = (k: string) => byId.get(D[k]!.id) ?? -1;
    const at = { addr: off('addr'), port: off('port'), fwd: off('fwdMethod'), weight: off('weight'), uThresh: off('uThresh'), lThresh: off('lThresh') };
    const full = kind !== 'deleteDestination';
    const complete = at.addr >= 0 && at.port >= 0 && (!full || (at.fwd >= 0 && at.weight >= 0 && at.uThresh >= 0 && at.lThresh >= 0));
    // A layout the fast path does not understand leaves every destination to the builder.
    if (complete) {
      const used = full ? at : { ...at, fwd: -1, weight: -1, uThresh: -1, lThresh: -1 };
      const blank = Buffer.from(nest);
      blank.fill(0, used.addr, used.addr + 4);
      blank.fill(0, used.port, used.port + 2);
      for (const v of [used.fwd, used.weight, used.uThresh, used.lThresh]) if (v >= 0) blank.fill(0, v, v + 4);
      l = { kind, code: DEST_KINDS.indexOf(kind), cmd: msg[16]!, nest, blank, at: used };
      layoutByCode[l.code] = l;
    }
  }
  destLayouts.set(kind, l);
  return l;
}

/** Per service key: its key nest, validated once by the builders' own check. */
export class ServiceEntry {
  /** Destination message templates by layout code, for {@link templateGenlId} (see destTemplate). */
  readonly templates: (Buffer | undefined)[] = [];
  templateGenlId = -1;

  constructor(
    /** The IPVS_CMD_ATTR_SERVICE attribute holding only the key. */
    readonly keyNest: Buffer,
    readonly af: number,
    /** The first key object queued with this key's text. */
    readonly key: IpvsServiceKey,
  ) {}
}

/** The genl command the builder uses for a kind (read from its sample message). */
const commands = new Map<IpvsKind, number>();
export function commandOf(kind: IpvsKind): number {
  let c = commands.get(kind);
  if (c === undefined) {
    const isDest = kind.endsWith('Destination');
    const sample = isDest ? new IpvsChange(kind, SAMPLE_SERVICE, SAMPLE_DEST) : new IpvsChange(kind, { ...SAMPLE_SERVICE, scheduler: 'rr' });
    c = (buildOp(PROVISIONAL, sample).message.fixed as Uint8Array)[0]!;
    commands.set(kind, c);
  }
  return c;
}

/** A service key as text, the same for equal keys; undefined when a field has an unexpected type. */
export function keyText(k: IpvsServiceKey): string | undefined {
  const a = k as { protocol?: unknown; address?: unknown; port?: unknown; fwmark?: unknown; family?: unknown };
  if ('fwmark' in k) {
    return typeof a.fwmark === 'number' && (a.family === undefined || typeof a.family === 'string')
      ? `f ${a.fwmark} ${a.family ?? 'inet'}` : undefined;
  }
  return typeof a.protocol === 'string' && typeof a.address === 'string' && typeof a.port === 'number'
    ? `${a.protocol} ${a.address} ${a.port}` : undefined;
}

/** Builds the entry of a service key, validating it with the builders' own check (which throws). */
export function serviceEntry(service: IpvsServiceKey, op: string): ServiceEntry {
  const fast = ipv4KeyEntry(service);
  if (fast) return fast;
  const key = serviceKeyAttrs(service, op);
  const rec = { service: key };
  const nest = Buffer.alloc(recordSize(ipvsCmd, rec));
  writeRecord(nest, 0, ipvsCmd, rec);
  if (nest.length > KEY_NEST_MAX) throw new Error(`ipvs: a service key nest of ${nest.length} bytes`);
  return new ServiceEntry(nest, key.af as number, service);
}

/** The builder's key nest for an IPv4 address key, and where its protocol, address and port sit. */
interface KeyTemplate {
  nest: Buffer;
  protocol: number;
  addr: number;
  port: number;
}
let keyTemplate: KeyTemplate | null | undefined;

function ipv4KeyTemplate(): KeyTemplate | null {
  if (keyTemplate !== undefined) return keyTemplate;
  const key = serviceKeyAttrs(SAMPLE_SERVICE, 'ipvs');
  const rec = { service: key };
  const nest = Buffer.alloc(recordSize(ipvsCmd, rec));
  writeRecord(nest, 0, ipvsCmd, rec);
  const byId = new Map(attrSpans(nest, 4, nest.length).map(([id, a]) => [id, a + 4]));
  const S = ipvsService.attrs;
  const at = (k: string) => byId.get(S[k]!.id) ?? -1;
  const t = { nest, protocol: at('protocol'), addr: at('addr'), port: at('port') };
  keyTemplate = t.protocol >= 0 && t.addr >= 0 && t.port >= 0 && byId.size === 4 && nest.length <= KEY_NEST_MAX ? t : null;
  return keyTemplate;
}

const KEY_PROTOCOLS = new Map<unknown, number>([['tcp', IPPROTO_TCP], ['udp', IPPROTO_UDP], ['sctp', IPPROTO_SCTP]]);

/**
 * Writes the key nest of a valid IPVS IPv4 address key at `off` (the builder's template, patched),
 * returning its length; 0 for anything else (fwmark and IPv6 keys, invalid input), which the
 * builder checks and writes. `buf` must have room for {@link KEY_NEST_MAX} bytes.
 */
export function writeIPv4KeyNest(k: IpvsServiceKey, buf: Buffer, off: number): number {
  if ('fwmark' in k) return 0;
  const a = k as { protocol?: unknown; address?: unknown; port?: unknown };
  const proto = KEY_PROTOCOLS.get(a.protocol);
  const port = a.port;
  if (proto === undefined || typeof a.address !== 'string' || typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    return 0;
  }
  const addr = parseIPv4(a.address);
  const t = ipv4KeyTemplate();
  if (addr < 0 || !t) return 0;
  buf.set(t.nest, off);
  // byte by byte, as the messages (see writeHead): protocol in host order, address and port big-endian
  buf[off + t.protocol] = proto;
  buf[off + t.protocol + 1] = proto >>> 8;
  const q = off + t.addr;
  buf[q] = addr >>> 24;
  buf[q + 1] = addr >>> 16;
  buf[q + 2] = addr >>> 8;
  buf[q + 3] = addr;
  buf[off + t.port] = port >>> 8;
  buf[off + t.port + 1] = port;
  return t.nest.length;
}
/** An upper bound of any service key nest (an IPv6 one is 48 bytes). */
export const KEY_NEST_MAX = 64;

/** The entry of a valid IPv4 address key, or null (see {@link writeIPv4KeyNest}). */
function ipv4KeyEntry(k: IpvsServiceKey): ServiceEntry | null {
  // from the shared pool: a small Buffer per service key, without an ArrayBuffer of its own
  const nest = Buffer.allocUnsafe(KEY_NEST_MAX);
  const n = writeIPv4KeyNest(k, nest, 0);
  return n > 0 ? new ServiceEntry(nest.subarray(0, n), AF_INET, k) : null;
}

/**
 * The settings attributes of a service (everything but its key), as the builder writes them,
 * or null when the builder does not put the key first (then services take the generic path).
 * Validated by the builder for this kind, key family and protocol.
 */
export function serviceSettings(kind: IpvsKind, s: IpvsServiceOptions): Buffer | null {
  const msg = encodeMessages([buildOp(PROVISIONAL, new IpvsChange(kind, s)).message], 0);
  const top = attrSpans(msg, 20, msg.length);
  const svc = top[0];
  if (top.length !== 1 || svc![0] !== SERVICE_ID) return null;
  const [, start, end] = svc!;
  const attrs = attrSpans(msg, start + 4, end);
  let k = 0;
  while (k < attrs.length && KEY_IDS.has(attrs[k]![0])) k++;
  if (attrs.slice(k).some(([id]) => KEY_IDS.has(id))) return null;
  return Buffer.from(msg.subarray(k < attrs.length ? attrs[k]![1] : end, end));
}

/** Forwarding methods the fast path writes (tunnels take the generic path). */
export const FAST_FORWARDING = new Map<unknown, number>([
  ['masq', IP_VS_CONN_F_MASQ], ['local', IP_VS_CONN_F_LOCALNODE], ['route', IP_VS_CONN_F_DROUTE], ['bypass', IP_VS_CONN_F_BYPASS],
]);

export { parseIPv4 };
