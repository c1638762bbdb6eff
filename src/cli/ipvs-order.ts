/**
 * The order ipvsadm lists services and destinations in (-L, -S without --nosort): libipvs's
 * ipvs_cmp_services / ipvs_cmp_dests through glibc's qsort, reproduced exactly. The comparators
 * subtract unsigned 32-bit values and read the difference as a signed int, so addresses more than
 * 2^31 apart compare "backwards" (192.168.0.1 lists before 10.0.0.1); glibc 2.36's qsort is a
 * top-down merge sort, whose result with such a comparator this reproduces too.
 */
import type { IpvsDestination, IpvsService } from '../index';
import { addressBytes } from '../index';

/** Sorts a copy of `items` with glibc's merge sort (msort_with_tmp): left run wins ties. */
export function glibcSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const a = items.slice();
  const tmp = new Array<T>(a.length);
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = n >>> 1;
    const n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i = lo;
    let j = lo + n1;
    let k = 0;
    let r1 = n1;
    let r2 = n2;
    while (r1 > 0 && r2 > 0) {
      if (cmp(a[i]!, a[j]!) <= 0) { tmp[k++] = a[i++]!; r1--; } else { tmp[k++] = a[j++]!; r2--; }
    }
    while (r1 > 0) { tmp[k++] = a[i++]!; r1--; }
    for (let x = 0; x < k; x++) a[lo + x] = tmp[x]!;
  };
  sort(0, a.length);
  return a;
}

/** The 16 bytes of `union nf_inet_addr` (an IPv4 address in the first 4). */
function addrBytes(address: string): Buffer {
  if (address.includes(':')) return addressBytes(address);
  const b = Buffer.alloc(16);
  address.split('.').forEach((x, i) => { b[i] = Number(x); });
  return b;
}

/** C's `int r = (u32)a - (u32)b`. */
const diff32 = (a: number, b: number): number => (a - b) | 0;

function cmpAddr(v6: boolean, a: Buffer, b: Buffer): number {
  let r = 0;
  for (let i = 0; r === 0 && i < (v6 ? 4 : 1); i++) r = diff32(a.readUInt32BE(i * 4), b.readUInt32BE(i * 4));
  return r;
}

const AF = { inet: 2, inet6: 10 } as const;
const PROTO = { tcp: 6, udp: 17, sctp: 132 } as Record<string, number>;

/** libipvs ipvs_cmp_services: fwmark, family, protocol, address, port. */
export function compareServices(a: IpvsService, b: IpvsService): number {
  const fa = 'fwmark' in a ? a.fwmark : 0;
  const fb = 'fwmark' in b ? b.fwmark : 0;
  let r = diff32(fa, fb);
  if (r) return r;
  r = AF[a.family] - AF[b.family];
  if (r) return r;
  const pa = 'fwmark' in a ? 0 : PROTO[a.protocol] ?? 0;
  const pb = 'fwmark' in b ? 0 : PROTO[b.protocol] ?? 0;
  r = pa - pb;
  if (r) return r;
  const za = Buffer.alloc(16);
  r = cmpAddr(a.family === 'inet6', 'fwmark' in a ? za : addrBytes(a.address), 'fwmark' in b ? za : addrBytes(b.address));
  if (r) return r;
  return ('fwmark' in a ? 0 : a.port) - ('fwmark' in b ? 0 : b.port);
}

/** libipvs ipvs_cmp_dests: address (as the first one's family reads it), then port. */
export function compareDestinations(a: IpvsDestination, b: IpvsDestination): number {
  const r = cmpAddr(a.family === 'inet6', addrBytes(a.address), addrBytes(b.address));
  return r || a.port - b.port;
}

/** An item with its comparison key read once: the address as four big-endian u32 words. */
interface Keyed<T> {
  item: T;
  fwmark: number;
  af: number;
  proto: number;
  w: [number, number, number, number];
  v6: boolean;
  port: number;
}

/** The four words of `union nf_inet_addr` (an IPv4 address in the first). */
function words(address: string): [number, number, number, number] {
  if (address.includes(':')) {
    const b = addressBytes(address);
    return [b.readUInt32BE(0), b.readUInt32BE(4), b.readUInt32BE(8), b.readUInt32BE(12)];
  }
  return [ipv4Word(address), 0, 0, 0];
}

/** A dotted quad as one u32 (the text is the kernel's, so well formed). */
function ipv4Word(address: string): number {
  let v = 0;
  let octet = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 0x2e) { v = v * 256 + octet; octet = 0; } else octet = octet * 10 + (c - 0x30);
  }
  return v * 256 + octet;
}

const NO_WORDS: [number, number, number, number] = [0, 0, 0, 0];

function cmpWords(v6: boolean, a: readonly number[], b: readonly number[]): number {
  let r = 0;
  for (let i = 0; r === 0 && i < (v6 ? 4 : 1); i++) r = diff32(a[i]!, b[i]!);
  return r;
}

/** compareServices on keys read once (the comparator's order, without its allocations). */
function cmpKeyedServices<T>(a: Keyed<T>, b: Keyed<T>): number {
  return diff32(a.fwmark, b.fwmark) || (a.af - b.af) || (a.proto - b.proto) || cmpWords(a.v6, a.w, b.w) || (a.port - b.port);
}

/** compareDestinations on keys read once. */
function cmpKeyedDestinations<T>(a: Keyed<T>, b: Keyed<T>): number {
  return cmpWords(a.v6, a.w, b.w) || (a.port - b.port);
}

/**
 * Whether the comparator is a total order on these keys: every pair of values it subtracts as
 * 32-bit numbers lies within 2^31 of each other. Then any stable sort gives glibc's result.
 */
function consistent<T>(keyed: readonly Keyed<T>[], withMarks: boolean): boolean {
  const lo = [Infinity, Infinity, Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity];
  for (const k of keyed) {
    for (let i = 0; i < 4; i++) {
      const v = k.w[i]!;
      if (v < lo[i]!) lo[i] = v;
      if (v > hi[i]!) hi[i] = v;
    }
    if (withMarks) {
      if (k.fwmark < lo[4]!) lo[4] = k.fwmark;
      if (k.fwmark > hi[4]!) hi[4] = k.fwmark;
    }
  }
  for (let i = 0; i < 5; i++) if (hi[i]! - lo[i]! >= 2 ** 31) return false;
  return true;
}

/** The items in glibc's order: the engine's stable sort where the order is total, glibc's merge sort reproduced otherwise. */
function orderOf<T>(keyed: Keyed<T>[], cmp: (a: Keyed<T>, b: Keyed<T>) => number, withMarks: boolean): T[] {
  const sorted = consistent(keyed, withMarks) ? keyed.sort(cmp) : glibcSort(keyed, cmp);
  const out = new Array<T>(sorted.length);
  for (let i = 0; i < sorted.length; i++) out[i] = sorted[i]!.item;
  return out;
}

/** Services in ipvsadm's listing order. */
export function sortServices<T extends IpvsService>(services: readonly T[]): T[] {
  const keyed = services.map((s): Keyed<T> => {
    const fw = 'fwmark' in s;
    return {
      item: s, fwmark: fw ? s.fwmark : 0, af: AF[s.family], proto: fw ? 0 : PROTO[s.protocol] ?? 0,
      w: fw ? NO_WORDS : words(s.address), v6: s.family === 'inet6', port: fw ? 0 : s.port,
    };
  });
  return orderOf(keyed, cmpKeyedServices, true);
}

/** Lists up to this long are sorted by {@link sortSmallIPv4} (a service's real servers, mostly). */
const SMALL = 32;
const smallKeys = new Float64Array(SMALL);
const smallOrder = new Int32Array(SMALL);

/**
 * IPv4 destinations whose addresses lie within 2^31 of each other (where ipvsadm's comparator is
 * a total order, so any stable sort gives glibc's result), by insertion sort on `address << 16 |
 * port` with nothing allocated but the result; undefined for any other list.
 */
function sortSmallIPv4<T extends IpvsDestination>(dests: readonly T[]): T[] | undefined {
  const n = dests.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const d = dests[i]!;
    if (d.family === 'inet6') return undefined;
    const w = ipv4Word(d.address);
    if (w < lo) lo = w;
    if (w > hi) hi = w;
    const key = w * 65536 + d.port;
    let j = i;
    for (; j > 0 && smallKeys[j - 1]! > key; j--) {
      smallKeys[j] = smallKeys[j - 1]!;
      smallOrder[j] = smallOrder[j - 1]!;
    }
    smallKeys[j] = key;
    smallOrder[j] = i;
  }
  if (hi - lo >= 2 ** 31) return undefined;
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = dests[smallOrder[i]!]!;
  return out;
}

/** Destinations in ipvsadm's listing order. */
export function sortDestinations<T extends IpvsDestination>(dests: readonly T[]): T[] {
  if (dests.length < 2) return dests.slice();
  const small = dests.length <= SMALL ? sortSmallIPv4(dests) : undefined;
  if (small) return small;
  const keyed = dests.map((d): Keyed<T> => ({ item: d, fwmark: 0, af: 0, proto: 0, w: words(d.address), v6: d.family === 'inet6', port: d.port }));
  return orderOf(keyed, cmpKeyedDestinations, false);
}
