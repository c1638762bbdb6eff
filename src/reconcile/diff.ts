/**
 * The smallest change from what the kernel has to what is wanted, as a plan: pure functions, no
 * I/O. Whatever is listed in the desired state is owned; what is not listed is deleted only when
 * it falls inside the caller's scope, never by a flush.
 *
 * Settings are compared as the kernel receives them: both sides go through the facade's own
 * attribute builders (so `scheduler` defaults to wlc, a netmask written as a prefix equals the
 * same dotted mask, `sh-fallback` equals `flag-1` on an sh service).
 *
 * @module
 */
import type { AttrRecord } from '../netlink/attr';
import { AF_INET } from '../uapi/netlink';
import { familyOf, formatIPv6, parseAddress, parseIPv4 } from '../netlink/address';
import {
  DESIRED_SERVICE_KEYS, isPort, serviceAttrs, serviceKeyAttrs, describeService, type IpvsServiceKey, type IpvsServiceOptions,
} from '../ipvs/service';
import { destinationAttrs, destinationKeyAttrs, isInt31, type IpvsDestinationKey, type IpvsDestinationOptions } from '../ipvs/destination';
import { IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3 } from '../uapi/ip-vs';
import { destinationOptions, serviceOptions } from '../batch/ipvs';
import type { IpvsServiceState } from '../snapshot/ipvs-read';
import type { IpvsDestinationState } from '../snapshot/ipvs-decode';
import { checkEntryFamily, entryAttrs, formatElement, toEntryObject, type IpsetEntry, type IpsetEntryInput } from '../ipset/entry';
import type { IpsetCreateOptions, IpsetSet } from '../ipset/set';

// ---- IPVS ---------------------------------------------------------------------------------------

/** A wanted service with the destinations it should have (exactly those). @category Reconcile and snapshots */
export type DesiredService = IpvsServiceOptions & {
  /**
   * Every real server the service should have; destinations the kernel holds beyond these are
   * deleted (or drained). Default: none.
   */
  destinations?: readonly IpvsDestinationOptions[];
};

/**
 * Which services reconcile may delete when the desired state leaves them out: virtual addresses
 * inside these CIDR ranges (`'10.96.0.0/12'`, `'fd00::/64'`) and these firewall marks, or a
 * predicate. Without a scope nothing unlisted is deleted.
 * @category Reconcile and snapshots
 */
export type ServiceScope =
  | {
    /** CIDR ranges of virtual addresses (`'10.96.0.0/12'`); a bare address covers that address only. */
    addresses?: readonly string[];
    /** Firewall marks (`ipvsadm -f`), each one mark or an inclusive `[low, high]` range. */
    fwmarks?: readonly (number | readonly [number, number])[];
  }
  | ((service: IpvsServiceKey) => boolean);

/**
 * One step of an IPVS plan; `kind` names the batch call (and the `ipvsadm` command) it becomes.
 * `fields` name the options that differ, by their {@link IpvsServiceOptions} or
 * {@link IpvsDestinationOptions} names (`'scheduler'`, `'weight'`).
 * @category Reconcile and snapshots
 */
export type IpvsPlanStep =
  | {
    /** Add a service: `ipvsadm -A`. */
    kind: 'addService';
    /** The service as listed, without its destinations. */
    service: IpvsServiceOptions;
  }
  | {
    /** Change a service's settings in place: `ipvsadm -E`. */
    kind: 'editService';
    /** The service as listed, without its destinations. */
    service: IpvsServiceOptions;
    /** Settings that differ from the kernel's: `scheduler`, `persistent`, `netmask`, `onePacket`, `schedFlags`, `pe`. */
    fields: string[];
  }
  | {
    /** Delete an unlisted service in scope, with its destinations: `ipvsadm -D`. */
    kind: 'deleteService';
    /** The service's key. */
    service: IpvsServiceKey;
    /** How many destinations it had when read (they go with it). */
    destinations: number;
  }
  | {
    /** Add a real server: `ipvsadm -a`. */
    kind: 'addDestination';
    /** The key of the service it belongs to. */
    service: IpvsServiceKey;
    /** The destination as listed. */
    destination: IpvsDestinationOptions;
  }
  | {
    /** Change a real server's settings in place: `ipvsadm -e`. */
    kind: 'editDestination';
    /** The key of the service it belongs to. */
    service: IpvsServiceKey;
    /** The destination as listed. */
    destination: IpvsDestinationOptions;
    /**
     * Settings that differ from the kernel's: `forwarding`, `weight`, `upperThreshold`,
     * `lowerThreshold`, `tunnelType`, `tunnelPort`, `tunnelChecksum`.
     */
    fields: string[];
  }
  | {
    /** Delete an unlisted real server of a listed service: `ipvsadm -d` (or drain it first). */
    kind: 'deleteDestination';
    /** The key of the service it belongs to. */
    service: IpvsServiceKey;
    /** The destination's key (address and port). */
    destination: IpvsDestinationKey;
    /**
     * It still has connections and its service's connections can drain (TCP or fwmark, not UDP or
     * SCTP): with the `drain` option, weight 0 first (`ipvsadm -e ... -w 0`), deletion once they are gone.
     */
    drain: boolean;
    /** Active plus inactive connections when it was read (`ActiveConn` + `InActConn` of `ipvsadm -Ln`). */
    connections: number;
  };

/** Bits of IP_VS_SVC_F_* a caller sets (the kernel also reports internal ones such as HASHED). */
const USER_FLAGS = IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_ONEPACKET | IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;

/** The fields of a service that differ, compared as the kernel would receive them. */
export function serviceDifferences(want: AttrRecord, have: AttrRecord): string[] {
  const out: string[] = [];
  if (want.schedName !== have.schedName) out.push('scheduler');
  const wf = (want.flags as { flags: number }).flags & USER_FLAGS;
  const hf = (have.flags as { flags: number }).flags & USER_FLAGS;
  const persistent = (wf & IP_VS_SVC_F_PERSISTENT) !== 0;
  if ((wf ^ hf) & IP_VS_SVC_F_PERSISTENT || (persistent && want.timeout !== have.timeout)) out.push('persistent');
  if (persistent && want.netmask !== have.netmask) out.push('netmask');
  if ((wf ^ hf) & IP_VS_SVC_F_ONEPACKET) out.push('onePacket');
  if ((wf ^ hf) & (IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3)) out.push('schedFlags');
  if ((want.peName ?? '') !== (have.peName ?? '')) out.push('pe');
  return out;
}

const DEST_FIELDS: [string, string][] = [
  ['fwdMethod', 'forwarding'], ['weight', 'weight'], ['uThresh', 'upperThreshold'], ['lThresh', 'lowerThreshold'],
  ['tunType', 'tunnelType'], ['tunPort', 'tunnelPort'], ['tunFlags', 'tunnelChecksum'],
];

/** The fields of a destination that differ, compared as the kernel would receive them. */
export function destinationDifferences(want: AttrRecord, have: AttrRecord): string[] {
  const out: string[] = [];
  for (const [k, name] of DEST_FIELDS) if ((want[k] ?? 0) !== (have[k] ?? 0)) out.push(name);
  return out;
}

function ipInRange(address: string, range: string): boolean {
  const [net, len] = range.split('/');
  const a = parseAddress(address);
  const n = parseAddress(net!);
  if (a.length !== n.length) return false;
  const bits = len === undefined ? a.length * 8 : Number(len);
  for (let i = 0; i < a.length && bits - i * 8 > 0; i++) {
    const b = Math.min(8, bits - i * 8);
    const mask = (0xff << (8 - b)) & 0xff;
    if ((a[i]! & mask) !== (n[i]! & mask)) return false;
  }
  return true;
}

/** Checks a scope's ranges now (TypeError) and returns its predicate. */
export function servicePredicate(scope: ServiceScope | undefined): (s: IpvsServiceKey) => boolean {
  if (scope === undefined) return () => false;
  if (typeof scope === 'function') return scope;
  const ranges = scope.addresses ?? [];
  for (const r of ranges) {
    const [net, len] = String(r).split('/');
    const f = familyOf(net ?? '');
    const max = f === AF_INET ? 32 : 128;
    if (f === undefined || (len !== undefined && !(/^\d+$/.test(len) && Number(len) <= max))) {
      throw new TypeError(`reconcile: scope address range '${String(r)}' is not CIDR notation such as 10.96.0.0/12`);
    }
  }
  const marks = (scope.fwmarks ?? []).map((m) => (typeof m === 'number' ? [m, m] as const : m));
  return (s) => ('fwmark' in s && s.fwmark !== undefined
    ? marks.some(([lo, hi]) => s.fwmark >= lo && s.fwmark <= hi)
    : ranges.some((r) => ipInRange((s as { address: string }).address, r)));
}

/** True when a destination's connections can drain: not UDP or SCTP (their inactive count waits for a timeout). */
function drains(service: IpvsServiceKey): boolean {
  return !('protocol' in service) || service.protocol === 'tcp';
}

function checkUnique<T>(items: readonly T[], id: (t: T) => string, what: string): void {
  const seen = new Set<string>();
  for (const t of items) {
    const k = id(t);
    if (seen.has(k)) throw new TypeError(`reconcile: ${what} ${k} is listed twice`);
    seen.add(k);
  }
}

/** Address text as the kernel reports it (RFC 5952 for IPv6); invalid text is left as it is. */
function canonicalAddress(a: string): string {
  if (!a.includes(':')) return a;
  try {
    return canonicalV6(a);
  } catch {
    return a;
  }
}

/**
 * A service's key as text, cheaply: equal for equal keys, and equal to a kernel service's only
 * when the fields are of the right types (anything odd falls to the full check as an addition).
 */
export function quickServiceId(s: IpvsServiceKey): string {
  const o = s as { fwmark?: unknown; family?: unknown; protocol?: unknown; address?: unknown; port?: unknown };
  if ('fwmark' in s && o.fwmark !== undefined) return `fwmark ${String(o.fwmark)} ${String(o.family ?? 'inet')}`;
  if (typeof o.address !== 'string' || typeof o.port !== 'number') return `? ${String(o.address)} ${String(o.port)}`;
  return `${String(o.protocol)} ${canonicalAddress(o.address)} ${o.port}`;
}

export function quickDestinationId(d: IpvsDestinationKey): string {
  const o = d as { address?: unknown; port?: unknown };
  if (typeof o.address !== 'string' || typeof o.port !== 'number') return `? ${String(o.address)} ${String(o.port)}`;
  return `${canonicalAddress(o.address)} ${o.port}`;
}

/** The common case, compared without building attributes: non-persistent, no flags, equal values. */
function sameSettings(s: IpvsServiceOptions, c: IpvsServiceState): boolean {
  return (s.scheduler ?? 'wlc') === c.scheduler && (s.persistent ?? 0) === 0 && c.persistent === 0 && s.netmask === undefined
    && (s.onePacket ?? false) === c.onePacket && (s.schedFlags === undefined || s.schedFlags.length === 0)
    && c.schedFlags.length === 0 && s.pe === c.pe;
}

function sameDestination(d: IpvsDestinationOptions, c: IpvsDestinationState): boolean {
  return (d.forwarding ?? 'route') === c.forwarding && (d.weight ?? 1) === c.weight
    && (d.upperThreshold ?? 0) === c.upperThreshold && (d.lowerThreshold ?? 0) === c.lowerThreshold
    && d.tunnelType === undefined && d.tunnelPort === undefined && d.tunnelChecksum === undefined && c.tunnelType === undefined;
}

/** What {@link planIpvs} learnt on the way, for the state after the commit. @internal */
export interface IpvsDiff {
  /** The plan, as {@link diffIpvs} returns it. */
  plan: IpvsPlanStep[];
  /** 1 for each current service (in `current` order) whose id the plan has a step for. */
  currentTouched: Uint8Array;
  /** 1 for each desired service (in `desired` order) the plan has a step for. */
  desiredTouched: Uint8Array;
  /** The current service each desired one matched (of equal ids the last, as a Map keeps them), or undefined. */
  matched: (IpvsServiceState | undefined)[];
  /**
   * Per desired service, how its destinations matched the current ones: 1 one for one in the same
   * order, -1 in the reversed order (each then has the same address text and port as its match),
   * 0 by id.
   */
  orders: Int8Array;
}

/**
 * The protocol text of a service key whose {@link quickServiceId} is `PROTOCOL ADDRESS PORT` with
 * one space between the three and no `:` in the address (the address is its own canonical form),
 * or undefined. Such an id equals another only when the three parts are equal (the port as
 * text), and never equals an id of another shape (fwmark, `?`, IPv6), so these keys can be
 * compared part by part, without building the text.
 */
function plainProtocol(s: IpvsServiceKey): string | undefined {
  const o = s as { fwmark?: unknown; protocol?: unknown; address?: unknown; port?: unknown };
  if (('fwmark' in s && o.fwmark !== undefined) || typeof o.address !== 'string' || typeof o.port !== 'number') return undefined;
  const a = o.address;
  if (a.includes(':') || a.includes(' ')) return undefined;
  const p = o.protocol;
  if (p === 'tcp' || p === 'udp' || p === 'sctp') return p;
  const text = String(p);
  return text.includes(' ') || text === 'fwmark' || text === '?' ? undefined : text;
}

const LISTED = 1;
const TOUCHED = 2;
const VISITED = 4;
const NO_DESTINATIONS: readonly IpvsDestinationOptions[] = [];

/**
 * The service ids of one diff, as numbered slots. Ids are {@link quickServiceId}'s, found without
 * building the text where its parts can be compared instead: a plain id (see
 * {@link plainProtocol}) of tcp, udp or sctp with a dotted quad and an integer port is one number
 * (the quad is one u32, so equal numbers are equal ids) in an open-addressing table of numbers;
 * other plain ids are found by address, then protocol and port; the rest by their text.
 *
 * One table is kept and reused: V8 holds the hidden classes of optimized code weakly and throws
 * the code away at a GC once the last object of such a class is gone, which a table per diff
 * would make happen between diffs; and its arrays stay allocated.
 */
class SlotTable {
  /** Numeric keys and their slot numbers side by side (one cache line for both); slot -1: free. */
  private table = new Float64Array(2 << 12);
  private readonly byAddress = new Map<string, number>();
  private readonly byId = new Map<string, number>();
  /** Protocol text, port and the next slot of the same address (-1: none), of slots found by address. */
  private readonly protocols: string[] = [];
  private readonly ports: number[] = [];
  private readonly chain: number[] = [];
  private count = 0;
  /** The current service of a slot: of equal ids the last. */
  readonly curs: (IpvsServiceState | undefined)[] = [];
  /** LISTED, TOUCHED, VISITED. */
  flags = new Uint8Array(1 << 12);
  /**
   * The last key {@link slotOf} looked up was a valid IPv4 key of tcp, udp or sctp (what
   * {@link serviceKeyAttrs} accepts, so it need not be checked again).
   */
  numericKey = false;
  inUse = false;

  /** Empties the table for a diff of `services` services at most. */
  reset(services: number): void {
    this.count = 0;
    let size = this.table.length >> 1;
    while (size < services * 2) size *= 2;
    if (size !== this.table.length >> 1) this.table = new Float64Array(size * 2);
    this.table.fill(-1);
    if (this.flags.length < services) this.flags = new Uint8Array(size);
  }

  /** Lets go of the services and texts of the last diff. */
  release(): void {
    this.curs.fill(undefined);
    this.byAddress.clear();
    this.byId.clear();
    this.protocols.length = 0;
    this.ports.length = 0;
    this.chain.length = 0;
  }

  /** The slot of a service key's id, new when there is none yet. */
  slotOf(s: IpvsServiceKey): number {
    this.numericKey = false;
    const protocol = plainProtocol(s);
    if (protocol === undefined) {
      const id = quickServiceId(s);
      let k = this.byId.get(id);
      if (k === undefined) this.byId.set(id, k = this.add());
      return k;
    }
    const address = (s as { address: string }).address;
    const port = (s as { port: number }).port;
    const index = protocol === 'tcp' ? 1 : protocol === 'udp' ? 2 : protocol === 'sctp' ? 3 : 0;
    const ip = index !== 0 && isPort(port) ? parseIPv4(address) : -1;
    if (ip >= 0) {
      this.numericKey = true;
      return this.numeric((ip * 4 + index) * 65536 + port);
    }
    const first = this.byAddress.get(address) ?? -1;
    for (let k = first; k >= 0; k = this.chain[k]!) {
      const p = this.ports[k]!;
      if (this.protocols[k] === protocol && (p === port || (p !== p && port !== port))) return k;
    }
    const k = this.add();
    this.protocols[k] = protocol;
    this.ports[k] = port;
    this.chain[k] = first;
    this.byAddress.set(address, k);
    return k;
  }

  /** The slot of a numeric key (below 2^50), by linear probing from its hash. */
  private numeric(key: number): number {
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    let h = Math.imul((key >>> 0) ^ Math.imul(Math.floor(key / 0x100000000), 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const k = table[2 * i + 1]!;
      if (k < 0) {
        table[2 * i] = key;
        return table[2 * i + 1] = this.add();
      }
      if (table[2 * i] === key) return k;
    }
  }

  private add(): number {
    const k = this.count++;
    this.flags[k] = 0;
    if (k < this.curs.length) this.curs[k] = undefined;
    else this.curs.push(undefined);
    return k;
  }
}

const sharedSlots = new SlotTable();

/**
 * The plan from `current` to `desired` for IPVS. Listed services end up with exactly their listed
 * destinations; unlisted services are deleted when `inScope` says so. Throws TypeError or
 * RangeError for invalid desired entries (the facade's own checks): a listed object equal to what
 * the kernel holds is valid by that; anything added or changed is checked by the builders.
 */
export function diffIpvs(
  desired: readonly DesiredService[], current: readonly IpvsServiceState[], inScope: (s: IpvsServiceKey) => boolean,
): IpvsPlanStep[] {
  return planIpvs(desired, current, inScope).plan;
}

/** {@link diffIpvs}, with what the state after the commit is built from. @internal */
export function planIpvs(
  desired: readonly DesiredService[], current: readonly IpvsServiceState[], inScope: (s: IpvsServiceKey) => boolean,
): IpvsDiff {
  // a scope predicate could diff again from inside: then that diff gets a table of its own
  const slots = sharedSlots.inUse ? new SlotTable() : sharedSlots;
  slots.inUse = true;
  slots.reset(desired.length + current.length);
  try {
    return planWith(slots, desired, current, inScope);
  } finally {
    slots.release();
    slots.inUse = false;
  }
}

function planWith(
  slots: SlotTable, desired: readonly DesiredService[], current: readonly IpvsServiceState[], inScope: (s: IpvsServiceKey) => boolean,
): IpvsDiff {
  const op = 'reconcile';
  const { curs, flags } = slots;
  const currentSlots = new Int32Array(current.length);
  for (let j = 0; j < current.length; j++) {
    const c = current[j]!;
    const k = slots.slotOf(c);
    curs[k] = c;
    currentSlots[j] = k;
  }
  const desiredTouched = new Uint8Array(desired.length);
  const orders = new Int8Array(desired.length);
  const matched = new Array<IpvsServiceState | undefined>(desired.length);
  const plan: IpvsPlanStep[] = [];
  for (let i = 0; i < desired.length; i++) {
    const s = desired[i]!;
    if (s === null || typeof s !== 'object') throw new TypeError(`${op}: every desired service must be an object`);
    const k = slots.slotOf(s);
    if (flags[k]! & LISTED) throw new TypeError(`${op}: service ${describeService(s)} is listed twice`);
    flags[k]! |= LISTED;
    const cur = curs[k];
    matched[i] = cur;
    const destinations = s.destinations === undefined ? NO_DESTINATIONS : s.destinations;
    if (!Array.isArray(destinations)) throw new TypeError(`${op}: destinations of ${describeService(s)} must be an array`);
    const before = plan.length;
    let af: number;
    if (!cur) {
      af = serviceAttrs(s, op, DESIRED_SERVICE_KEYS).af as number;
    } else {
      af = cur.family === 'inet6' ? 10 : 2;
      if (!sameSettings(s, cur)) {
        const fields = serviceDifferences(serviceAttrs(s, op, DESIRED_SERVICE_KEYS), serviceAttrs(serviceOptions(cur), op));
        if (fields.length) plan.push({ kind: 'editService', service: settingsOf(s), fields });
      }
    }
    // a numeric key is one serviceKeyAttrs accepts; any other is checked by it
    if (!slots.numericKey) serviceKeyAttrs(s, op);
    if (!cur) plan.push({ kind: 'addService', service: settingsOf(s) });
    const order = cur ? editsInPlace(destinations, cur.destinations, s, af, plan) : 0;
    if (order === 0) diffDestinations(s, destinations, cur, af, plan);
    else orders[i] = order;
    if (plan.length !== before) {
      flags[k]! |= TOUCHED;
      desiredTouched[i] = 1;
    }
  }
  for (let j = 0; j < current.length; j++) {
    const k = currentSlots[j]!;
    // of equal ids the last service stands for them, at the place of the first (as a Map keeps them)
    if (flags[k]! & (LISTED | VISITED)) continue;
    flags[k]! |= VISITED;
    const c = curs[k]!;
    const key = serviceKeyOnly(c);
    if (inScope(key)) {
      plan.push({ kind: 'deleteService', service: key, destinations: c.destinations.length });
      flags[k]! |= TOUCHED;
    }
  }
  const currentTouched = new Uint8Array(current.length);
  for (let j = 0; j < current.length; j++) if (flags[currentSlots[j]!]! & TOUCHED) currentTouched[j] = 1;
  return { plan, currentTouched, desiredTouched, matched, orders };
}

/** A desired service as its plan steps list it: without its destinations. */
function settingsOf(s: DesiredService): IpvsServiceOptions {
  const { destinations: _, ...service } = s;
  return service;
}

/** The key of a (checked) service as plan steps carry it. */
function keyOf(s: IpvsServiceKey): IpvsServiceKey {
  return 'fwmark' in s && s.fwmark !== undefined
    ? { fwmark: s.fwmark, ...(s.family !== undefined && { family: s.family }) }
    : { protocol: (s as { protocol: 'tcp' }).protocol, address: (s as { address: string }).address, port: (s as { port: number }).port };
}

function serviceKeyOnly(s: IpvsServiceKey): IpvsServiceKey {
  serviceKeyAttrs(s, 'reconcile');
  return keyOf(s);
}

/** Keys of one service's listed destinations (see {@link editsInPlace}); reused. */
let scratch = new Float64Array(64);

/**
 * The common case without ids, maps or sets: a service lists exactly the destinations the kernel
 * has, in the kernel's order (or reversed), so at most weights and such differ. Pushes the edits
 * and returns 1 (-1 for the reversed order); returns 0 having pushed nothing when the case does
 * not apply: then {@link diffDestinations} decides, and reports errors, as always.
 *
 * It is the same plan: a listed address equal as text to the kernel's and without a `:` is its
 * own canonical form, so both sides' ids are equal, and each listed destination matches its
 * kernel one. A destination listed twice would have two equal keys (a key is a function of the
 * address text and the port); when no two keys are equal, nothing is listed twice, each kernel
 * destination is matched once, and none is left to delete. The key reads the last five
 * characters of the address and its length, not the whole text: equal keys of different
 * addresses only send the service to the general path.
 */
function editsInPlace(
  ds: readonly IpvsDestinationOptions[], cs: readonly IpvsDestinationState[], s: IpvsServiceKey, af: number, plan: IpvsPlanStep[],
): number {
  const n = ds.length;
  if (n === 0 || n !== cs.length) return 0;
  const d0 = ds[0];
  if (d0 === null || typeof d0 !== 'object') return 0;
  const reversed = !(d0.address === cs[0]!.address && d0.port === cs[0]!.port);
  if (n > scratch.length) scratch = new Float64Array(n * 2);
  const keys = scratch;
  for (let i = 0; i < n; i++) {
    const d = ds[i];
    if (d === null || typeof d !== 'object') return 0;
    const c = cs[reversed ? n - 1 - i : i]!;
    const a = d.address;
    const p = d.port;
    if (a !== c.address || p !== c.port || typeof a !== 'string' || !isPort(p)) return 0;
    const len = a.length;
    if (len < 5 || a.includes(':')) return 0;
    // 7 bits of each of the last five characters and two of the length: under 2^37, times 2^16, plus the port
    const fp = (a.charCodeAt(len - 1) & 127) + (a.charCodeAt(len - 2) & 127) * 0x80 + (a.charCodeAt(len - 3) & 127) * 0x4000
      + (a.charCodeAt(len - 4) & 127) * 0x200000 + (a.charCodeAt(len - 5) & 127) * 0x10000000 + (len & 3) * 0x800000000;
    keys[i] = fp * 65536 + p;
  }
  if (n <= 32) {
    for (let i = 1; i < n; i++) {
      const k = keys[i];
      for (let j = 0; j < i; j++) if (keys[j] === k) return 0;
    }
  } else {
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      if (seen.has(keys[i]!)) return 0;
      seen.add(keys[i]!);
    }
  }
  let key: IpvsServiceKey | undefined;
  for (let i = 0; i < n; i++) {
    const d = ds[i]!;
    const c = cs[reversed ? n - 1 - i : i]!;
    if (sameDestination(d, c)) continue;
    const changed = destinationChanges(d, c, af);
    if (changed.length) plan.push({ kind: 'editDestination', service: key ??= keyOf(s), destination: d, fields: changed });
  }
  return reversed ? -1 : 1;
}

/** Forwarding methods without tunnel attributes (all four are distinct numbers to the kernel). */
function plainForwarding(f: unknown): boolean {
  return f === 'masq' || f === 'route' || f === 'local' || f === 'bypass';
}

/**
 * {@link destinationDifferences} of both sides' attributes (checking `d` as the builder does),
 * without building them when neither side tunnels and every value is one the builder takes as
 * it is: of IPv4 addresses, when `d` is (as {@link editsInPlace} knows).
 */
function destinationChanges(d: IpvsDestinationOptions, c: IpvsDestinationState, af: number): string[] {
  const df = d.forwarding ?? 'route';
  const dw = d.weight ?? 1, du = d.upperThreshold ?? 0, dl = d.lowerThreshold ?? 0;
  const cw = c.weight ?? 1, cu = c.upperThreshold ?? 0, cl = c.lowerThreshold ?? 0;
  const plain = af === AF_INET && typeof d.address === 'string' && parseIPv4(d.address) >= 0 && isPort(d.port)
    && c.address === d.address && c.port === d.port
    && plainForwarding(df) && isInt31(dw) && isInt31(du) && isInt31(dl) && dl <= du
    && d.tunnelType === undefined && d.tunnelPort === undefined && d.tunnelChecksum === undefined
    && plainForwarding(c.forwarding) && isInt31(cw) && isInt31(cu) && isInt31(cl) && cl <= cu
    && c.tunnelType === undefined && c.tunnelPort === undefined && c.tunnelChecksum === undefined;
  if (!plain) return destinationDifferences(destinationAttrs(d, 'reconcile', af), destinationAttrs(destinationOptions(c), 'reconcile'));
  const out: string[] = [];
  if (df !== c.forwarding) out.push('forwarding');
  if (dw !== cw) out.push('weight');
  if (du !== cu) out.push('upperThreshold');
  if (dl !== cl) out.push('lowerThreshold');
  return out;
}

/** One listed service's destination steps, by ids: adds and edits in listed order, then deletions in the kernel's. */
function diffDestinations(
  s: DesiredService, destinations: readonly IpvsDestinationOptions[], cur: IpvsServiceState | undefined, af: number, plan: IpvsPlanStep[],
): void {
  const op = 'reconcile';
  let key: IpvsServiceKey | undefined;
  const curDests = new Map<string, IpvsDestinationState>();
  if (cur) for (const c of cur.destinations) curDests.set(`${c.address} ${c.port}`, c);
  const seenDests = new Set<string>();
  for (const d of destinations) {
    if (d === null || typeof d !== 'object') throw new TypeError(`${op}: destinations of ${describeService(s)} must be objects`);
    const did = quickDestinationId(d);
    if (seenDests.has(did)) throw new TypeError(`${op}: destination ${did} of service ${describeService(s)} is listed twice`);
    seenDests.add(did);
    const c = curDests.get(did);
    if (!c) {
      destinationAttrs(d, op, af);
      plan.push({ kind: 'addDestination', service: key ??= keyOf(s), destination: d });
      continue;
    }
    curDests.delete(did);
    if (sameDestination(d, c)) continue;
    const changed = destinationChanges(d, c, af);
    if (changed.length) plan.push({ kind: 'editDestination', service: key ??= keyOf(s), destination: d, fields: changed });
  }
  for (const c of curDests.values()) {
    key ??= keyOf(s);
    const connections = c.activeConns + c.inactiveConns;
    plan.push({
      kind: 'deleteDestination', service: key, destination: { address: c.address, port: c.port },
      drain: connections > 0 && drains(key), connections,
    });
  }
}

/** Checks a destination key of a plan step (the facade's check). */
export function checkDestinationKey(d: IpvsDestinationKey): void {
  destinationKeyAttrs(d, 'reconcile');
}

// ---- ipsets ----------------------------------------------------------------------------------------

/** A wanted set with exactly these entries. @category Reconcile and snapshots */
export interface DesiredSet {
  /** The set's name (at most 31 characters, IPSET_MAXNAMELEN). */
  name: string;
  /** The set type as `ipset create` takes it: `hash:ip`, `hash:ip,port`, `bitmap:port`, `list:set`. */
  type: string;
  /**
   * Creation options (`family`, `hashsize`, `maxelem`...), used only when the set is
   * created: an existing set of the same type is not recreated when they differ.
   */
  options?: IpsetCreateOptions;
  /** Every entry the set should hold, as objects or as `ipset add` element text (`10.0.0.1,tcp:80`). */
  entries: readonly IpsetEntryInput[];
}

/** Which sets reconcile may destroy when the desired state leaves them out: names, or a predicate. @category Reconcile and snapshots */
export type SetScope = readonly string[] | ((name: string) => boolean);

/** One step of an ipset plan; `kind` names the batch call (and the `ipset` command) it becomes. @category Reconcile and snapshots */
export type IpsetPlanStep =
  | {
    /** Create a missing set: `ipset create NAME TYPE ...`. */
    kind: 'createSet';
    /** The set's name. */
    name: string;
    /** Its type, as listed. */
    type: string;
    /** Its creation options, as listed (`{}` when none were). */
    options: IpsetCreateOptions;
  }
  | {
    /** Add missing entries: `ipset add`, one per entry. */
    kind: 'addEntries';
    /** The set's name. */
    name: string;
    /** The entries to add, in listed order. */
    entries: IpsetEntry[];
  }
  | {
    /** Delete entries of a listed set that are not listed: `ipset del`, one per entry. */
    kind: 'delEntries';
    /** The set's name. */
    name: string;
    /** The entries to delete, as the kernel listed them. */
    entries: IpsetEntry[];
  }
  | {
    /** Destroy an unlisted set in scope: `ipset destroy NAME`. */
    kind: 'destroySet';
    /** The set's name. */
    name: string;
  }
  | {
    /** The set exists with another type: left as it is (a type cannot be changed in place). */
    kind: 'conflict';
    /** The set's name. */
    name: string;
    /** What conflicts, in words: `set NAME is hash:ip, wanted hash:net: left unchanged`. */
    detail: string;
  };

/** Checks a set scope now and returns its predicate. */
export function setPredicate(scope: SetScope | undefined): (name: string) => boolean {
  if (scope === undefined) return () => false;
  if (typeof scope === 'function') return scope;
  const names = new Set(scope);
  return (n) => names.has(n);
}

/**
 * The plan for sets: create missing ones, add missing entries, delete unwanted entries of listed
 * sets (compared by element: `10.0.0.1,tcp:80`; timeouts, counters and comments are not compared),
 * destroy unlisted sets in scope. `current` holds the listed sets (with entries) and the others' headers.
 */
export function diffSets(desired: readonly DesiredSet[], current: readonly IpsetSet[], inScope: (name: string) => boolean): IpsetPlanStep[] {
  checkUnique(desired, (s) => s.name, 'set');
  const have = new Map(current.map((s) => [s.name, s]));
  const plan: IpsetPlanStep[] = [];
  for (const want of desired) {
    const entries = want.entries.map((e) => {
      const entry = toEntryObject(e, want.type, 'reconcile');
      entryAttrs(entry, 'reconcile', want.type);
      checkEntryFamily(entry, want.options?.family ?? (want.type.startsWith('bitmap:') || want.type === 'list:set' ? undefined : 'inet'), 'reconcile');
      return entry;
    });
    const cur = have.get(want.name);
    have.delete(want.name);
    if (!cur) {
      plan.push({ kind: 'createSet', name: want.name, type: want.type, options: want.options ?? {} });
      if (entries.length) plan.push({ kind: 'addEntries', name: want.name, entries });
      continue;
    }
    if (cur.type !== want.type) {
      plan.push({ kind: 'conflict', name: want.name, detail: `set ${want.name} is ${cur.type}, wanted ${want.type}: left unchanged` });
      continue;
    }
    const curEntries = new Map<string, IpsetEntry>();
    for (const e of cur.entries ?? []) curEntries.set(formatElement(cur.type, e), e);
    // bitmap:ip,mac: the kernel fills in the MAC of an entry added without one; it is still the wanted entry
    const filled = new Map<string, string>();
    if (want.type === 'bitmap:ip,mac') for (const [k, e] of curEntries) if (e.ip !== undefined && e.mac !== undefined) filled.set(e.ip, k);
    const add: IpsetEntry[] = [];
    const seen = new Set<string>();
    for (const e of entries) {
      let k = formatElement(want.type, e);
      if (e.mac === undefined && e.ip !== undefined && !curEntries.has(k) && filled.has(e.ip)) k = filled.get(e.ip)!;
      if (seen.has(k)) continue;
      seen.add(k);
      if (curEntries.has(k)) curEntries.delete(k);
      else add.push(e);
    }
    if (curEntries.size) plan.push({ kind: 'delEntries', name: want.name, entries: [...curEntries.values()] });
    if (add.length) plan.push({ kind: 'addEntries', name: want.name, entries: add });
  }
  for (const s of have.values()) if (inScope(s.name)) plan.push({ kind: 'destroySet', name: s.name });
  return plan;
}

// ---- addresses -------------------------------------------------------------------------------------

/** A link that should carry exactly these addresses (among those the scope covers). @category Reconcile and snapshots */
export interface DesiredLinkAddresses {
  /** The link's name. */
  link: string;
  /** Addresses in CIDR notation (`10.96.0.1/32`); a bare address means a host prefix. */
  addresses: readonly string[];
  /** Create the link as a dummy link (up) when it does not exist, as kube-proxy does with kube-ipvs0. */
  create?: boolean;
}

/**
 * Which addresses of a listed link reconcile may delete when unlisted: inside these CIDR ranges,
 * or a predicate. IPv6 link-local addresses (fe80::/10, the kernel's own) fall outside any range
 * list that does not name them.
 * @category Reconcile and snapshots
 */
export type AddressScope = readonly string[] | ((address: { local: string; prefixlen: number; link: string }) => boolean);

/** One step of an address plan; `kind` names the batch call (and the `ip` command) it becomes. @category Reconcile and snapshots */
export type AddressPlanStep =
  | {
    /** Create a missing link as a dummy link, up: `ip link add NAME type dummy` then `ip link set NAME up`. */
    kind: 'addLink';
    /** The link's name. */
    link: string;
  }
  | {
    /** Add a missing address: `ip addr add CIDR dev LINK`. */
    kind: 'addAddress';
    /** The link's name. */
    link: string;
    /** The address with its prefix length, canonical (`10.96.0.1/32`, `fd00::1/128`). */
    cidr: string;
  }
  | {
    /** Delete an unlisted address in scope: `ip addr del CIDR dev LINK`. */
    kind: 'deleteAddress';
    /** The link's name. */
    link: string;
    /** The address with its prefix length, canonical (`10.96.0.1/32`, `fd00::1/128`). */
    cidr: string;
  }
  | {
    /** The link does not exist and `create` was not asked: nothing planned for it. */
    kind: 'conflict';
    /** The link's name. */
    link: string;
    /** What conflicts, in words: `link NAME does not exist: its addresses were not added`. */
    detail: string;
  };

/** Checks an address scope now (TypeError) and returns its predicate. */
export function addressPredicate(scope: AddressScope | undefined): (a: { local: string; prefixlen: number; link: string }) => boolean {
  if (scope === undefined) return () => false;
  if (typeof scope === 'function') return scope;
  const byRange = servicePredicate({ addresses: scope });
  return (a) => byRange({ protocol: 'tcp', address: a.local, port: 0 });
}

/** `10.96.0.1/32` in canonical form (the kernel's address text, explicit prefix). */
export function canonicalCidr(text: string): string {
  const [addr, len] = String(text).split('/');
  const f = familyOf(addr ?? '');
  if (f === undefined) throw new TypeError(`reconcile: '${String(text)}' is not an address in CIDR notation`);
  const max = f === AF_INET ? 32 : 128;
  const prefix = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (len !== undefined && !/^\d+$/.test(len))) {
    throw new RangeError(`reconcile: prefix length of '${text}' must be 0-${max}`);
  }
  return `${f === AF_INET ? addr : canonicalV6(addr!)}/${prefix}`;
}

/** RFC 5952 text of an IPv6 address, as the snapshot decodes the kernel's (formatIPv6). */
function canonicalV6(a: string): string {
  return formatIPv6(parseAddress(a));
}

/**
 * The plan for addresses of the listed links: add the missing ones, delete unlisted ones inside
 * the scope. `current` is every address (with `ifindex`), `links` every link.
 */
export function diffAddresses(
  desired: readonly DesiredLinkAddresses[],
  current: readonly { ifindex: number; local: string; prefixlen: number }[],
  links: readonly { ifindex: number; ifname: string }[],
  inScope: (a: { local: string; prefixlen: number; link: string }) => boolean,
): AddressPlanStep[] {
  checkUnique(desired, (d) => d.link, 'link');
  const wanted = desired.map((d) => ({ d, cidrs: [...new Set(d.addresses.map(canonicalCidr))] }));
  const plan: AddressPlanStep[] = [];
  for (const { d, cidrs } of wanted) {
    const link = links.find((l) => l.ifname === d.link);
    if (!link) {
      if (!d.create) {
        plan.push({ kind: 'conflict', link: d.link, detail: `link ${d.link} does not exist: its addresses were not added` });
        continue;
      }
      plan.push({ kind: 'addLink', link: d.link });
      for (const cidr of cidrs) plan.push({ kind: 'addAddress', link: d.link, cidr });
      continue;
    }
    const have = new Map<string, { local: string; prefixlen: number }>();
    for (const a of current) if (a.ifindex === link.ifindex) have.set(canonicalCidr(`${a.local}/${a.prefixlen}`), a);
    for (const cidr of cidrs) {
      if (have.has(cidr)) have.delete(cidr);
      else plan.push({ kind: 'addAddress', link: d.link, cidr });
    }
    for (const [cidr, a] of have) {
      if (inScope({ local: a.local, prefixlen: a.prefixlen, link: d.link })) plan.push({ kind: 'deleteAddress', link: d.link, cidr });
    }
  }
  return plan;
}
