/** Address ranges (`10.96.0.0/12`, `fd00:10:96::/108`) and membership, for the proxy's ownership scope. */
import { isIP } from 'node:net';

export interface Cidr {
  text: string;
  family: 4 | 6;
  base: bigint;
  bits: number;
}

function toBig(ip: string): bigint {
  if (isIP(ip) === 4) return ip.split('.').reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:10.0.0.1) is two groups.
  const expand = (groups: string[]) =>
    groups.flatMap((g) => (g.includes('.') ? [((toBig(g) >> 16n) & 0xffffn).toString(16), (toBig(g) & 0xffffn).toString(16)] : [g]));
  const hh = expand(h);
  const tt = expand(t);
  const groups = tail === undefined ? hh : [...hh, ...Array<string>(8 - hh.length - tt.length).fill('0'), ...tt];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

/** Parses `ADDR/LEN`. Throws RangeError with the text when it is not one. */
export function parseCidr(text: string): Cidr {
  const m = /^([^/]+)\/(\d+)$/.exec(text.trim());
  const v = m ? isIP(m[1]!) : 0;
  const bits = m ? Number(m[2]) : -1;
  if (!m || v === 0 || bits > (v === 4 ? 32 : 128)) throw new RangeError(`'${text}' is not an address range like 10.96.0.0/12 or fd00:10:96::/108`);
  const width = v === 4 ? 32 : 128;
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return { text: text.trim(), family: v as 4 | 6, base: toBig(m[1]!) & mask, bits };
}

/** Is `ip` inside `c`? */
export function contains(c: Cidr, ip: string): boolean {
  const v = isIP(ip);
  if (v !== c.family) return false;
  const width = v === 4 ? 32 : 128;
  const mask = c.bits === 0 ? 0n : ((1n << BigInt(c.bits)) - 1n) << BigInt(width - c.bits);
  return (toBig(ip) & mask) === c.base;
}
