import { describe, expect, it } from 'vitest';
import { decodeRecord, defineSchema, recordSize, writeRecord, type AttrRecord } from '../../src/netlink/attr';
import { DecodeError } from '../../src/netlink/errors';
import { parseAddress, formatAddress } from '../../src/netlink/address';

const inner = defineSchema('t.inner', { A: 1, B: 2 }, {
  a: { nla: 'A', type: 'u32', doc: '' },
  b: { nla: 'B', type: 'string', doc: '' },
}, { nestFlag: true });
const outer = defineSchema('t', { U8: 1, BE16: 2, U64: 3, STR: 4, NEST: 5, FLAG: 6, ADDR: 7, AF: 8, LIST: 9, PAIR: 10, BIN: 11 }, {
  u8: { nla: 'U8', type: 'u8', doc: '' },
  be16: { nla: 'BE16', type: 'be16', netByteOrder: true, doc: '' },
  u64: { nla: 'U64', type: 'u64', doc: '' },
  str: { nla: 'STR', type: 'string', doc: '' },
  nest: { nla: 'NEST', type: 'nested', nested: inner, doc: '' },
  flag: { nla: 'FLAG', type: 'flag', doc: '' },
  addr: { nla: 'ADDR', type: 'addr', familyFrom: 'af', addrLen: 16, doc: '' },
  af: { nla: 'AF', type: 'u16', doc: '' },
  list: { nla: 'LIST', type: 'list', itemId: 1, nested: inner, doc: '' },
  pair: { nla: 'PAIR', type: 'struct32', fields: ['flags', 'mask'], doc: '' },
  bin: { nla: 'BIN', type: 'binary', doc: '' },
});

function encode(rec: AttrRecord): Buffer {
  const buf = Buffer.alloc(recordSize(outer, rec));
  expect(writeRecord(buf, 0, outer, rec)).toBe(buf.length);
  return buf;
}

describe('attribute codec', () => {
  it('writes exact bytes: header, byte order, flags, zeroed padding', () => {
    const buf = encode({ u8: 7, be16: 0x1234, str: 'ab' });
    expect(buf.toString('hex')).toBe([
      '0500', '0100', '07000000', // len 5, type 1, u8 + 3 pad
      '0600', '0240', '12340000', // len 6, type 2 | NLA_F_NET_BYTEORDER, be16 + pad
      '0700', '0400', '61620000', // len 7, "ab\0" + pad
    ].join(''));
  });

  it('patches nest lengths and sets NLA_F_NESTED where the schema asks', () => {
    const buf = encode({ nest: { a: 1 } });
    expect(buf.toString('hex')).toBe('0c00' + '0500' + '0800' + '0100' + '01000000');
    const withFlag = encode({ list: [{ a: 1 }, { b: 'x' }] });
    // LIST attr (not flagged: outer schema has nestFlag false), items flagged by the inner schema
    expect(withFlag.readUInt16LE(2)).toBe(9);
    expect(withFlag.readUInt16LE(6)).toBe(0x8001);
  });

  it('round-trips every type', () => {
    const rec: AttrRecord = {
      u8: 255, be16: 80, u64: 2n ** 63n + 5n, str: 'héllo', nest: { a: 0xffffffff, b: 'in' }, flag: true,
      af: 10, addr: 'fd00::1', list: [{ a: 1 }, { a: 2, b: 'z' }], pair: { flags: 5, mask: 0xffffffff }, bin: Buffer.from([1, 2, 3]),
    };
    const back = decodeRecord(encode(rec), 0, encode(rec).length, outer);
    expect(back).toEqual(rec);
  });

  it('decodes an IPv4 address padded to 16 bytes by its sibling family', () => {
    const buf = encode({ af: 2, addr: '10.1.2.3' });
    expect(buf.length).toBe(8 + 20);
    expect(decodeRecord(buf, 0, buf.length, outer)).toEqual({ af: 2, addr: '10.1.2.3' });
  });

  it('keeps unknown attributes with their flags and re-emits them unchanged', () => {
    const known = encode({ u8: 1 });
    const unknown = Buffer.from('0800' + '6380' + 'deadbeef', 'hex'); // id 99 with NLA_F_NESTED
    const buf = Buffer.concat([known, unknown]);
    const rec = decodeRecord(buf, 0, buf.length, outer);
    expect(rec.unknown).toEqual([{ id: 99, flags: 0x8000, bytes: Buffer.from('deadbeef', 'hex') }]);
    expect(encode(rec)).toEqual(buf);
  });

  it('throws DecodeError with a path on short or overlong attributes', () => {
    const buf = encode({ nest: { a: 1 } });
    buf.writeUInt16LE(6, 4); // inner attribute claims 6 bytes: u32 needs 4 payload bytes
    expect(() => decodeRecord(buf, 0, buf.length, outer)).toThrow(/t\.nest\.a: attribute length 2 < 4/);
    const over = encode({ u8: 1 });
    over.writeUInt16LE(40, 0);
    expect(() => decodeRecord(over, 0, over.length, outer)).toThrow(DecodeError);
  });

  it('random and truncated bytes only ever produce DecodeError', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const good = encode({ u8: 1, str: 'abc', nest: { a: 1, b: 'q' }, af: 2, addr: '1.2.3.4', list: [{ a: 3 }] });
    for (let i = 0; i < 3000; i++) {
      let b: Buffer;
      if (i % 2) b = good.subarray(0, Math.floor(rnd() * good.length));
      else {
        b = Buffer.from(good);
        for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      }
      try {
        decodeRecord(b, 0, b.length, outer);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }
  });

  it('refuses keys the schema does not have', () => {
    expect(() => recordSize(outer, { nope: 1 })).toThrow(TypeError);
  });
});

describe('addresses', () => {
  it('parses and prints IPv4 and IPv6 canonically', () => {
    expect(parseAddress('10.0.0.1').toString('hex')).toBe('0a000001');
    expect(parseAddress('2001:db8::1').toString('hex')).toBe('20010db8000000000000000000000001');
    expect(parseAddress('::ffff:1.2.3.4').toString('hex')).toBe('00000000000000000000ffff01020304');
    for (const a of ['2001:db8::1', '::', '::1', 'fd00:0:1::', '2001:db8:0:1:1:1:1:1', '1:0:0:1::1', '::ffff:1.2.3.4']) {
      expect(formatAddress(parseAddress(a), undefined, 't')).toBe(a);
    }
    expect(formatAddress(parseAddress('2001:DB8:0:0:1:0:0:1'), undefined, 't')).toBe('2001:db8::1:0:0:1');
  });

  it('refuses what is not an address, and a family mismatch', () => {
    expect(() => parseAddress('10.0.0.256')).toThrow(TypeError);
    expect(() => parseAddress('example.com')).toThrow(TypeError);
    expect(() => parseAddress('10.0.0.1', 10)).toThrow(/not an IPv6/);
  });
});
