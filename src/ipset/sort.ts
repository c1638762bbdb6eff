/**
 * The order `ipset list -sorted` / `ipset save -sorted` prints the members of a hash set in.
 *
 * The ipset tool (7.x) sorts the printed member lines, not the kernel's data: it walks two lines
 * side by side, reading each leading number as C's `strtol(..., 16)` reads it (so `10.0.0.9` is
 * 0x10, 0, 0, 9 and sorts after `2.0.0.1`, and a MAC's bytes compare as numbers), comparing words
 * without a leading number (`tcp`, `eth0`) by length and then by bytes up to the next `:` or `,`,
 * putting a network (`/`) after the bare address and the longer prefix first, and a `::` before a
 * number. This module reproduces that order so the CLI's sorted output equals the tool's. Only
 * hash types are sorted (bitmaps come out in order, list:set keeps its members' order).
 */
import { formatEntry, type IpsetEntry } from './entry';

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const hexValue = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);

/**
 * C's strtol(s + at, &end, 16): the value and where the number ends; `end === at` when there is
 * no number there (leading white space and a sign are skipped, as is a `0x` before a hex digit).
 */
function strtol16(s: string, at: number): { value: number; end: number } {
  let p = at;
  while (p < s.length && isSpace(s.charCodeAt(p))) p++;
  let sign = 1;
  if (s[p] === '+' || s[p] === '-') {
    if (s[p] === '-') sign = -1;
    p++;
  }
  if (s[p] === '0' && (s[p + 1] === 'x' || s[p + 1] === 'X') && hexValue(s.charCodeAt(p + 2)) >= 0) p += 2;
  const digits = p;
  let value = 0;
  for (let d = hexValue(s.charCodeAt(p)); d >= 0; d = hexValue(s.charCodeAt(++p))) value = value * 16 + d;
  if (p === digits) return { value: 0, end: at };
  return { value: sign * Math.min(value, 2 ** 63), end: p };
}

/** strcspn(s + at, ":,"). */
function wordLength(s: string, at: number): number {
  let p = at;
  while (p < s.length && s[p] !== ':' && s[p] !== ',') p++;
  return p - at;
}

function byteCompare(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

/**
 * Compares two member lines (the element and its extensions, as printed) in ipset's sorted order:
 * negative when `a` prints first.
 */
export function compareEntryText(a: string, b: string): number {
  let i = 0;
  let j = 0;
  let neg = 1;
  while (i < a.length && j < b.length) {
    const x = strtol16(a, i);
    const y = strtol16(b, j);
    if (x.end === i || y.end === j) {
      // no leading number on one side: protocol names, interfaces, set names
      const n1 = wordLength(a, i);
      const n2 = wordLength(b, j);
      if (n1 === 0 && n2 === 0) return byteCompare(a.slice(i), b.slice(j));
      if (n1 !== n2) return n1 < n2 ? -1 : 1;
      const c = byteCompare(a.slice(i, i + n1), b.slice(j, j + n1));
      if (c !== 0) return c;
      i += n1 + 1;
      j += n1 + 1;
      neg = 1;
      continue;
    }
    if (x.value !== y.value) return x.value < y.value ? -neg : neg;
    const s1 = a[x.end];
    const s2 = b[y.end];
    if (s1 === '/' || s2 === '/') {
      // the bare address before its networks; after the `/`, the longer prefix first
      if (s1 === s2) neg = -1;
      else return s1 === '/' ? 1 : -1;
    }
    i = x.end + 1;
    j = y.end + 1;
    if (a[i] === ':' || b[j] === ':') {
      // IPv6 `::`
      if (a[i] === b[j]) {
        i++;
        j++;
      } else return a[i] === ':' ? -1 : 1;
    }
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0;
}

/**
 * The entries of a set of `type` in the order `ipset list -sorted` prints them (a new array; the
 * kernel's order for types the tool does not sort: bitmaps and list:set).
 * Equivalent to the member order of `ipset list -sorted` / `ipset save -sorted`.
 * @category ipset
 */
export function sortEntries(type: string, entries: readonly IpsetEntry[]): IpsetEntry[] {
  if (!type.startsWith('hash:')) return [...entries];
  const keyed = entries.map((e) => ({ e, text: `${formatEntry(type, e)}\n` }));
  keyed.sort((x, y) => compareEntryText(x.text, y.text));
  return keyed.map((k) => k.e);
}
