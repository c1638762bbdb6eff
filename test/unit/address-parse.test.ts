// Address and link inputs, checked before anything is sent, and the decoding of `ip -j` keys:
// no kernel needed.
import { describe, expect, it } from 'vitest';
import { parseCidr, scopeName, scopeNumber, toAddress } from '../../src/address/address';
import { dottedQuad } from '../../src/netlink/address';
import { addAddressOp, deleteAddressOp, listAddressesOp, replaceAddressOp } from '../../src/address/ops';
import { parseAddrArgs } from '../../src/cli/addr-commands';
import * as F from '../../src/uapi/if-addr';

describe('address input', () => {
  it('parses CIDRs, defaulting to a host prefix', () => {
    expect(parseCidr('10.96.0.1/32', 'op')).toEqual({ family: 2, local: '10.96.0.1', prefixlen: 32 });
    expect(parseCidr('10.96.0.1', 'op').prefixlen).toBe(32);
    expect(parseCidr('fd00::1', 'op')).toEqual({ family: 10, local: 'fd00::1', prefixlen: 128 });
    expect(parseCidr('fd00::/0', 'op').prefixlen).toBe(0);
    expect(() => parseCidr('10.96.0.1/33', 'op')).toThrow(RangeError);
    expect(() => parseCidr('kube', 'op')).toThrow(TypeError);
  });

  it('refuses bad options before sending', () => {
    expect(() => addAddressOp(0, '10.0.0.1/32')).toThrow(RangeError);
    expect(() => addAddressOp(1, 'fd00::1', { label: 'x' })).toThrow(/labels are for IPv4/);
    expect(() => addAddressOp(1, '10.0.0.1', { label: 'a-very-long-label-name' })).toThrow(/label/);
    expect(() => addAddressOp(1, '10.0.0.1', { peer: 'fd00::1' })).toThrow(/peer/);
    expect(() => addAddressOp(1, '10.0.0.1', { scope: 'galaxy' })).toThrow(/scope/);
    expect(() => replaceAddressOp(1, '10.0.0.1', { validLft: 10, preferredLft: 20 })).toThrow(/preferredLft/);
    expect(() => listAddressesOp({ family: 'ipx' as 'inet' })).toThrow(TypeError);
  });

  it('writes flags in IFA_FLAGS and lifetimes in IFA_CACHEINFO', () => {
    const m = replaceAddressOp(3, 'fd00::1/64', { nodad: true, noprefixroute: true, validLft: 100, scope: 'link' }).message;
    expect(m.attrs).toEqual({ local: 'fd00::1', flags: F.IFA_F_NODAD | F.IFA_F_NOPREFIXROUTE, address: 'fd00::1', cacheinfo: { preferred: 100, valid: 100, cstamp: 0, tstamp: 0 } });
    expect([...m.fixed]).toEqual([10, 64, 0, 253, 3, 0, 0, 0]);
    expect(deleteAddressOp(3, '10.0.0.1/24').message.attrs).toEqual({ local: '10.0.0.1', address: '10.0.0.1' });
  });

  it('names scopes and flags as ip -j addr does', () => {
    expect(scopeName(253)).toBe('link');
    expect(scopeName(7)).toBe('7');
    expect(scopeNumber('host', 'op')).toBe(254);
    const a = toAddress({ family: 10, prefixlen: 64, flags: 0, scope: 0, index: 4 }, {
      address: 'fd00::1', flags: F.IFA_F_SECONDARY | F.IFA_F_TENTATIVE, cacheinfo: { preferred: 5, valid: 10, cstamp: 0, tstamp: 0 },
    });
    expect(a).toEqual({
      ifindex: 4, family: 'inet6', local: 'fd00::1', prefixlen: 64, scope: 'global', temporary: true, tentative: true, dynamic: true,
      valid_life_time: 10, preferred_life_time: 5,
    });
  });
});

describe('ipvs addr arguments', () => {
  it('takes ip\'s form and the DEV CIDR... form', () => {
    expect(parseAddrArgs(['10.96.0.1/32', 'dev', 'kube-ipvs0', 'label', 'kube-ipvs0:a'], 'add')).toEqual({ dev: 'kube-ipvs0', cidrs: ['10.96.0.1/32'], options: { label: 'kube-ipvs0:a' } });
    expect(parseAddrArgs(['kube-ipvs0', '10.96.0.1/32', '10.96.0.2/32', 'nodad'], 'add')).toEqual({ dev: 'kube-ipvs0', cidrs: ['10.96.0.1/32', '10.96.0.2/32'], options: { nodad: true } });
    expect(parseAddrArgs(['3', 'fd00::1', 'valid_lft', 'forever', 'preferred_lft', '30'], 'add').options).toEqual({ preferredLft: 30 });
    expect(() => parseAddrArgs([], 'add')).toThrow(/which link/);
    expect(() => parseAddrArgs(['kube-ipvs0'], 'add')).toThrow(/which address/);
  });
});

describe('dottedQuad', () => {
  it('prints every octet value in every position as the template literal does, as one flat string', () => {
    for (let v = 0; v < 256; v++) {
      for (const [a, b, c, d] of [[v, 0, 0, 0], [0, v, 0, 0], [1, 22, v, 255], [255, 255, 255, v], [v, v, v, v]]) {
        expect(dottedQuad(a!, b!, c!, d!)).toBe(`${a}.${b}.${c}.${d}`);
      }
    }
  });
});
