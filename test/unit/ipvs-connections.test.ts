// The IPVS connection table: /proc/net/ip_vs_conn parsed, and printed in ipvsadm -Lnc's layout.
// Golden files: test/golden/ipvs-conn-proc.txt and the ipvsadm -Lnc (and --persistent-conn)
// output of the same moment, captured from Linux 6.1.176 (UML) with ipvsadm v1.31 by
// scripts/golden/ipvs-conn-capture.sh: TCP and UDP over IPv4 and IPv6, a persistence template,
// and an IPv4 destination behind an IPv6 service.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConnectionTableParser, parseConnections } from '../../src/ipvs/connections';
import { formatConnections } from '../../src/cli/conn-format';
import { DecodeError } from '../../src/netlink/errors';
import { mulberry32 } from './random';

const DIR = path.join(__dirname, '..', 'golden');
const proc = readFileSync(path.join(DIR, 'ipvs-conn-proc.txt'));
const text = (f: string) => readFileSync(path.join(DIR, f), 'utf8');

describe('the IPVS connection table', () => {
  it('parses every entry of a real /proc/net/ip_vs_conn', () => {
    const conns = parseConnections(proc);
    expect(conns).toHaveLength(7);
    expect(conns[0]).toEqual({
      protocol: 'tcp', family: 'inet6',
      clientAddress: 'fd00::2', clientPort: 0xcb1c,
      virtualAddress: 'fd00::1', virtualPort: 80,
      destinationAddress: 'fd00::9', destinationPort: 80,
      state: 'SYN_RECV', expires: 57, template: false,
    });
    expect(conns[1]).toMatchObject({ protocol: 'udp', family: 'inet', clientAddress: '10.0.0.2', virtualAddress: '10.0.0.7', virtualPort: 53, state: 'UDP', expires: 297 });
    expect(conns[2]).toMatchObject({ protocol: 'tcp', clientPort: 0, virtualAddress: '10.0.0.5', virtualPort: 443, destinationAddress: '10.9.9.3', state: 'NONE', template: true });
    expect(conns[4]).toMatchObject({ family: 'inet6', virtualAddress: 'fd00::1', virtualPort: 8080, destinationAddress: '10.9.9.5' });
    expect(conns.filter((c) => c.template)).toHaveLength(1);
  });

  it('prints what ipvsadm -Lnc and -Lnc --persistent-conn printed of the same table', () => {
    const conns = parseConnections(proc);
    expect(formatConnections(conns)).toBe(text('ipvs-conn-ipvsadm.txt'));
    expect(formatConnections(conns, true)).toBe(text('ipvs-conn-ipvsadm-pe.txt'));
  });

  it('reads the persistence engine and its data, and prints them as ipvsadm does', () => {
    const line = 'UDP 0A000002 13C4 0A000001 13C4 0A090901 13C4 UDP             170 sip 2da9f5c0@10.0.0.2\n';
    const [c] = parseConnections(line);
    expect(c!.persistenceEngine).toEqual({ name: 'sip', data: '2da9f5c0@10.0.0.2' });
    expect(formatConnections([c!], true).split('\n')[2]).toBe(
      'UDP 02:50  UDP         10.0.0.2:5060      10.0.0.1:5060      10.9.9.1:5060      sip              2da9f5c0@10.0.0.2',
    );
    expect(formatConnections([c!]).split('\n')[2]).toBe('UDP 02:50  UDP         10.0.0.2:5060      10.0.0.1:5060      10.9.9.1:5060');
  });

  it('gives the same rows whatever the chunks the file arrives in', () => {
    const whole = parseConnections(proc);
    const rnd = mulberry32(7);
    for (let round = 0; round < 50; round++) {
      const parser = new ConnectionTableParser();
      // cut at line ends only, as the reader hands over whole lines
      let start = 0;
      while (start < proc.length) {
        let cut = Math.min(proc.length, start + 1 + Math.floor(rnd() * 400));
        cut = proc.indexOf(10, cut - 1) + 1 || proc.length;
        parser.push(proc, start, cut);
        start = cut;
      }
      expect(parser.rows()).toEqual(whole);
    }
  });

  it('expiry past an hour prints as ipvsadm does (minutes beyond 59)', () => {
    const [c] = parseConnections('TCP 0A000002 0000 0A000005 01BB 0A090903 01BB NONE          10800\n');
    expect(formatConnections([c!]).split('\n')[2]).toBe('TCP 180:00 NONE        10.0.0.2:0         10.0.0.5:443       10.9.9.3:443');
  });

  it('names the line of a malformed entry, and only ever throws DecodeError', () => {
    const header = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n';
    expect(() => parseConnections(`${header}TCP 0A000002 D554 0A00001 0050 0A090901 0050 SYN_RECV 57\n`)).toThrow(/ipvs.connections:2: bad virtual address '0A00001'/);
    expect(() => parseConnections(`${header}TCP 0A000002 D5G4\n`)).toThrow(DecodeError);
    expect(() => parseConnections(`${header}TCP 0A000002 D554 0A000001 0050 0A090901 0050 SYN_RECV\n`)).toThrow(/line ends before its expiry/);
    expect(() => parseConnections('TCP fd00:0000:0000:0000:0000:0000:0000:000g 0050\n')).toThrow(/bad client address/);
    const rnd = mulberry32(11);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(proc);
      for (let k = 0; k < 1 + Math.floor(rnd() * 6); k++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      const cut = bytes.subarray(0, Math.floor(rnd() * bytes.length));
      try {
        parseConnections(cut);
      } catch (err) {
        expect(err).toBeInstanceOf(DecodeError);
      }
    }
  });
});
