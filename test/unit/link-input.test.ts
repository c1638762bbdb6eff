// Link inputs, checked before anything is sent, and `ip -j link` naming: no kernel needed.
import { describe, expect, it } from 'vitest';
import { addDummyOp, deleteLinkOp, getLinkOp, setLinkOp } from '../../src/link/ops';
import { flagNames, toLink } from '../../src/link/link';
import * as F from '../../src/uapi/if';

const fixed = (o: { message: { fixed: Uint8Array } }) => Buffer.from(o.message.fixed);

describe('link input', () => {
  it('refuses bad names, indexes, MTUs and addresses before sending', () => {
    for (const bad of ['', 'a/b', 'a b', 'x:1', '0123456789abcdef', '.']) expect(() => addDummyOp(bad)).toThrow(TypeError);
    expect(() => deleteLinkOp(0)).toThrow(RangeError);
    expect(() => getLinkOp(1.5)).toThrow(RangeError);
    expect(() => addDummyOp('d0', { mtu: 10 })).toThrow(RangeError);
    expect(() => addDummyOp('d0', { address: 'zz' })).toThrow(/MAC address/);
    expect(() => setLinkOp('d0', null as unknown as object)).toThrow(TypeError);
  });

  it('addresses a link by index in the header, or by IFLA_IFNAME', () => {
    expect(fixed(deleteLinkOp(7)).readInt32LE(4)).toBe(7);
    expect(deleteLinkOp('d0').message.attrs).toEqual({ ifname: 'd0' });
    const up = setLinkOp('d0', { up: true, mtu: 9000 });
    expect(fixed(up).readUInt32LE(8)).toBe(F.IFF_UP);
    expect(fixed(up).readUInt32LE(12)).toBe(F.IFF_UP);
    expect(up.message.attrs).toEqual({ ifname: 'd0', mtu: 9000 });
    const down = fixed(setLinkOp(3, { up: false }));
    expect([down.readUInt32LE(8), down.readUInt32LE(12)]).toEqual([0, F.IFF_UP]);
    expect(addDummyOp('d0', { up: true, mtu: 1400 }).message.attrs).toEqual({ ifname: 'd0', mtu: 1400, linkinfo: { kind: 'dummy' } });
  });

  it('names flags, states and types as ip -j link does', () => {
    expect(flagNames(F.IFF_UP | F.IFF_BROADCAST | F.IFF_NOARP | F.IFF_LOWER_UP | F.IFF_RUNNING)).toEqual(['BROADCAST', 'NOARP', 'UP', 'LOWER_UP']);
    expect(flagNames(F.IFF_UP | F.IFF_LOOPBACK)).toEqual(['NO-CARRIER', 'LOOPBACK', 'UP']);
    const l = toLink({ family: 0, type: 772, index: 1, flags: F.IFF_LOOPBACK | F.IFF_UP | F.IFF_RUNNING | F.IFF_LOWER_UP, change: 0 }, {
      ifname: 'lo', mtu: 65536, qdisc: 'noqueue', operstate: F.IF_OPER_UNKNOWN, linkmode: 0, group: 0, txqlen: 1000,
      address: Buffer.alloc(6), broadcast: Buffer.alloc(6),
    });
    expect(JSON.stringify(l)).toBe('{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00"}');
  });
});
