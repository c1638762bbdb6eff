// Host and port names for the CLI (src/cli/names.ts): the two-pass resolution of a parse, and
// listings and rules printed with names as ipvsadm prints them. The expected lines are ipvsadm
// 1.31's own output for the same state, seen in the VM (test/kernel/ipvs-names.test.ts compares
// the whole listings there).
import { describe, expect, it } from 'vitest';
import { parseIpvsadmArgs } from '../../src/cli/ipvs-args';
import { formatList, formatRules } from '../../src/cli/ipvs-format';
import { etcServices, lookupNames, portName, withHostNames } from '../../src/cli/names';
import type { IpvsDestination, IpvsServiceEntry } from '../../src/index';

const stats = { conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n, cps: 0n, inpps: 0n, outpps: 0n, inbps: 0n, outbps: 0n };
function dest(address: string, port: number, forwarding: IpvsDestination['forwarding'], weight = 1): IpvsDestination {
  return {
    address, port, forwarding, weight, family: address.includes(':') ? 'inet6' : 'inet', upperThreshold: 0, lowerThreshold: 0,
    activeConns: 0, inactiveConns: 0, persistentConns: 0, stats,
  } as unknown as IpvsDestination;
}
function service(s: Record<string, unknown>, destinations: IpvsDestination[]): IpvsServiceEntry {
  return { scheduler: 'rr', schedFlags: [], persistent: 0, netmask: '255.255.255.255', onePacket: false, stats, family: 'inet', ...s, destinations } as unknown as IpvsServiceEntry;
}

const HOSTS: Record<string, string> = {
  '10.1.0.1': 'web.example',
  '10.1.0.2': 'rs-one.example',
  '10.1.0.3': 'anotherveryveryverylongname-for-a-server.example',
  'fd00::1': 'web6.example',
  'fd00::2': 'rs6.example',
};

describe('withHostNames', () => {
  it('parses once when the line has no names, and asks no lookup', async () => {
    let lookups = 0;
    const a = await withHostNames((hosts) => parseIpvsadmArgs(['-A', '-t', '10.0.0.1:80'], undefined, hosts), async () => {
      lookups++;
      return new Map();
    });
    expect(a.service).toMatchObject({ address: '10.0.0.1' });
    expect(lookups).toBe(0);
  });

  it('looks every name up at once, then parses with the answers', async () => {
    const asked: string[][] = [];
    const a = await withHostNames(
      (hosts) => parseIpvsadmArgs(['-a', '-t', 'web.example:80', '-r', 'rs.example:8080', '-m'], undefined, hosts),
      async (names) => {
        asked.push([...names]);
        return new Map([['web.example', '10.1.0.1'], ['rs.example', '10.1.0.2']]);
      },
    );
    expect(asked).toEqual([['web.example', 'rs.example']]);
    expect(a).toMatchObject({ service: { address: '10.1.0.1', port: 80 }, destination: { address: '10.1.0.2', port: 8080 } });
  });

  it('an unknown name fails the second parse as a bad address', async () => {
    await expect(withHostNames((hosts) => parseIpvsadmArgs(['-A', '-t', 'nosuch.example:80'], undefined, hosts), async () => new Map())).rejects.toThrow(
      'illegal virtual server address[:port] specified',
    );
  });
});

describe('listing with names (ipvsadm -L without -n)', () => {
  const all = [
    service({ protocol: 'tcp', address: '10.1.0.1', port: 80 }, [dest('10.1.0.2', 443, 'masq', 3), dest('10.1.0.2', 8080, 'masq'), dest('10.1.0.3', 443, 'masq', 2), dest('10.1.0.4', 443, 'masq')]),
    service({ protocol: 'tcp', address: '10.1.0.3', port: 1 }, []),
    service({ protocol: 'udp', address: '10.1.0.1', port: 53 }, [dest('10.1.0.9', 53, 'masq')]),
    service({ protocol: 'tcp', address: 'fd00::1', port: 80, family: 'inet6', netmask: 128 }, [dest('fd00::2', 443, 'masq')]),
    service({ fwmark: 7 }, [dest('10.1.0.2', 0, 'route'), dest('10.1.0.4', 80, 'route')]),
  ];

  it('prints host and service names, cut as ipvsadm cuts them; firewall-mark ports stay numbers', async () => {
    const names = await lookupNames(all, async (a) => HOSTS[a]);
    // these ports have these names in every /etc/services; the test needs them
    expect([portName(80, 'tcp'), portName(443, 'tcp'), portName(8080, 'tcp'), portName(53, 'udp')]).toEqual(['http', 'https', 'http-alt', 'domain']);
    const text = formatList({ version: '1.2.1', connTableSize: 4096 } as never, all, { names });
    expect(text.split('\n')).toEqual([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  web.example:http rr',
      '  -> rs-one.example:https         Masq    3      0          0         ',
      '  -> rs-one.example:http-alt      Masq    1      0          0         ',
      '  -> anotherveryveryverylongname- Masq    2      0          0         ',
      '  -> 10.1.0.4:https               Masq    1      0          0         ',
      'TCP  anotherveryveryverylongname- rr',
      'UDP  web.example:domain rr',
      '  -> 10.1.0.9:domain              Masq    1      0          0         ',
      'TCP  [web6.example]:http rr',
      '  -> [rs6.example]:https          Masq    1      0          0         ',
      'FWM  7 rr',
      '  -> rs-one.example:0             Route   1      0          0         ',
      '  -> 10.1.0.4:80                  Route   1      0          0         ',
      '',
    ]);
  });

  it('rules with names are not cut (ipvsadm -S)', async () => {
    const names = await lookupNames(all, async (a) => HOSTS[a]);
    const rules = formatRules(all, { names }).split('\n');
    expect(rules).toContain('-a -t web.example:http -r anotherveryveryverylongname-for-a-server.example:https -m -w 2');
    expect(rules).toContain('-A -t anotherveryveryverylongname-for-a-server.example:tcpmux -s rr');
    expect(rules).toContain('-a -f 7 -r 10.1.0.4:80 -g -w 1');
    expect(formatRules(all).split('\n')).toContain('-a -t 10.1.0.1:80 -r 10.1.0.3:443 -m -w 2');
  });

  it('reads /etc/services both ways for each protocol', () => {
    expect(etcServices()('http', 'tcp')).toBe(80);
    expect(etcServices()('domain', 'udp')).toBe(53);
    expect(etcServices()('nosuch-service-name', 'tcp')).toBeUndefined();
    expect(portName(1, 'tcp')).toBe('tcpmux');
    expect(portName(12345, 'tcp')).toBeUndefined();
  });
});
