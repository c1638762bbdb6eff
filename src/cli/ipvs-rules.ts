/**
 * Rules text in the `ipvsadm -S` / `ipvsadm -R` format, read for `ipvs restore`. The lines
 * `ipvsadm -Sn` writes for IPv4 services and their real servers (`-A -t 10.0.0.1:80 -s rr [-p N]`,
 * `-a -t 10.0.0.1:80 -r 10.1.0.5:8080 -m -w 1`) are read by a tokenizer made for them, without the
 * general option parser; every other line, and any line the tokenizer is unsure of, goes to that
 * parser (ipvs-args.ts), whose checks and words the errors keep. Unit tests compare the changes
 * of both readers for many lines.
 */
import { checkIpvsChange, type IpvsChange, type IpvsServiceKey } from '../index';
import { IpvsadmArgsError, parseIpvsadmArgs, toChange, type PortResolver } from './ipvs-args';
import { dottedQuad, scanDigits, scanIPv4, scanned } from '../netlink/address';
import type { HostResolver } from './names';

/** One line of a rules file read into a change (null: nothing to do), or the reason it cannot be. */
export interface ParsedRule {
  line: number;
  text: string;
  change: IpvsChange | null;
  error?: string;
}

/** The words of a rules line: whitespace-separated, `#` starts a comment, the word `ipvsadm` is ignored (as ipvsadm -R). */
export function ruleWords(line: string): string[] {
  const words: string[] = [];
  for (const w of line.trim().split(/\s+/)) {
    if (w === '') continue;
    if (w.startsWith('#')) break;
    if (w !== 'ipvsadm') words.push(w);
  }
  return words;
}

/** One line through the general parser, checked as ipvsadm and then the library would check it. */
export function parseRuleGeneral(raw: string, line: number, resolve?: PortResolver, hosts?: HostResolver): ParsedRule | undefined {
  const words = ruleWords(raw);
  if (words.length === 0) return undefined;
  const rule: ParsedRule = { line, text: raw.trim(), change: null };
  try {
    rule.change = toChange(parseIpvsadmArgs(words, resolve, hosts, { keepLongNames: true }));
    if (rule.change) checkIpvsChange(rule.change);
  } catch (err) {
    if (!(err instanceof IpvsadmArgsError || err instanceof TypeError || err instanceof RangeError)) throw err;
    rule.error = err.message;
  }
  return rule;
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ADDR_PORT = `(${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}):(\\d{1,5})`;
/** `-A -t|-u ADDR:PORT -s SCHED [-p TIMEOUT]`, single spaces, as ipvsadm -Sn writes it. */
const ADD_SERVICE = new RegExp(`^-A -([tu]) ${ADDR_PORT} -s ([A-Za-z0-9_-]{1,15})(?: -p (\\d{1,7}))?$`);
/** ipvsadm's longest persistence time-out (31 days). */
const MAX_TIMEOUT = 86400 * 31;

/**
 * A real server line of the common shape, its values checked: `address` is the dotted quad's
 * u32 and `port` the one the kernel is given (the service's for direct routing, which ipvsadm
 * sends, the server's for masquerading).
 */
export type ServerSink = (line: number, service: IpvsServiceKey, address: number, port: number, forwarding: 'masq' | 'route', weight: number) => void;

/**
 * Reads a rules file line by line, the common lines by the fast tokenizer (numeric: host names
 * are the general parser's, through `hosts`).
 */
export function parseRulesText(text: string, resolve?: PortResolver, hosts?: HostResolver): ParsedRule[] {
  const out: ParsedRule[] = [];
  eachRule(text, (r) => out.push(r), resolve, hosts);
  return out;
}

/**
 * {@link parseRulesText}, handing each rule to `sink` as it is read instead of keeping them. With
 * `server`, real server lines of the shape `ipvsadm -Sn` writes (`-a -t|-u ADDR:PORT -r
 * ADDR:PORT -g|-m -w WEIGHT`, single spaces) go there as numbers, read without a string or an
 * object per line (ipvs restore queues them at once); the real servers of one service share its
 * key object (the batch recognises a key it has just seen).
 */
export function eachRule(text: string, sink: (rule: ParsedRule) => void, resolve?: PortResolver, hosts?: HostResolver, server?: ServerSink): void {
  const servers = new ServerReader(text, server ?? ((line, service, address, port, forwarding, weight) => {
    const destination = { address: dottedQuad(address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255), port, forwarding, weight, upperThreshold: 0, lowerThreshold: 0 };
    sink({ line, text: text.slice(lineStart, lineEnd), change: { kind: 'addDestination', service, destination } });
  }));
  let lineStart = 0;
  let lineEnd = 0;
  let line = 0;
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    lineStart = start;
    lineEnd = end;
    start = end + 1;
    if (end === lineStart) continue;
    const c = text.charCodeAt(lineStart + 1);
    if (text.charCodeAt(lineStart) === 0x2d /* - */ && c === 0x61 /* a */ && servers.read(lineStart, end, line)) continue;
    const raw = text.slice(lineStart, end);
    if (c === 0x41 /* A */ && raw.charCodeAt(0) === 0x2d) {
      const rule = fastService(raw, line);
      if (rule) {
        sink(rule);
        continue;
      }
    }
    const rule = parseRuleGeneral(raw, line, resolve, hosts);
    if (rule) sink(rule);
  }
}

/**
 * The tokenizer of real server lines: reads the text in place (scanIPv4, scanDigits). A line it
 * is unsure of (any other spacing, a leading zero in an address, a number out of range) is left
 * to the general parser.
 */
class ServerReader {
  private lastProto = 0;
  private lastAddr = -1;
  private lastPort = -1;
  private lastKey: IpvsServiceKey | undefined;

  constructor(private readonly s: string, private readonly sink: ServerSink) {}

  /** Reads `-a ...` at [start, end); false when it is not of the common shape (nothing was handed on). */
  read(start: number, end: number, line: number): boolean {
    const s = this.s;
    // "-a -t " / "-a -u "
    const p = s.charCodeAt(start + 4);
    if (s.charCodeAt(start + 2) !== 0x20 || s.charCodeAt(start + 3) !== 0x2d || (p !== 0x74 && p !== 0x75) || s.charCodeAt(start + 5) !== 0x20) return false;
    if (!scanIPv4(s, start + 6) || s.charCodeAt(scanned.end) !== 0x3a) return false;
    const vaddr = scanned.value;
    const vaddrEnd = scanned.end;
    if (!scanDigits(s, scanned.end + 1, 5)) return false;
    const vport = scanned.value;
    let i = scanned.end;
    if (!s.startsWith(' -r ', i) || !scanIPv4(s, i + 4) || s.charCodeAt(scanned.end) !== 0x3a) return false;
    const raddr = scanned.value;
    if (!scanDigits(s, scanned.end + 1, 5)) return false;
    const rport = scanned.value;
    i = scanned.end;
    const f = s.charCodeAt(i + 2);
    if (s.charCodeAt(i) !== 0x20 || s.charCodeAt(i + 1) !== 0x2d || (f !== 0x67 /* g */ && f !== 0x6d /* m */)) return false;
    if (!s.startsWith(' -w ', i + 3) || !scanDigits(s, i + 7, 5) || scanned.end !== end) return false;
    const weight = scanned.value;
    if (vport > 65535 || rport > 65535 || weight > 65535) return false;
    if (p !== this.lastProto || vaddr !== this.lastAddr || vport !== this.lastPort || !this.lastKey) {
      this.lastProto = p;
      this.lastAddr = vaddr;
      this.lastPort = vport;
      this.lastKey = { protocol: p === 0x74 ? 'tcp' : 'udp', address: s.slice(start + 6, vaddrEnd), port: vport };
    }
    const masq = f === 0x6d;
    this.sink(line, this.lastKey, raddr, masq ? rport : vport, masq ? 'masq' : 'route', weight);
    return true;
  }
}

function fastService(raw: string, line: number): ParsedRule | undefined {
  const m = ADD_SERVICE.exec(raw);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const persistent = m[5] === undefined ? undefined : Number(m[5]);
  // zero ports need persistence; out-of-range time-outs: the general parser words both
  if ((port === 0 && persistent === undefined) || (persistent !== undefined && (persistent < 1 || persistent > MAX_TIMEOUT))) return undefined;
  const service = { protocol: m[1] === 't' ? 'tcp' as const : 'udp' as const, address: m[2]!, port, scheduler: m[4]!, ...(persistent !== undefined && { persistent }) };
  return { line, text: raw, change: { kind: 'addService', service } };
}
