import { isIPv4, isIPv6 } from 'node:net';
import { DecodeError } from './errors';
import { AF_INET, AF_INET6 } from '../uapi/netlink';

/** The address family of a textual address, or undefined when it is neither. */
export function familyOf(text: string): typeof AF_INET | typeof AF_INET6 | undefined {
  if (isIPv4(text)) return AF_INET;
  if (isIPv6(text)) return AF_INET6;
  return undefined;
}

/** Address text to bytes (4 for IPv4, 16 for IPv6). Throws TypeError on anything else. */
export function parseAddress(text: string, family?: number): Buffer {
  const f = familyOf(text);
  if (f === undefined) throw new TypeError(`'${text}' is not an IPv4 or IPv6 address`);
  if (family !== undefined && family !== 0 && family !== f) {
    throw new TypeError(`'${text}' is not an ${family === AF_INET ? 'IPv4' : 'IPv6'} address`);
  }
  if (f === AF_INET) return Buffer.from(text.split('.').map(Number));
  return ipv6Bytes(text);
}

function ipv6Bytes(text: string): Buffer {
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

/**
 * Bytes to address text. With a family the bytes may be longer than the address (the kernel
 * sends IPv4 inside a 16-byte `union nf_inet_addr`); without one, the length decides.
 */
export function formatAddress(bytes: Buffer, family: number | undefined, path: string): string {
  const f = family ?? (bytes.length === 4 ? AF_INET : bytes.length === 16 ? AF_INET6 : 0);
  if (f === AF_INET) {
    if (bytes.length < 4) throw new DecodeError(path, `IPv4 address length ${bytes.length} < 4`);
    return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  }
  if (f === AF_INET6) {
    if (bytes.length < 16) throw new DecodeError(path, `IPv6 address length ${bytes.length} < 16`);
    return formatIPv6(bytes);
  }
  throw new DecodeError(path, `address of ${bytes.length} bytes in unknown family ${family}`);
}

/** RFC 5952 text: lowercase, the longest run of two or more zero groups as `::`. */
function formatIPv6(b: Buffer): string {
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
