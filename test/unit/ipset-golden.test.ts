// Golden bytes of the ipset tool talking to the kernel (test/golden/ipset-*.hex, captured with
// nlmon + tcpdump in the project's VM by scripts/golden/ipset-capture.sh): the library's schemas
// decode them to the expected JSON and encode that JSON back to the same bytes, and the library's
// op builders write what the tool writes.
//
// GOLDEN_UPDATE=1 rewrites the JSON from the captures (review the diff before committing).
import { describe, expect, it } from 'vitest';
import {
  checkGolden, decodeDatagram, readHex, readJson, type GoldenDatagram, type GoldenFamily,
} from '../golden/ipset-rtnl-golden';
import { ipsetSchemaFor } from '../../src/schema/ipset';
import { NFNL_SUBSYS_IPSET } from '../../src/uapi/nfnetlink';
import * as K from '../../src/uapi/ipset';
import { matchReplies } from '../../src/netlink/protocol';
import { refusal } from '../../src/netlink/operation';
import { encodeMessages } from '../../src/netlink/message';
import * as ops from '../../src/ipset/ops';
import { IpsetEntryError } from '../../src/ipset/errors';
import { formatEntry, parseEntry } from '../../src/ipset/entry';
import { decodeSetsGeneric } from '../../src/ipset/list-decode';

const CMD_NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(K)) if (k.startsWith('IPSET_CMD_') && typeof v === 'number' && !CMD_NAMES.has(v)) CMD_NAMES.set(v, k);

export const ipsetFamily: GoldenFamily = {
  fixedSize: () => 4,
  decodeFixed: (buf, off) => ({ family: buf[off]!, version: buf[off + 1]!, resId: buf.readUInt16BE(off + 2) }),
  encodeFixed: (f) => {
    const b = Buffer.alloc(4);
    b[0] = f.family!;
    b[1] = f.version!;
    b.writeUInt16BE(f.resId!, 2);
    return b;
  },
  schemaFor: (type, dir) => (type >> 8 === NFNL_SUBSYS_IPSET ? ipsetSchemaFor(type & 0xff, dir) : undefined),
  typeName: (type) => (type >> 8 === NFNL_SUBSYS_IPSET ? CMD_NAMES.get(type & 0xff) ?? `ipset cmd ${type & 0xff}` : `type ${type}`),
  pad64: K.IPSET_ATTR_PAD,
};

const FIXTURES = [
  'ipset-create-hash-ipport', 'ipset-add-ipport', 'ipset-test-missing', 'ipset-list-ipport', 'ipset-add-net6-nomatch',
  'ipset-restore-bulk', 'ipset-restore-fail', 'ipset-create-bitmap-port', 'ipset-create-list-set', 'ipset-swap',
  'ipset-create-hash-mac', 'ipset-add-hash-mac', 'ipset-list-hash-mac', 'ipset-add-hash-ipmac6',
  'ipset-create-bitmap-ipmac', 'ipset-add-bitmap-ipmac-nomac', 'ipset-list-bitmap-ipmac',
];

describe('ipset golden fixtures', () => {
  for (const name of FIXTURES) {
    it(`${name}: decode(hex) = json and encode(json) = hex`, () => checkGolden(ipsetFamily, name));
  }
});

/** The tool's request of command `cmd` in a fixture, and our builder's, both decoded. */
function requests(name: string, cmd: number): GoldenDatagram['messages'][number] {
  const json = readJson(name);
  const m = json.datagrams.flatMap((d) => d.direction === '>' ? d.messages : []).find((x) => (x.header.type & 0xff) === cmd);
  if (!m) throw new Error(`${name}: no request of command ${cmd}`);
  return m;
}

function ours(o: { message: Parameters<typeof encodeMessages>[0][number] }): GoldenDatagram['messages'][number] {
  const buf = encodeMessages([o.message], 1);
  return decodeDatagram(ipsetFamily, '>', buf).messages[0]!;
}

describe('the op builders write what the ipset tool writes', () => {
  it('protocol negotiation and type query', () => {
    const tool = requests('ipset-create-hash-ipport', K.IPSET_CMD_PROTOCOL);
    const mine = ours(ops.protocolOp());
    expect(mine.attrs).toEqual(tool.attrs);
    expect(mine.fixed).toEqual(tool.fixed);
    expect(ours(ops.typeOp(7, 'hash:ip,port', 'inet')).attrs).toEqual(requests('ipset-create-hash-ipport', K.IPSET_CMD_TYPE).attrs);
  });

  it('create with timeout, counters, comment, skbinfo, forceadd, hashsize, maxelem', () => {
    const tool = requests('ipset-create-hash-ipport', K.IPSET_CMD_CREATE);
    const mine = ours(ops.createOp(7, 'web', 'hash:ip,port', 6, {
      family: 'inet', hashsize: 1024, maxelem: 2048, timeout: 60, counters: true, comment: true, skbinfo: true, forceadd: true,
    }));
    expect(mine.attrs).toEqual(tool.attrs);
    // The engine adds NLM_F_ACK; the tool asks for it itself.
    expect(mine.header.flags | 4).toBe(tool.header.flags);
  });

  it('create bitmap:port and list:set (family NFPROTO_UNSPEC)', () => {
    expect(ours(ops.createOp(7, 'ports', 'bitmap:port', 3, { range: '1000-2000' })).attrs)
      .toEqual(requests('ipset-create-bitmap-port', K.IPSET_CMD_CREATE).attrs);
    expect(ours(ops.createOp(7, 'all', 'list:set', 3, { size: 4 })).attrs)
      .toEqual(requests('ipset-create-list-set', K.IPSET_CMD_CREATE).attrs);
  });

  it('add one entry: IPSET_ATTR_DATA with LINENO 0, NLM_F_EXCL unless exist', () => {
    const tool = requests('ipset-add-ipport', K.IPSET_CMD_ADD);
    const [mine] = ops.addOps(7, 'web', [parseEntry('hash:ip,port', '10.0.0.1,udp:53 timeout 30 comment dns')], { type: 'hash:ip,port' });
    const m = ours(mine!);
    expect(m.attrs).toEqual(tool.attrs);
    expect(m.header.flags | 4).toBe(tool.header.flags);
    const [exist] = ops.addOps(7, 'web', [{ ip: '10.0.0.1', port: 53, proto: 'udp' }], { exist: true });
    expect(ours(exist!).header.flags & 0x200).toBe(0);
  });

  it('add an IPv6 network with nomatch', () => {
    const tool = requests('ipset-add-net6-nomatch', K.IPSET_CMD_ADD);
    const [mine] = ops.addOps(7, 'nets6', [parseEntry('hash:net', '2001:db8::/64 nomatch')]);
    expect(ours(mine!).attrs).toEqual(tool.attrs);
  });

  it('bulk add: IPSET_ATTR_ADT of IPSET_ATTR_DATA with line numbers, and LINENO', () => {
    const tool = requests('ipset-restore-bulk', K.IPSET_CMD_ADD);
    // The tool numbers restore lines from the file (2-4); ours number entries from firstIndex + 1.
    const entries = ['192.168.0.1', '192.168.0.2', '192.168.0.3'].map((ip) => ({ ip }));
    const [mine] = ops.addOps(7, 'bulk', entries, { firstIndex: 1 });
    expect(ours(mine!).attrs).toEqual(tool.attrs);
  });

  it('test', () => {
    const tool = requests('ipset-test-missing', K.IPSET_CMD_TEST);
    expect(ours(ops.testOp(7, 'web', parseEntry('hash:ip,port', '10.0.0.2,tcp:80'))).attrs).toEqual(tool.attrs);
  });

  it('the MAC types: hash:mac without a family, hash:ip,mac, bitmap:ip,mac with a range and entries with or without a MAC', () => {
    expect(ours(ops.typeOp(7, 'hash:mac')).attrs).toEqual(requests('ipset-create-hash-mac', K.IPSET_CMD_TYPE).attrs);
    expect(ours(ops.createOp(7, 'macs', 'hash:mac', 1, { hashsize: 64, timeout: 600 })).attrs)
      .toEqual(requests('ipset-create-hash-mac', K.IPSET_CMD_CREATE).attrs);
    expect(ours(ops.addOps(7, 'macs', [parseEntry('hash:mac', 'aa:bb:cc:dd:ee:ff timeout 300')], { type: 'hash:mac' })[0]!).attrs)
      .toEqual(requests('ipset-add-hash-mac', K.IPSET_CMD_ADD).attrs);
    expect(ours(ops.addOps(7, 'ipmacs6', [parseEntry('hash:ip,mac', '2001:db8::1,01:02:03:04:05:06')], { type: 'hash:ip,mac' })[0]!).attrs)
      .toEqual(requests('ipset-add-hash-ipmac6', K.IPSET_CMD_ADD).attrs);
    expect(ours(ops.typeOp(7, 'bitmap:ip,mac')).attrs).toEqual(requests('ipset-create-bitmap-ipmac', K.IPSET_CMD_TYPE).attrs);
    expect(ours(ops.createOp(7, 'hosts', 'bitmap:ip,mac', 3, { range: '10.0.0.0/24', counters: true, comment: true })).attrs)
      .toEqual(requests('ipset-create-bitmap-ipmac', K.IPSET_CMD_CREATE).attrs);
    expect(ours(ops.addOps(7, 'hosts', [parseEntry('bitmap:ip,mac', '10.0.0.2 comment unfilled')], { type: 'bitmap:ip,mac' })[0]!).attrs)
      .toEqual(requests('ipset-add-bitmap-ipmac-nomac', K.IPSET_CMD_ADD).attrs);
  });

  it('swap', () => {
    expect(ours(ops.swapOp(7, 'web', 'web2')).attrs).toEqual(requests('ipset-swap', K.IPSET_CMD_SWAP).attrs);
  });
});

/** Runs an op's decode or refusal against the captured request and replies of a fixture. */
function replay<T>(name: string, cmd: number, o: ops.IpsetBulkOptions | undefined, build: () => import('../../src/netlink/operation').Operation<T>) {
  void o;
  const hex = readHex(name);
  const idx = hex.datagrams.findIndex((d) => d.direction === '>' && (d.bytes.readUInt16LE(4) & 0xff) === cmd);
  const request = hex.datagrams[idx]!.bytes;
  const replies = Buffer.concat(hex.datagrams.slice(idx + 1).filter((d) => d.direction === '<').map((d) => d.bytes));
  const [outcome] = matchReplies(request, replies, request.length);
  return { op: build(), outcome: outcome!, replies };
}

describe('decoding kernel replies into typed results', () => {
  it('a LIST dump becomes the set with its header and entries', () => {
    const { op, outcome, replies } = replay('ipset-list-ipport', K.IPSET_CMD_LIST, undefined, () => ops.listOp(7, 'web'));
    const [set] = op.decode!(replies, outcome);
    expect(set).toMatchObject({
      name: 'web', type: 'hash:ip,port', revision: 6, family: 'inet', hashsize: 1024, maxelem: 2048, bucketsize: 12,
      timeout: 60, counters: true, comment: true, skbinfo: true, forceadd: true, references: 0, elements: 2, index: 0,
    });
    expect(set!.entries).toEqual([
      { ip: '10.0.0.1', proto: 'udp', port: 53, timeout: expect.any(Number), packets: 0, bytes: 0, comment: 'dns' },
      { ip: '10.0.0.3', proto: 'tcp', port: 443, timeout: expect.any(Number), packets: 7, bytes: 900, skbmark: 0x10, skbmarkMask: 0xff, skbprio: '1:2', skbqueue: 3 },
    ]);
  });

  it('LIST dumps of the MAC types: MACs as ipset prints them, a bitmap:ip,mac entry without one', () => {
    const m = replay('ipset-list-hash-mac', K.IPSET_CMD_LIST, undefined, () => ops.listOp(7, 'macs'));
    const [macs] = m.op.decode!(m.replies, m.outcome);
    expect(macs).toMatchObject({ name: 'macs', type: 'hash:mac', revision: 1, hashsize: 64, timeout: 600, elements: 2 });
    expect(macs!.family).toBeUndefined();
    expect(macs!.entries!.map((e) => e.mac).sort()).toEqual(['00:01:02:03:04:05', 'AA:BB:CC:DD:EE:FF']);
    expect(macs!.entries!.map((e) => formatEntry('hash:mac', { ...e, timeout: undefined })).sort()).toEqual(['00:01:02:03:04:05', 'AA:BB:CC:DD:EE:FF']);
    const b = replay('ipset-list-bitmap-ipmac', K.IPSET_CMD_LIST, undefined, () => ops.listOp(7, 'hosts'));
    const [hosts] = b.op.decode!(b.replies, b.outcome);
    expect(hosts).toMatchObject({ name: 'hosts', type: 'bitmap:ip,mac', revision: 3, family: 'inet', range: '10.0.0.0-10.0.0.255', counters: true, comment: true, elements: 2 });
    expect(hosts!.entries).toEqual([
      { ip: '10.0.0.1', mac: '11:22:33:44:55:66', packets: 3, bytes: 4 },
      { ip: '10.0.0.2', packets: 0, bytes: 0, comment: 'unfilled' },
    ]);
    expect(hosts!.entries!.map((e) => formatEntry('bitmap:ip,mac', e))).toEqual([
      '10.0.0.1,11:22:33:44:55:66 packets 3 bytes 4', '10.0.0.2 packets 0 bytes 0 comment "unfilled"',
    ]);
    // the schema decoder agrees with the fast one on the captured bytes
    expect(decodeSetsGeneric(b.replies, b.outcome)).toEqual([hosts]);
    expect(decodeSetsGeneric(m.replies, m.outcome)).toEqual([macs]);
  });

  it('a refused bulk add names the entry from the LINENO the kernel wrote into its echo', () => {
    const entries = ['192.168.0.4', '192.168.0.1', '192.168.0.5'].map((ip) => ({ ip }));
    const { op, outcome, replies } = replay('ipset-restore-fail', K.IPSET_CMD_ADD, undefined, () => ops.addOps(7, 'bulk', entries, { type: 'hash:ip' })[0]!);
    expect(outcome.status).toBe('error');
    expect(ops.failedLine(replies, outcome)).toBe(2);
    const err = refusal(op, outcome, undefined, replies);
    expect(err).toBeInstanceOf(IpsetEntryError);
    expect(err).toMatchObject({ code: 'IPSET_ERR_EXIST', errno: -4103, op: 'ipset.add', entryIndex: 1, applied: 1, entryText: '192.168.0.1' });
    expect(err.message).toBe('ipset.add: set bulk, entry #1 (192.168.0.1): the element is already in the set; the entry before it was added, none after it (IPSET_ERR_EXIST)');
  });

  it('a test of a missing entry is IPSET_ERR_EXIST; swap with a missing set is IPSET_ERR_EXIST_SETNAME2', () => {
    const t = replay('ipset-test-missing', K.IPSET_CMD_TEST, undefined, () => ops.testOp(7, 'web', { ip: '10.0.0.2', port: 80 }, 'hash:ip,port'));
    expect(refusal(t.op, t.outcome, undefined, t.replies)).toMatchObject({ code: 'IPSET_ERR_EXIST', message: expect.stringContaining('10.0.0.2,tcp:80 is not in set web') });
    const s = replay('ipset-swap', K.IPSET_CMD_SWAP, undefined, () => ops.swapOp(7, 'web', 'web2'));
    expect(refusal(s.op, s.outcome, undefined, s.replies).message).toBe('ipset.swap: swap web and web2: the second set does not exist (IPSET_ERR_EXIST_SETNAME2)');
  });

  it('protocol and type replies', () => {
    const p = replay('ipset-create-hash-ipport', K.IPSET_CMD_PROTOCOL, undefined, () => ops.protocolOp());
    expect(p.op.decode!(p.replies, p.outcome)).toEqual({ protocol: 7, protocolMin: 6 });
    expect(ops.negotiate({ protocol: 7, protocolMin: 6 })).toBe(7);
    expect(ops.negotiate({ protocol: 6, protocolMin: 6 })).toBe(6);
    expect(() => ops.negotiate({ protocol: 9, protocolMin: 8 })).toThrow(/protocol 8-9/);
    const t = replay('ipset-create-hash-ipport', K.IPSET_CMD_TYPE, undefined, () => ops.typeOp(7, 'hash:ip,port'));
    expect(t.op.decode!(t.replies, t.outcome)).toEqual({ revision: 6, revisionMin: 0 });
  });
});

