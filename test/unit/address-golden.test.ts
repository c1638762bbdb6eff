// Golden bytes of iproute2's `ip addr` talking to the kernel (test/golden/rtnl-addr-*.hex,
// captured with nlmon + tcpdump in the project's VM by scripts/golden/rtnl-capture.sh): the
// library's address schema decodes them to the expected JSON and encodes that JSON back to the
// same bytes, and the address op builders write what `ip` writes.
import { describe, expect, it } from 'vitest';
import { checkGolden, decodeDatagram, readHex, readJson, type GoldenMessage } from '../golden/ipset-rtnl-golden';
import { rtnlFamily } from '../golden/rtnl-golden-family';
import { encodeMessages } from '../../src/netlink/message';
import { matchReplies } from '../../src/netlink/protocol';
import { parseMessages } from '../../src/netlink/header';
import * as ops from '../../src/address/ops';
import { RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR } from '../../src/uapi/rtnetlink';
import { NLM_F_ACK } from '../../src/uapi/netlink';

const FIXTURES = ['rtnl-addr-add-v4', 'rtnl-addr-add-v6', 'rtnl-addr-replace', 'rtnl-addr-show', 'rtnl-addr-del'];

describe('rtnetlink address golden fixtures', () => {
  for (const name of FIXTURES) it(`${name}: decode(hex) = json and encode(json) = hex`, () => checkGolden(rtnlFamily, name));
});

function toolRequest(name: string, type: number): GoldenMessage {
  const ms = readJson(name).datagrams.flatMap((d) => (d.direction === '>' ? d.messages : [])).filter((m) => m.header.type === type);
  return ms[ms.length - 1]!;
}

function ours(o: { message: Parameters<typeof encodeMessages>[0][number] }): GoldenMessage {
  return decodeDatagram(rtnlFamily, '>', encodeMessages([o.message], 1)).messages[0]!;
}

function same(tool: GoldenMessage, mine: GoldenMessage): void {
  expect(mine.fixed).toEqual(tool.fixed);
  expect(mine.attrs).toEqual(tool.attrs);
  expect(Object.keys(mine.attrs ?? {})).toEqual(Object.keys(tool.attrs ?? {}));
  expect(mine.header.flags | NLM_F_ACK).toBe(tool.header.flags | NLM_F_ACK);
}

describe('the address op builders write what ip writes', () => {
  it('ip addr add 10.96.0.1/32 dev kube-ipvs0 label kube-ipvs0:svc', () => {
    same(toolRequest('rtnl-addr-add-v4', RTM_NEWADDR), ours(ops.addAddressOp(3, '10.96.0.1/32', { label: 'kube-ipvs0:svc' })));
  });
  it('ip addr add fd00::1/128 dev kube-ipvs0 nodad noprefixroute', () => {
    same(toolRequest('rtnl-addr-add-v6', RTM_NEWADDR), ours(ops.addAddressOp(3, 'fd00::1/128', { nodad: true, noprefixroute: true })));
  });
  it('ip addr replace 10.96.0.2/24 dev kube-ipvs0', () => {
    same(toolRequest('rtnl-addr-replace', RTM_NEWADDR), ours(ops.replaceAddressOp(3, '10.96.0.2/24')));
  });
  it('ip addr del 10.96.0.1/32 dev kube-ipvs0', () => {
    same(toolRequest('rtnl-addr-del', RTM_DELADDR), ours(ops.deleteAddressOp(3, '10.96.0.1/32')));
  });
  it('ip addr show dev kube-ipvs0: a dump filtered by index', () => {
    const tool = toolRequest('rtnl-addr-show', RTM_GETADDR);
    const mine = ours(ops.listAddressesOp({ index: 3 }));
    expect(mine.fixed).toEqual(tool.fixed);
    expect(mine.header.flags).toBe(tool.header.flags);
  });
});

describe('decoding the kernel\'s address replies and notifications', () => {
  it('the dump becomes the addresses ip -j addr showed (the kernel filtered it: NLM_F_DUMP_FILTERED)', () => {
    const hex = readHex('rtnl-addr-show');
    const i = hex.datagrams.findIndex((d) => d.direction === '>' && d.bytes.readUInt16LE(4) === RTM_GETADDR);
    const request = hex.datagrams[i]!.bytes.subarray(0, hex.datagrams[i]!.bytes.readUInt32LE(0));
    const replies = Buffer.concat(hex.datagrams.slice(i + 1).map((d) => d.bytes));
    const [outcome] = matchReplies(request, replies, request.length);
    expect(outcome!.replies.every((m) => m.flags & 0x20)).toBe(true);
    const addrs = ops.listAddressesOp({ index: 3 }).decode!(replies, outcome!);
    expect(addrs.map((a) => [a.local, a.prefixlen])).toEqual([['10.96.0.1', 32], ['10.96.0.2', 24], ['fd00::1', 128], ['fe80::c063:d2ff:fe7b:d4e1', 64]]);
    expect(addrs[0]).toEqual({
      ifindex: 3, family: 'inet', local: '10.96.0.1', prefixlen: 32, scope: 'global', label: 'kube-ipvs0:svc',
      valid_life_time: 4294967295, preferred_life_time: 4294967295,
    });
    expect(addrs[2]).toMatchObject({ family: 'inet6', nodad: true, noprefixroute: true, scope: 'global' });
    expect(addrs[3]).toMatchObject({ scope: 'link' });
  });

  it('the RTM_DELADDR notification decodes to the removed address', () => {
    const hex = readHex('rtnl-addr-del');
    const note = hex.datagrams.find((d) => d.direction === '<' && d.bytes.readUInt16LE(4) === RTM_DELADDR)!.bytes;
    const [m] = parseMessages(note);
    expect(ops.decodeAddressMessage(note, m!)).toMatchObject({ ifindex: 3, local: '10.96.0.1', prefixlen: 32, label: 'kube-ipvs0:svc' });
  });
});
