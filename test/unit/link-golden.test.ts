// Golden bytes of iproute2's `ip link` talking to the kernel (test/golden/rtnl-link-*.hex,
// captured with nlmon + tcpdump in the project's VM by scripts/golden/rtnl-capture.sh): the
// library's link schema decodes them to the expected JSON and encodes that JSON back to the same
// bytes, and the link op builders write what `ip` writes.
import { describe, expect, it } from 'vitest';
import { checkGolden, decodeDatagram, readHex, readJson, type GoldenMessage } from '../golden/ipset-rtnl-golden';
import { rtnlFamily } from '../golden/rtnl-golden-family';
import { encodeMessages } from '../../src/netlink/message';
import { matchReplies } from '../../src/netlink/protocol';
import * as ops from '../../src/link/ops';
import { RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK } from '../../src/uapi/rtnetlink';
import { NLM_F_ACK } from '../../src/uapi/netlink';

const FIXTURES = ['rtnl-link-add-dummy', 'rtnl-link-set-up', 'rtnl-link-show', 'rtnl-link-del'];

describe('rtnetlink link golden fixtures', () => {
  for (const name of FIXTURES) it(`${name}: decode(hex) = json and encode(json) = hex`, () => checkGolden(rtnlFamily, name));
});

/** The last request of type `type` that `ip` sent in a fixture (earlier ones are its probes). */
function toolRequest(name: string, type: number): GoldenMessage {
  const ms = readJson(name).datagrams.flatMap((d) => (d.direction === '>' ? d.messages : [])).filter((m) => m.header.type === type);
  return ms[ms.length - 1]!;
}

function ours(o: { message: Parameters<typeof encodeMessages>[0][number] }): GoldenMessage {
  return decodeDatagram(rtnlFamily, '>', encodeMessages([o.message], 1)).messages[0]!;
}

describe('the link op builders write what ip writes', () => {
  it('ip link add kube-ipvs0 type dummy', () => {
    const tool = toolRequest('rtnl-link-add-dummy', RTM_NEWLINK);
    const mine = ours(ops.addDummyOp('kube-ipvs0'));
    expect(mine.fixed).toEqual(tool.fixed);
    expect(mine.attrs).toEqual(tool.attrs);
    expect(mine.header.flags | NLM_F_ACK).toBe(tool.header.flags);
  });

  it('ip link set kube-ipvs0 up (by index, as ip resolves the name first)', () => {
    const tool = toolRequest('rtnl-link-set-up', RTM_NEWLINK);
    const mine = ours(ops.setLinkOp(tool.fixed!.index!, { up: true }));
    expect(mine.fixed).toEqual(tool.fixed);
    expect(mine.attrs ?? {}).toEqual(tool.attrs ?? {});
    expect(mine.header.flags | NLM_F_ACK).toBe(tool.header.flags);
  });

  it('ip link del kube-ipvs0', () => {
    const tool = toolRequest('rtnl-link-del', RTM_DELLINK);
    const mine = ours(ops.deleteLinkOp(tool.fixed!.index!));
    expect(mine.fixed).toEqual(tool.fixed);
    expect(mine.header.flags | NLM_F_ACK).toBe(tool.header.flags);
  });
});

describe('decoding the kernel\'s link reply', () => {
  it('is the link ip -j link showed', () => {
    const hex = readHex('rtnl-link-show');
    const i = hex.datagrams.length - 2; // the GETLINK by name and its answer
    const request = hex.datagrams[i]!.bytes;
    expect(request.readUInt16LE(4)).toBe(RTM_GETLINK);
    const [outcome] = matchReplies(request, hex.datagrams[i + 1]!.bytes, request.length);
    const [link] = ops.linkReplies(hex.datagrams[i + 1]!.bytes, outcome!);
    expect(link).toMatchObject({
      ifindex: 3, ifname: 'kube-ipvs0', flags: ['BROADCAST', 'NOARP', 'UP', 'LOWER_UP'], mtu: 1500, qdisc: 'noqueue',
      operstate: 'UNKNOWN', linkmode: 'DEFAULT', group: 'default', txqlen: 1000, link_type: 'ether',
      broadcast: 'ff:ff:ff:ff:ff:ff', linkinfo: { info_kind: 'dummy' },
    });
  });
});
