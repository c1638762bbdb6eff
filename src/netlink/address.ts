import { isIPv4, isIPv6 } from 'node:net';
import { DecodeError } from './errors';
import { AF_INET, AF_INET6 } from '../uapi/netlink';

/**
 * The address family of a textual address, or undefined when it is neither.
 *
 * Two forms that look like addresses are refused outright, with a TypeError that says why, since
 * reading them any way would silently program another address:
 * - an IPv6 zone id (`fe80::1%eth0`): IPVS services and destinations, ipset entries and rtnetlink
 *   addresses carry no scope id, and `net.isIPv6` accepts the zone while the bytes would be made
 *   from the text around it (`fe80::1%1.2.3.4` came out as `fe80::2:304`);
 * - an IPv4 octet with a leading zero (`010.0.0.1`): `ip`, `ipset` and `ipvsadm` (inet_aton) read
 *   it as octal (8.0.0.1), most other software as decimal (10.0.0.1).
 * @throws TypeError for those two forms.
 */
export function familyOf(text: string): typeof AF_INET | typeof AF_INET6 | undefined {
  if (isIPv4(text)) return AF_INET;
  if (isIPv6(text)) {
    const zone = text.indexOf('%');
    if (zone >= 0) {
      throw new TypeError(`'${quote(text)}' has an IPv6 zone id (${quote(text.slice(zone))}): IPVS, ipset and link addresses carry no scope id; give the address without it`);
    }
    return AF_INET6;
  }
  if (typeof text === 'string' && LEADING_ZERO_V4.test(text)) {
    throw new TypeError(`'${quote(text)}' has an IPv4 octet with a leading zero, which ip, ipset and ipvsadm read as octal and others as decimal: write it without leading zeros`);
  }
  return undefined;
}

/** Four dotted groups of digits, one of them with a leading zero (`010`, `00`). */
const LEADING_ZERO_V4 = /^(?=(?:.*\.)?0\d)\d{1,3}(?:\.\d{1,3}){3}$/;

/** At most 100 characters of an input, for an error message. */
function quote(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}

/** Address text to bytes (4 for IPv4, 16 for IPv6). Throws TypeError on anything else. */
export function parseAddress(text: string, family?: number): Buffer {
  const out = Buffer.alloc(addressLength(text, family));
  writeAddress(out, 0, text, family);
  return out;
}

/**
 * What {@link scanIPv4} and {@link scanDigits} read last: the number, and the index after it.
 * One object for every caller: the readers of restore files scan tens of thousands of lines
 * without an allocation per field.
 */
export const scanned = { value: 0, end: 0 };

/**
 * A dotted quad without leading zeros (as `ipvsadm -Sn` and `ipset save` write it) starting at
 * `i` of `s`, read in place: true with its u32 in {@link scanned}; false if there is none there.
 * Whatever follows is the caller's to check.
 */
export function scanIPv4(s: string, i: number): boolean {
  let v = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (s.charCodeAt(i) !== 0x2e) return false;
      i++;
    }
    let o = s.charCodeAt(i) - 0x30;
    if (!(o >= 0 && o <= 9)) return false;
    i++;
    if (o !== 0) {
      for (let k = 0; k < 2; k++) {
        const c = s.charCodeAt(i) - 0x30;
        if (!(c >= 0 && c <= 9)) break;
        o = o * 10 + c;
        i++;
      }
      if (o > 255) return false;
    }
    v = v * 256 + o;
  }
  scanned.end = i;
  scanned.value = v;
  return true;
}

/** One to `max` decimal digits at `i` of `s`: true with their value in {@link scanned}. */
export function scanDigits(s: string, i: number, max: number): boolean {
  let v = 0;
  let k = 0;
  for (; k < max; k++) {
    const c = s.charCodeAt(i + k) - 0x30;
    if (!(c >= 0 && c <= 9)) break;
    v = v * 10 + c;
  }
  if (k === 0) return false;
  scanned.end = i + k;
  scanned.value = v;
  return true;
}

/**
 * A canonical dotted quad (exactly what `net.isIPv4` accepts) as a u32, or -1: `s`, or its first
 * `end` characters. Encoders meet tens of thousands of these in a batch; this avoids a regular
 * expression, a split and an array each.
 */
export function parseIPv4(s: string, end = s.length): number {
  const n = end;
  if (n < 7 || n > 15) return -1;
  let v = 0, part = 0, digits = 0, dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
    } else {
      if (c < 48 || c > 57 || (digits === 1 && part === 0)) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + part;
}

function check(text: string, f: number | undefined, family: number | undefined): number {
  if (f === undefined) throw new TypeError(`'${text}' is not an IPv4 or IPv6 address`);
  if (family !== undefined && family !== 0 && family !== f) {
    throw new TypeError(`'${text}' is not an ${family === AF_INET ? 'IPv4' : 'IPv6'} address`);
  }
  return f;
}

/** Bytes an address takes (4 or 16), with {@link parseAddress}'s checks. */
export function addressLength(text: string, family?: number): number {
  const f = typeof text === 'string' && parseIPv4(text) >= 0 ? AF_INET : familyOf(text);
  return check(text, f, family) === AF_INET ? 4 : 16;
}

/** Writes an address's bytes at `off` (no Buffer of its own); returns how many (4 or 16). Checks as {@link parseAddress}. */
export function writeAddress(buf: Buffer, off: number, text: string, family?: number): number {
  const v4 = typeof text === 'string' ? parseIPv4(text) : -1;
  if (v4 >= 0) {
    check(text, AF_INET, family);
    buf.writeUInt32BE(v4, off);
    return 4;
  }
  check(text, familyOf(text), family);
  ipv6Bytes(text).copy(buf, off);
  return 16;
}

/**
 * The 16 bytes of IPv6 text (`::` and an embedded dotted quad allowed); the text is not checked:
 * callers pass only what {@link familyOf} called AF_INET6 (which refuses zone ids).
 */
export function ipv6Bytes(text: string): Buffer {
  const out = Buffer.alloc(16);
  let s = text;
  // An embedded dotted quad (::ffff:1.2.3.4) becomes two hex groups.
  const dot = s.lastIndexOf('.');
  if (dot >= 0) {
    const colon = s.lastIndexOf(':');
    const v4 = s.slice(colon + 1).split('.').map(Number);
    s = `${s.slice(0, colon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

// A dotted quad's characters, written here and made into one flat string by String.fromCharCode.
// Concatenating pieces makes a cons string of three objects for the longer addresses; the young
// generation then copies three objects per entry instead of one (measured in the VM: the median
// ipset LIST decode of 50,000 entries went from ~55 ms to ~35 ms, GC included).
const CH = new Uint8Array(15);

function digits(v: number, o: number): number {
  if (v >= 100) {
    CH[o++] = 48 + ((v / 100) | 0);
    v %= 100;
    CH[o++] = 48 + ((v / 10) | 0);
    v %= 10;
  } else if (v >= 10) {
    CH[o++] = 48 + ((v / 10) | 0);
    v %= 10;
  }
  CH[o] = 48 + v;
  return o + 1;
}

/** `a.b.c.d` as one flat string (decoders of tens of thousands of addresses use it). */
export function dottedQuad(a: number, b: number, c: number, d: number): string {
  let o = digits(a, 0);
  CH[o++] = 46;
  o = digits(b, o);
  CH[o++] = 46;
  o = digits(c, o);
  CH[o++] = 46;
  o = digits(d, o);
  const f = String.fromCharCode, h = CH;
  switch (o) {
    case 7: return f(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!);
    case 8: return f(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!);
    case 9: return f(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, h[8]!);
    case 10: return f(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, h[8]!, h[9]!);
    case 11: return f(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, h[8]!, h[9]!, h[10]!);
    case 12: return f(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, h[8]!, h[9]!, h[10]!, h[11]!);
    case 13: return f(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, h[8]!, h[9]!, h[10]!, h[11]!, h[12]!);
    case 14: return f(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, h[8]!, h[9]!, h[10]!, h[11]!, h[12]!, h[13]!);
    default: return f(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, h[8]!, h[9]!, h[10]!, h[11]!, h[12]!, h[13]!, h[14]!);
  }
}

/**
 * {@link formatAddress} of `buf[p, q)` without a Buffer view for IPv4 (`family` AF_INET, or none
 * and 4 bytes), which decoders meet tens of thousands of times. The path in an error is `parent`,
 * or `parent.key`: built only then.
 */
export function formatAddressAt(buf: Buffer, p: number, q: number, family: number | undefined, parent: string, key?: string): string {
  if ((family === AF_INET && q - p >= 4) || (family === undefined && q - p === 4)) {
    return dottedQuad(buf[p]!, buf[p + 1]!, buf[p + 2]!, buf[p + 3]!);
  }
  return formatAddress(buf.subarray(p, q), family, key === undefined ? parent : `${parent}.${key}`);
}

/**
 * Bytes to address text. With a family the bytes may be longer than the address (the kernel
 * sends IPv4 inside a 16-byte `union nf_inet_addr`); without one, the length decides.
 */
export function formatAddress(bytes: Buffer, family: number | undefined, path: string): string {
  const f = family ?? (bytes.length === 4 ? AF_INET : bytes.length === 16 ? AF_INET6 : 0);
  if (f === AF_INET) {
    if (bytes.length < 4) throw new DecodeError(path, `IPv4 address length ${bytes.length} < 4`);
    return dottedQuad(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  }
  if (f === AF_INET6) {
    if (bytes.length < 16) throw new DecodeError(path, `IPv6 address length ${bytes.length} < 16`);
    return formatIPv6(bytes);
  }
  throw new DecodeError(path, `address of ${bytes.length} bytes in unknown family ${family}`);
}

/** RFC 5952 text: lowercase, the longest run of two or more zero groups as `::`. */
export function formatIPv6(b: Buffer): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(i * 2));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * The bytes of an IPv4 (4) or IPv6 (16) address, as the kernel carries them.
 * @throws TypeError when the text is neither.
 * @category Advanced protocol
 */
export function addressBytes(text: string): Buffer {
  return parseAddress(text);
}

/**
 * An address in the canonical text the kernel's replies decode to (IPv6 per RFC 5952:
 * lowercase, the longest zero run as `::`), so addresses from users and from the kernel compare equal.
 * @throws TypeError when the text is neither IPv4 nor IPv6.
 * @category Advanced protocol
 */
export function canonicalAddress(text: string): string {
  return formatAddress(parseAddress(text), undefined, 'canonicalAddress');
}
