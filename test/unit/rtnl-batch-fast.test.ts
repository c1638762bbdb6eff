// The batch's fast path writes IPv4 address messages from the builder's layout; it must write
// exactly what the address op builders write, and leave everything else (options, IPv6, bad
// input with its errors) to them.
import { describe, expect, it } from 'vitest';
import { BatchAddresses, RtnlChange } from '../../src/batch/rtnl';
import { parseIPv4Cidr } from '../../src/batch/rtnl-fast';
import type { Change } from '../../src/batch/change';
import * as ops from '../../src/address/ops';
import { encodeMessages } from '../../src/netlink/message';
import { parseCidr } from '../../src/address/address';

function queue(fn: (a: BatchAddresses) => void): RtnlChange[] {
  const out: Change[] = [];
  fn(new BatchAddresses((c) => out.push(c) - 1));
  return out as RtnlChange[];
}

function fastBytes(c: RtnlChange, seq: number): Buffer {
  const buf = Buffer.alloc(c.fast!.size);
  c.fast!.write(buf, 0, seq, { genlId: 0 } as never);
  return buf;
}

describe('batch fast path for IPv4 addresses', () => {
  it('writes the same bytes as the op builders, by index and by name once bound', () => {
    let x = 11;
    const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
    for (let n = 0; n < 300; n++) {
      const cidr = `${next() % 256}.${next() % 256}.${next() % 256}.${next() % 256}${n % 3 === 0 ? '' : `/${next() % 33}`}`;
      const index = 1 + (next() % 0x7fffffff);
      const seq = next();
      const byIndex = queue((a) => {
        a.add(index, cidr);
        a.replace(index, cidr);
        a.delete(index, cidr);
      });
      const byName = queue((a) => {
        a.add('kube-ipvs0', cidr);
        a.replace('kube-ipvs0', cidr);
        a.delete('kube-ipvs0', cidr);
      });
      const builders = [ops.addAddressOp(index, cidr), ops.replaceAddressOp(index, cidr), ops.deleteAddressOp(index, cidr)];
      builders.forEach((op, k) => {
        const want = encodeMessages([op.message], seq);
        expect(byIndex[k]!.generic).toBeUndefined();
        expect(fastBytes(byIndex[k]!, seq)).toEqual(want);
        expect(byName[k]!.fast).toBeUndefined(); // no index until the commit binds it
        byName[k]!.build(index);
        expect(byName[k]!.generic).toBeUndefined();
        expect(fastBytes(byName[k]!, seq)).toEqual(want);
        // a refusal is explained by the builder's own operation
        expect(encodeMessages([byIndex[k]!.operation().message], seq)).toEqual(want);
        expect(byIndex[k]!.operation().explain?.('EEXIST')).toBe(op.explain?.('EEXIST'));
      });
    }
  });

  it('parses exactly the IPv4 CIDRs parseCidr accepts', () => {
    const cases = ['10.0.0.1', '10.0.0.1/32', '10.0.0.1/0', '10.0.0.1/032', '10.0.0.1/33', '10.0.0.1/', '10.0.0.1/x', '10.0.0.1/3 ',
      '10.0.0.01/8', '256.0.0.1/8', '1.2.3/8', ' 1.2.3.4', '1.2.3.4/-1', '1.2.3.4/+8', 'fd00::1/64', '', '/8', '1.2.3.4//8', '1.2.3.4/8/8'];
    for (const text of cases) {
      let want: number;
      try {
        const c = parseCidr(text, 't');
        want = c.family === 2 ? c.prefixlen : -1;
      } catch {
        want = -1;
      }
      const got = parseIPv4Cidr(text);
      expect([text, got < 0 ? -1 : got % 64]).toEqual([text, want]);
    }
    expect(parseIPv4Cidr('10.96.0.1/32')).toBe(((10 * 256 + 96) * 65536 + 1) * 64 + 32);
  });

  it('leaves options, IPv6 and invalid input to the builders, which throw their own errors', () => {
    const slow = queue((a) => {
      a.add(3, '10.0.0.1/32', { label: 'kube-ipvs0:x' });
      a.add(3, '10.0.0.1/32', { nodad: true });
      a.replace(3, '10.0.0.1/32', { scope: 'host' });
      a.add(3, 'fd00::1/128');
      a.delete('kube-ipvs0', 'fd00::1/128');
      a.add(3, '10.0.0.1/32', { label: undefined });
    });
    expect(slow.map((c) => c.v4 >= 0)).toEqual([false, false, false, false, false, true]);
    expect(slow[0]!.generic).toBeDefined();
    expect(() => queue((a) => a.add(3, '10.0.0.1/33'))).toThrow(/prefix length of '10.0.0.1\/33' must be 0-32/);
    expect(() => queue((a) => a.add(0, '10.0.0.1/32'))).toThrow(RangeError);
    expect(() => queue((a) => a.add(3.5, '10.0.0.1/32'))).toThrow(/link index must be a positive integer/);
    expect(() => queue((a) => a.delete('', '10.0.0.1/32'))).toThrow(TypeError);
    expect(() => queue((a) => a.add('kube-ipvs0', 'nonsense'))).toThrow(/'nonsense' is not an IPv4 or IPv6 address/);
  });
});
