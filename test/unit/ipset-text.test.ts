// ipset's text forms (entries, create options, save/restore files) both ways, the validation
// that runs before anything is sent, error codes, and bulk packing: no kernel needed.
import { describe, expect, it } from 'vitest';
import { entryAttrs, formatEntry, parseEntry, tokenize, toEntry, checkEntryFamily } from '../../src/ipset/entry';
import { createDataAttrs, formatCreateOptions, parseCreateOptions } from '../../src/ipset/set';
import { formatSave, parseRestore } from '../../src/ipset/save';
import { ipsetErrorCode, ipsetErrorMeaning } from '../../src/ipset/errors';
import { addOps, createOp, listOp } from '../../src/ipset/ops';
import { messageSize } from '../../src/netlink/message';
import { IPSET_CMD_ADD, IPSET_CMD_DEL } from '../../src/uapi/ipset';
import { decodeDatagram, readHex } from '../golden/ipset-rtnl-golden';
import { matchReplies } from '../../src/netlink/protocol';
import { DecodeError } from '../../src/netlink/errors';

describe('entries as text, both ways', () => {
  const cases: [string, string][] = [
    ['hash:ip', '10.0.0.1'],
    ['hash:ip', '10.0.0.0/24'],
    ['hash:ip', '10.0.0.1-10.0.0.9'],
    ['hash:ip', '2001:db8::1 timeout 30 packets 1 bytes 2 comment "a b" skbmark 0x10/0xff skbprio 1:2 skbqueue 3'],
    ['hash:net', '2001:db8::/48 nomatch'],
    ['hash:ip,port', '10.0.0.1,udp:53'],
    ['hash:ip,port', '10.0.0.1,tcp:80-90'],
    ['hash:ip,port', '10.0.0.1,icmp:echo-request'],
    ['hash:ip,port', '10.0.0.1,icmp:3/8'],
    ['hash:ip,port', '2001:db8::1,ipv6-icmp:no-route'],
    ['hash:ip,port,ip', '10.0.0.1,sctp:5,10.0.0.2'],
    ['hash:ip,port,net', '10.0.0.1,udplite:5,10.1.0.0/16 nomatch'],
    ['hash:net,port', '10.1.0.0/24,udp:1000'],
    ['hash:net,iface', '10.0.0.0/16,physdev:eth1 timeout 5 nomatch'],
    ['hash:net,net', '10.0.0.0/8,192.168.0.0/16'],
    ['hash:ip,mark', '10.0.0.1,0x00000012'],
    ['bitmap:port', '22'],
    ['bitmap:port', '1000-2000'],
    ['bitmap:ip', '10.0.0.8'],
    ['list:set', 'other'],
    ['hash:mac', 'AA:BB:CC:DD:EE:FF'],
    ['hash:mac', '00:01:02:03:04:0F timeout 30 packets 1 bytes 2 comment "m"'],
    ['hash:ip,mac', '10.0.0.1,AA:BB:CC:DD:EE:FF'],
    ['hash:ip,mac', '2001:db8::1,01:02:03:04:05:06 skbmark 0x1'],
    ['bitmap:ip,mac', '10.0.0.4,11:22:33:44:55:66 timeout 59 packets 3 bytes 4'],
    ['bitmap:ip,mac', '10.0.0.3 timeout 30 packets 0 bytes 0 comment "x"'],
  ];
  it.each(cases)('%s %s', (type, text) => {
    const e = parseEntry(type, text);
    expect(formatEntry(type, e)).toBe(text);
    // and through the wire form
    expect(formatEntry(type, toEntry(wire(entryAttrs(e, 't', type))))).toBe(text);
  });

  it('reads MAC addresses as ipset does and prints them as it does', () => {
    expect(parseEntry('hash:mac', 'aa:bb:cc:dd:ee:ff')).toEqual({ mac: 'AA:BB:CC:DD:EE:FF' });
    expect(parseEntry('hash:mac', '0:1:2:3:4:5')).toEqual({ mac: '00:01:02:03:04:05' });
    expect(parseEntry('bitmap:ip,mac', '10.0.0.2')).toEqual({ ip: '10.0.0.2' });
    expect(entryAttrs({ mac: 'a:b:c:d:e:f' }, 't', 'hash:mac')).toEqual({ ether: Buffer.from([10, 11, 12, 13, 14, 15]) });
    expect(toEntry({ ip: { ipv4: '10.0.0.1' }, ether: Buffer.from([0xaa, 0, 1, 2, 3, 0xff]) })).toEqual({ ip: '10.0.0.1', mac: 'AA:00:01:02:03:FF' });
    for (const bad of ['aa-bb-cc-dd-ee-01', 'aa:bb:cc:dd:ee', 'aa:bb:cc:dd:ee:ff:00', '100:0:0:0:0:0', 'g0:00:00:00:00:00']) {
      expect(() => parseEntry('hash:mac', bad)).toThrow(`cannot parse '${bad}' as ethernet address`);
    }
    expect(() => entryAttrs({ mac: 'nope' }, 'ipset.add', 'hash:mac')).toThrow(TypeError);
    // hash:ip,mac needs both parts; the two ip,mac types store single addresses only
    expect(() => parseEntry('hash:ip,mac', '10.0.0.1')).toThrow('does not fit hash:ip,mac');
    expect(() => parseEntry('hash:ip,mac', '10.0.0.0/30,00:11:22:33:44:55')).toThrow('plain IP address');
    expect(() => parseEntry('bitmap:ip,mac', '10.0.0.4-10.0.0.6')).toThrow('plain IP address');
  });

  it('creates hash:mac without a family and bitmap:ip,mac with a range', () => {
    expect(createOp(7, 'm', 'hash:mac', 1, {}).message.fixed).toBeDefined();
    expect(() => createOp(7, 'm', 'hash:mac', 1, { family: 'inet' })).toThrow('hash:mac takes no family');
    expect(createDataAttrs('bitmap:ip,mac', { range: '10.0.0.0/24' }, 't')).toEqual({ ip: { ipv4: '10.0.0.0' }, cidr: 24 });
    expect(createDataAttrs('bitmap:ip,mac', { range: '10.0.0.0-10.0.0.10', timeout: 60 }, 't'))
      .toEqual({ ip: { ipv4: '10.0.0.0' }, ipTo: { ipv4: '10.0.0.10' }, timeout: 60 });
    expect(() => createDataAttrs('bitmap:ip,mac', {}, 't')).toThrow('needs a range');
    expect(formatCreateOptions('hash:mac', { hashsize: 1024, maxelem: 65536, bucketsize: 12, initval: 0x1b0af3a6 }))
      .toBe('hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1b0af3a6');
    expect(formatCreateOptions('hash:ip,mac', { family: 'inet6', hashsize: 1024 })).toBe('family inet6 hashsize 1024');
    expect(formatCreateOptions('bitmap:ip,mac', { range: '10.0.0.0-10.0.0.10', timeout: 60, counters: true, comment: true }))
      .toBe('range 10.0.0.0-10.0.0.10 timeout 60 counters comment');
  });

  it('defaults the protocol to tcp, names protocols from /etc/protocols, and takes numbers', () => {
    expect(formatEntry('hash:ip,port', parseEntry('hash:ip,port', '10.0.0.1,80'))).toBe('10.0.0.1,tcp:80');
    expect(formatEntry('hash:ip,port', parseEntry('hash:ip,port', '10.0.0.1,47:0'))).toBe('10.0.0.1,gre:0');
    expect(parseEntry('hash:ip,port', '10.0.0.1,icmp:ping').port).toBe(8 << 8);
  });

  it('says what is wrong', () => {
    expect(() => parseEntry('hash:ip,port', '10.0.0.1')).toThrow(/does not fit hash:ip,port \(2 parts/);
    expect(() => parseEntry('hash:ip', '10.0.0.300')).toThrow(/not an IPv4 or IPv6 address/);
    expect(() => parseEntry('hash:ip,port', '10.0.0.1,nosuchproto:1')).toThrow(/unknown protocol 'nosuchproto'/);
    expect(() => parseEntry('hash:ip,port', '10.0.0.1,icmp:nosuch')).toThrow(/unknown ICMP type/);
    expect(() => parseEntry('hash:ip', '10.0.0.1 timeout')).toThrow(/'timeout' needs a value/);
    expect(() => parseEntry('hash:ip', '10.0.0.1 bogus')).toThrow(/unknown entry option 'bogus'/);
    expect(() => parseEntry('hash:foo', '1')).toThrow(/not supported for text entries/);
    expect(() => entryAttrs({ ip: '10.0.0.1', cidr: 33 }, 'op')).toThrow(RangeError);
    expect(() => entryAttrs({ ip: '10.0.0.1', port: 70000 }, 'op')).toThrow(RangeError);
    expect(() => entryAttrs({ comment: 'a"b' }, 'op')).toThrow(/without quotes/);
    expect(() => entryAttrs({ name: 'x', before: 'a', after: 'b' }, 'op')).toThrow(/before or after/);
    expect(() => checkEntryFamily({ ip: '2001:db8::1' }, 'inet', 'op')).toThrow(/is IPv6, the set is inet/);
    expect(() => checkEntryFamily({ ip: '10.0.0.1' }, 'inet6', 'op')).toThrow(/is IPv4, the set is inet6/);
  });

  it('tokenizes quoted words', () => {
    expect(tokenize('add x 1.2.3.4 comment "a b c" timeout 3')).toEqual(['add', 'x', '1.2.3.4', 'comment', 'a b c', 'timeout', '3']);
  });
});

/** An entry's attributes through the codec, as the kernel would echo them. */
function wire(rec: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(rec, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)), (_k, v: unknown) => {
    if (typeof v === 'string' && /^\d+n$/.test(v)) return BigInt(v.slice(0, -1));
    // a MAC's bytes (JSON writes a Buffer as { type: 'Buffer', data })
    const b = v as { type?: unknown; data?: unknown } | null;
    if (b && b.type === 'Buffer' && Array.isArray(b.data)) return Buffer.from(b.data as number[]);
    return v;
  }) as Record<string, unknown>;
}

describe('create options and save files', () => {
  it('parses and prints create options as ipset save does', () => {
    const text = 'family inet6 hashsize 1024 maxelem 65536 netmask 64 timeout 60 counters comment skbinfo forceadd bucketsize 12 initval 0x0000abcd';
    expect(formatCreateOptions('hash:ip', parseCreateOptions(text))).toBe(text);
    expect(formatCreateOptions('hash:ip,mark', parseCreateOptions('markmask 0xff'))).toBe('family inet markmask 0x000000ff');
    expect(formatCreateOptions('bitmap:ip', parseCreateOptions('range 10.0.0.0/24 timeout 5'))).toBe('range 10.0.0.0/24 timeout 5');
    expect(formatCreateOptions('list:set', parseCreateOptions('size 8'))).toBe('size 8');
    expect(() => parseCreateOptions('family ipx')).toThrow(/inet or inet6/);
    expect(() => parseCreateOptions('hashsize')).toThrow(/needs a number/);
    expect(() => createDataAttrs('bitmap:ip', {}, 'op')).toThrow(/needs a range/);
    expect(() => createDataAttrs('bitmap:port', { range: '1-70000' }, 'op')).toThrow(/FROM-TO ports/);
    expect(createDataAttrs('bitmap:ip', { range: '10.0.0.0-10.0.0.255' }, 'op')).toEqual({ ip: { ipv4: '10.0.0.0' }, ipTo: { ipv4: '10.0.0.255' } });
    expect(() => createOp(7, 'x y', 'hash:ip', 1)).toThrow(/set name/);
  });

  it('reads restore files with every command, and names the line of a mistake', () => {
    const cmds = parseRestore([
      '# comment', '', 'create a hash:ip family inet hashsize 1024', 'add a 10.0.0.1 comment "x y"', '-A a 10.0.0.2',
      'del a 10.0.0.1', 'flush a', 'rename a b', 'swap b c', 'destroy b', 'destroy', 'COMMIT',
    ].join('\n'));
    expect(cmds.map((c) => [c.kind, c.line])).toEqual([
      ['create', 3], ['add', 4], ['add', 5], ['del', 6], ['flush', 7], ['rename', 8], ['swap', 9], ['destroy', 10], ['destroy', 11],
    ]);
    expect(cmds[1]).toMatchObject({ set: 'a', entry: '10.0.0.1 comment "x y"' });
    expect(() => parseRestore('create a hash:ip\nfrobnicate a')).toThrow(/line 2: unknown command 'frobnicate'/);
    expect(() => parseRestore('add a')).toThrow(/line 1: add needs an entry/);
  });

  it('saves list:set sets last', () => {
    const base = { revision: 1, counters: false, comment: false, skbinfo: false, forceadd: false, references: 0, memsize: 0, elements: 0 };
    const text = formatSave([
      { ...base, name: 'l', type: 'list:set', size: 8, entries: [{ name: 'a' }] },
      { ...base, name: 'a', type: 'hash:ip', family: 'inet', hashsize: 1024, maxelem: 65536, entries: [{ ip: '10.0.0.1' }] },
    ]);
    expect(text).toBe('create a hash:ip family inet hashsize 1024 maxelem 65536\nadd a 10.0.0.1\ncreate l list:set size 8\nadd l a\n');
  });
});

describe('error codes', () => {
  it('names core and type-specific codes with the tool\'s meanings', () => {
    expect(ipsetErrorCode(-4103)).toBe('IPSET_ERR_EXIST');
    expect(ipsetErrorCode(-4352, 'hash:ip')).toBe('IPSET_ERR_HASH_FULL');
    expect(ipsetErrorCode(-4352, 'bitmap:port')).toBe('IPSET_ERR_BITMAP_RANGE');
    expect(ipsetErrorCode(-4352, 'list:set')).toBe('IPSET_ERR_NAME');
    expect(ipsetErrorCode(-4353)).toBe('IPSET_ERR_TYPE_SPECIFIC+1');
    expect(ipsetErrorCode(-2)).toBe('ENOENT');
    expect(ipsetErrorMeaning('IPSET_ERR_EXIST', IPSET_CMD_ADD)).toBe('the element is already in the set');
    expect(ipsetErrorMeaning('IPSET_ERR_EXIST', IPSET_CMD_DEL)).toBe('the element is not in the set');
  });
});

describe('bulk packing', () => {
  it('packs entries into messages of at most 64 KiB, numbering lines across them', () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => ({ ip: `10.0.${i >> 8}.${i & 255}` }));
    const msgs = addOps(7, 'big', entries);
    expect(msgs.length).toBeGreaterThan(1);
    for (const m of msgs) expect(messageSize(m.message)).toBeLessThanOrEqual(65536);
    const adts = msgs.map((m) => m.message.attrs!.adt as { lineno: number }[]);
    expect(adts.flat().map((d) => d.lineno)).toEqual(entries.map((_, i) => i + 1));
    expect(msgs.map((m) => m.message.attrs!.lineno)).toEqual(adts.map((a) => a[0]!.lineno));
    expect(() => addOps(7, 'big', [{ ip: '10.0.0.1' }, { ip: 'nope' }])).toThrow(/entry #1/);
  });
});

describe('decoding mangled kernel replies', () => {
  it('only ever throws DecodeError', () => {
    const hex = readHex('ipset-list-ipport');
    const request = hex.datagrams[2]!.bytes;
    const good = hex.datagrams[3]!.bytes;
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(good);
      for (let k = 0; k < 3; k++) b[20 + Math.floor(rnd() * (b.length - 20))] = Math.floor(rnd() * 256);
      try {
        const [o] = matchReplies(request, b, request.length);
        listOp(7, 'web').decode!(b, o!);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }
    expect(decodeDatagram).toBeDefined();
  });
});
