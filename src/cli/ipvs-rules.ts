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
/** `-a -t|-u ADDR:PORT -r ADDR:PORT -g|-m -w WEIGHT`. */
const ADD_SERVER = new RegExp(`^-a -([tu]) ${ADDR_PORT} -r ${ADDR_PORT} -([gm]) -w (\\d{1,5})$`);

/** ipvsadm's longest persistence time-out (31 days). */
const MAX_TIMEOUT = 86400 * 31;

/**
 * Reads a rules file line by line, the common lines by the fast tokenizer (numeric: host names
 * are the general parser's, through `hosts`). `keyCache` lets the
 * real servers of one service share its key object (the batch recognises a key it has just seen).
 */
export function parseRulesText(text: string, resolve?: PortResolver, hosts?: HostResolver): ParsedRule[] {
  const out: ParsedRule[] = [];
  eachRule(text, (r) => out.push(r), resolve, hosts);
  return out;
}

/**
 * {@link parseRulesText}, handing each rule to `sink` as it is read instead of keeping them: a
 * caller that queues each change at once (ipvs restore) holds no object per line.
 */
export function eachRule(text: string, sink: (rule: ParsedRule) => void, resolve?: PortResolver, hosts?: HostResolver): void {
  let lastKeyText = '';
  let lastKey: IpvsServiceKey | undefined;
  const keyOf = (p: string, addr: string, port: number, text: string): IpvsServiceKey => {
    if (text !== lastKeyText || !lastKey) {
      lastKeyText = text;
      lastKey = { protocol: p === 't' ? 'tcp' : 'udp', address: addr, port };
    }
    return lastKey;
  };
  let line = 0;
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end);
    start = end + 1;
    if (raw.length === 0) continue;
    const c = raw.charCodeAt(1);
    if (raw.charCodeAt(0) === 0x2d /* - */ && (c === 0x61 /* a */ || c === 0x41 /* A */)) {
      const rule = c === 0x61 ? fastServer(raw, line, keyOf) : fastService(raw, line);
      if (rule) {
        sink(rule);
        continue;
      }
    }
    const rule = parseRuleGeneral(raw, line, resolve, hosts);
    if (rule) sink(rule);
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

function fastServer(
  raw: string, line: number, keyOf: (p: string, addr: string, port: number, text: string) => IpvsServiceKey,
): ParsedRule | undefined {
  const m = ADD_SERVER.exec(raw);
  if (!m) return undefined;
  const port = Number(m[3]);
  const dport = Number(m[5]);
  const weight = Number(m[7]);
  if (port > 65535 || dport > 65535 || weight > 65535) return undefined;
  const masq = m[6] === 'm';
  const service = keyOf(m[1]!, m[2]!, port, raw.slice(3, raw.indexOf(' -r ')));
  // direct routing keeps the service's port (ipvsadm sends it), masquerading the server's
  const destination = { address: m[4]!, port: masq ? dport : port, forwarding: masq ? 'masq' as const : 'route' as const, weight, upperThreshold: 0, lowerThreshold: 0 };
  return { line, text: raw, change: { kind: 'addDestination', service, destination } };
}
