// The address parser (src/netlink/address.ts) against malformed and ambiguous text: IPv6 zone ids,
// extra colons, too many groups, embedded IPv4 in the wrong place, leading zeros in IPv4 octets.
// Every form is either read to the bytes it means or refused with a TypeError; none becomes
// another address. It serves services, destinations, ipset entries and link addresses alike.
import { describe, expect, it } from 'vitest';
import { addressLength, canonicalAddress, familyOf, formatIPv6, parseAddress } from '../../src/netlink/address';
import { encodeMessages } from '../../src/netlink/message';
import { addDestinationOp, addServiceOp } from '../../src/ipvs/ops';
import { entryAttrs, parseEntry } from '../../src/ipset/entry';
import { addAddressOp } from '../../src/address/ops';
import type { GenlFamily } from '../../src/netlink/genl';
import { mulberry32 } from './random';

const IPVS: GenlFamily = { name: 'IPVS', id: 0x22, version: 1, hdrsize: 0, maxattr: 10, commands: new Set(), groups: new Map() };

const ZONE = /zone id/;
const LEADING_ZERO = /leading zero/;
const NOT_AN_ADDRESS = /not an IPv4 or IPv6 address/;

// text, then: the canonical text it reads as, or the error it must give
const TABLE: [string, string | RegExp][] = [
  // IPv6 zone ids: refused, never read as the text around them
  ['fe80::1%1.2.3.4', ZONE], // was fe80::2:304
  ['1::%a:b', ZONE], // was 1::b
  ['fe80::1%eth0', ZONE], // was fe80::1
  ['fe80::1%1', ZONE],
  ['::ffff:1.2.3.4%x', ZONE],
  ['%eth0', NOT_AN_ADDRESS],
  ['fe80::1%', NOT_AN_ADDRESS],
  // extra colons and misplaced compression
  ['1:::2', NOT_AN_ADDRESS],
  [':::', NOT_AN_ADDRESS],
  ['1::2::3', NOT_AN_ADDRESS],
  [':1::', NOT_AN_ADDRESS],
  ['1:2:3:4:5:6:7:8:', NOT_AN_ADDRESS],
  [':1:2:3:4:5:6:7:8', NOT_AN_ADDRESS],
  // too many or too few groups
  ['1:2:3:4:5:6:7:8:9', NOT_AN_ADDRESS],
  ['1:2:3:4:5:6:7::8', NOT_AN_ADDRESS],
  ['1:2:3:4:5:6:7:8::', NOT_AN_ADDRESS],
  ['1:2:3:4:5:6:7', NOT_AN_ADDRESS],
  ['1::12345', NOT_AN_ADDRESS],
  ['1::g', NOT_AN_ADDRESS],
  // embedded IPv4: only as the last 32 bits
  ['1.2.3.4::', NOT_AN_ADDRESS],
  ['1:1.2.3.4:2::', NOT_AN_ADDRESS],
  ['1:2:3:4:5:6:7:1.2.3.4', NOT_AN_ADDRESS],
  ['::ffff:1.2.3', NOT_AN_ADDRESS],
  ['::ffff:1.2.3.256', NOT_AN_ADDRESS],
  ['::ffff:01.2.3.4', NOT_AN_ADDRESS],
  // IPv4 octets with leading zeros: ip, ipset and ipvsadm read 010 as octal 8; refused
  ['010.0.0.1', LEADING_ZERO],
  ['10.0.0.01', LEADING_ZERO],
  ['10.00.0.1', LEADING_ZERO],
  ['192.168.001.1', LEADING_ZERO],
  // other malformed IPv4
  ['1.2.3', NOT_AN_ADDRESS],
  ['1.2.3.4.5', NOT_AN_ADDRESS],
  ['1..2.3', NOT_AN_ADDRESS],
  ['256.1.1.1', NOT_AN_ADDRESS],
  ['0x1.2.3.4', NOT_AN_ADDRESS],
  [' 1.2.3.4', NOT_AN_ADDRESS],
  ['1.2.3.4 ', NOT_AN_ADDRESS],
  ['', NOT_AN_ADDRESS],
  // accepted, with what they mean
  ['0.0.0.0', '0.0.0.0'],
  ['10.0.0.0', '10.0.0.0'],
  ['100.200.0.255', '100.200.0.255'],
  ['::', '::'],
  ['::1', '::1'],
  ['FE80::1', 'fe80::1'],
  ['0001:0002::0003', '1:2::3'],
  ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ['::1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
  ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ['::1.2.3.4', '::102:304'],
  ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
  ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
];

describe('address forms', () => {
  it.each(TABLE)('%j', (text, want) => {
    if (typeof want === 'string') {
      expect(canonicalAddress(text)).toBe(want);
      expect(addressLength(text)).toBe(text.includes(':') ? 16 : 4);
    } else {
      expect(() => parseAddress(text)).toThrow(TypeError);
      expect(() => parseAddress(text)).toThrow(want);
      if (want !== NOT_AN_ADDRESS) expect(() => familyOf(text)).toThrow(want);
    }
  });

  it('refuses a zone id in services, destinations, ipset entries and link addresses', () => {
    const svc = { protocol: 'tcp' as const, address: 'fd00::1', port: 80 };
    for (const bad of ['fe80::1%1.2.3.4', '1::%a:b', 'fe80::1%eth0']) {
      expect(() => encodeMessages([addServiceOp(IPVS, { ...svc, address: bad }).message], 1)).toThrow(ZONE);
      expect(() => encodeMessages([addDestinationOp(IPVS, svc, { address: bad, port: 80 }).message], 1)).toThrow(ZONE);
      expect(() => entryAttrs({ ip: bad }, 'ipset.add', 'hash:ip')).toThrow(ZONE);
      expect(() => parseEntry('hash:ip', bad)).toThrow(ZONE);
      expect(() => addAddressOp(1, `${bad}/128`)).toThrow(ZONE);
      expect(() => addAddressOp(1, bad)).toThrow(ZONE);
    }
    expect(() => addAddressOp(1, '010.0.0.1/32')).toThrow(LEADING_ZERO);
  });

  it('quotes at most 100 characters of the input', () => {
    const long = `fe80::1%${'x'.repeat(500)}`;
    let message = '';
    try {
      parseAddress(long);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(ZONE);
    expect(message.length).toBeLessThan(320);
  });

  it('reads random IPv6 text, compressed or not, with or without an IPv4 tail, to the bytes it was made from', () => {
    const rnd = mulberry32(13);
    for (let n = 0; n < 5000; n++) {
      const b = Buffer.alloc(16);
      for (let i = 0; i < 16; i++) b[i] = rnd() < 0.4 ? 0 : Math.floor(rnd() * 256);
      const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16));
      let text = groups.join(':');
      if (rnd() < 0.3) text = `${groups.slice(0, 6).join(':')}:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
      else if (rnd() < 0.5) text = formatIPv6(b);
      if (rnd() < 0.2) text = text.toUpperCase();
      expect(parseAddress(text).equals(b), text).toBe(true);
      // WHATWG's URL parser reads IPv6 on its own: its canonical hex form must give the same bytes
      const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      expect(parseAddress(host).equals(b), `${text} vs ${host}`).toBe(true);
    }
  });
});
