/**
 * The IPVS connection table, from `/proc/net/ip_vs_conn` (ip_vs_conn.c: ip_vs_conn_seq_show):
 * IPVS has no netlink dump of its connections, and `ipvsadm -Lnc` reads the same file. One line
 * per connection and per persistence template, IPv4 and IPv6 alike:
 *
 * ```
 * Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
 * TCP 0A000002 A486 0A000001 0050 0A090901 0050 SYN_RECV         59
 * ```
 *
 * Addresses are hex (IPv4) or the kernel's `%pI6` (eight groups of four hex digits), ports hex,
 * the expiry in seconds. The parser works on the bytes of each chunk read (no string or regular
 * expression per line), so a table of 100,000 connections costs one object per connection.
 *
 * @module
 */
import { DecodeError } from '../netlink/errors';
import { dottedQuad, formatIPv6 } from '../netlink/address';
import type { IpFamily } from './service';

/**
 * A connection's protocol as the kernel names it (ip_vs_proto_name), lower-cased: `'ip'` is what
 * fwmark persistence templates carry (protocol 0). Any other name the kernel prints is kept
 * lower-cased.
 * @category IPVS
 */
export type IpvsConnectionProtocol = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6' | 'ip' | (string & {});

/** One entry of the IPVS connection table: a connection, or a persistence template. @category IPVS */
export interface IpvsConnection {
  /** `'tcp'`, `'udp'`, `'sctp'`, `'icmp'`, `'icmpv6'`, or `'ip'` for a fwmark persistence template. */
  protocol: IpvsConnectionProtocol;
  /** Family of the client and virtual addresses (the destination's may differ: see destinationAddress). */
  family: IpFamily;
  /** The client's address (ipvsadm's "source"). */
  clientAddress: string;
  /** The client's port; 0 in a persistence template. */
  clientPort: number;
  /** The virtual service's address; for a fwmark template the kernel prints the mark here as an IPv4 address (`0.0.0.7`). */
  virtualAddress: string;
  /** The virtual service's port (0 for fwmark templates and port-0 persistence). */
  virtualPort: number;
  /** The real server chosen (ipvsadm's "destination"), of either family. */
  destinationAddress: string;
  /** The real server's port. */
  destinationPort: number;
  /**
   * The state as the kernel names it: `ESTABLISHED`, `SYN_RECV`, `FIN_WAIT`, `TIME_WAIT`,
   * `CLOSE`, ... for TCP and SCTP, `UDP` for UDP, `NONE` or `ASSURED` for templates.
   */
  state: string;
  /** Seconds until the entry expires. */
  expires: number;
  /**
   * A persistence template (the client-to-real-server binding of a persistent service), not a
   * connection: the kernel gives templates client port 0 and a template state (NONE, ASSURED).
   */
  template: boolean;
  /** The persistence engine's name (`'sip'`) and its data (the Call-ID), for entries that have one. */
  persistenceEngine?: {
    /** The engine's name (`'sip'`). */
    name: string;
    /** What the engine keys on (for sip, the Call-ID). */
    data: string;
  };
}

const SP = 0x20;
const NL = 0x0a;
const UPPER_NAMES: Record<string, IpvsConnectionProtocol> = {
  TCP: 'tcp', UDP: 'udp', SCTP: 'sctp', ICMP: 'icmp', ICMPv6: 'icmpv6', IP: 'ip',
};
/** Lower-case protocol back to the kernel's spelling, for ipvsadm's layout. @category IPVS */
export const CONNECTION_PROTOCOL_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(UPPER_NAMES).map(([k, v]) => [v, k]),
);

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Parses `/proc/net/ip_vs_conn` a chunk of whole lines at a time; `rows()` is what was read. */
export class ConnectionTableParser {
  private readonly out: IpvsConnection[] = [];
  private line = 0;
  private readonly v6 = Buffer.alloc(16);
  // token bounds of the line being parsed
  private ts = 0;
  private te = 0;

  /** The entries parsed so far, in the file's order. */
  rows(): IpvsConnection[] {
    return this.out;
  }

  /** Parses the whole lines in `buf[start, end)`. @throws DecodeError on a malformed line. */
  push(buf: Buffer, start: number, end: number): void {
    let p = start;
    while (p < end) {
      let q = buf.indexOf(NL, p);
      if (q < 0 || q > end) q = end;
      this.line++;
      // the header ("Pro FromIP ...") and blank lines
      if (q > p && !(buf[p] === 0x50 && buf[p + 1] === 0x72)) this.parseLine(buf, p, q);
      p = q + 1;
    }
  }

  private fail(detail: string): never {
    throw new DecodeError(`ipvs.connections:${this.line}`, detail);
  }

  /** The next space-separated token of buf[p, q): sets ts/te, returns whether there was one. */
  private token(buf: Buffer, p: number, q: number): boolean {
    while (p < q && buf[p] === SP) p++;
    let e = p;
    while (e < q && buf[e] !== SP) e++;
    this.ts = p;
    this.te = e;
    return e > p;
  }

  private need(buf: Buffer, p: number, q: number, what: string): void {
    if (!this.token(buf, p, q)) this.fail(`line ends before its ${what}`);
  }

  private hex(buf: Buffer, what: string): number {
    let n = 0;
    for (let i = this.ts; i < this.te; i++) {
      const d = hexDigit(buf[i]!);
      if (d < 0) this.fail(`bad ${what} '${buf.toString('latin1', this.ts, this.te)}'`);
      n = n * 16 + d;
    }
    return n;
  }

  /** The token as an address: 8 hex digits (IPv4) or %pI6 (IPv6). */
  private address(buf: Buffer, what: string): string {
    const len = this.te - this.ts;
    if (len === 8) {
      const n = this.hex(buf, what);
      return dottedQuad(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    }
    if (len !== 39) this.fail(`bad ${what} '${buf.toString('latin1', this.ts, this.te)}'`);
    for (let g = 0; g < 8; g++) {
      const o = this.ts + g * 5;
      if (g < 7 && buf[o + 4] !== 0x3a) this.fail(`bad ${what} '${buf.toString('latin1', this.ts, this.te)}'`);
      let v = 0;
      for (let i = o; i < o + 4; i++) {
        const d = hexDigit(buf[i]!);
        if (d < 0) this.fail(`bad ${what} '${buf.toString('latin1', this.ts, this.te)}'`);
        v = v * 16 + d;
      }
      this.v6[g * 2] = v >> 8;
      this.v6[g * 2 + 1] = v & 255;
    }
    return formatIPv6(this.v6);
  }

  private parseLine(buf: Buffer, p: number, q: number): void {
    this.need(buf, p, q, 'protocol');
    const protoText = buf.toString('latin1', this.ts, this.te);
    const protocol = UPPER_NAMES[protoText] ?? protoText.toLowerCase();
    this.need(buf, this.te, q, 'client address');
    const family: IpFamily = this.te - this.ts === 8 ? 'inet' : 'inet6';
    const clientAddress = this.address(buf, 'client address');
    this.need(buf, this.te, q, 'client port');
    const clientPort = this.hex(buf, 'client port');
    this.need(buf, this.te, q, 'virtual address');
    const virtualAddress = this.address(buf, 'virtual address');
    this.need(buf, this.te, q, 'virtual port');
    const virtualPort = this.hex(buf, 'virtual port');
    this.need(buf, this.te, q, 'destination address');
    const destinationAddress = this.address(buf, 'destination address');
    this.need(buf, this.te, q, 'destination port');
    const destinationPort = this.hex(buf, 'destination port');
    this.need(buf, this.te, q, 'state');
    const state = buf.toString('latin1', this.ts, this.te);
    this.need(buf, this.te, q, 'expiry');
    let expires = 0;
    for (let i = this.ts; i < this.te; i++) {
      const c = buf[i]! - 48;
      if (c < 0 || c > 9) this.fail(`bad expiry '${buf.toString('latin1', this.ts, this.te)}'`);
      expires = expires * 10 + c;
    }
    const conn: IpvsConnection = {
      protocol, family, clientAddress, clientPort, virtualAddress, virtualPort,
      destinationAddress, destinationPort, state, expires,
      template: clientPort === 0 && (state === 'NONE' || state === 'ASSURED'),
    };
    // " PENAME PEDATA": the engine's data runs to the end of the line
    if (this.token(buf, this.te, q)) {
      const name = buf.toString('latin1', this.ts, this.te);
      let d = this.te;
      if (d < q && buf[d] === SP) d++;
      conn.persistenceEngine = { name, data: buf.toString('latin1', d, q) };
    }
    this.out.push(conn);
  }
}

/** Parses the whole text of `/proc/net/ip_vs_conn`. @throws DecodeError on a malformed line. @category IPVS */
export function parseConnections(text: Buffer | string): IpvsConnection[] {
  const buf = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const parser = new ConnectionTableParser();
  parser.push(buf, 0, buf.length);
  return parser.rows();
}
