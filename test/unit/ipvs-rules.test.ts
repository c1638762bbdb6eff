// The rules format (`ipvsadm -S` / `ipvsadm -R`) read as ipvsadm 1.31 reads it: options and their
// spellings, defaults, the command/option table, and the checks of process_options.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IpvsadmArgsError, parseIpvsadmArgs, toChange } from '../../src/cli/ipvs-args';
import { parseRulesText as parseRules, ruleWords } from '../../src/cli/ipvs-rules';
import { formatRules } from '../../src/cli/ipvs-format';
import { fromJson, type Json } from '../../scripts/golden/ipvs-fixture-codec';
import type { IpvsServiceEntry } from '../../src/index';

const change = (line: string) => toChange(parseIpvsadmArgs(ruleWords(line)));
const fails = (line: string) => {
  try {
    change(line);
  } catch (err) {
    expect(err).toBeInstanceOf(IpvsadmArgsError);
    return (err as Error).message;
  }
  throw new Error(`'${line}' was accepted`);
};

describe('ipvsadm rules: services', () => {
  it('reads -A with every service option', () => {
    expect(change('-A -t 10.0.0.1:80 -s rr')).toEqual({ kind: 'addService', service: { protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr' } });
    expect(change('-A -u 10.0.0.3:5060 -s sed -p 60 -M 255.255.0.0 --pe sip -o')).toEqual({
      kind: 'addService',
      service: { protocol: 'udp', address: '10.0.0.3', port: 5060, scheduler: 'sed', persistent: 60, netmask: '255.255.0.0', pe: 'sip', onePacket: true },
    });
    expect(change('-A -t [FD00:0:0::1]:443 -s lc -p 100 -M 64')).toEqual({
      kind: 'addService', service: { protocol: 'tcp', address: 'fd00::1', port: 443, scheduler: 'lc', persistent: 100, netmask: 64 },
    });
    expect(change('-A -f 3 -6 -s mh -b mh-port')).toEqual({ kind: 'addService', service: { fwmark: 3, family: 'inet6', scheduler: 'mh', schedFlags: ['mh-port'] } });
    expect(change('-A --sctp-service 10.0.0.4:9')).toEqual({ kind: 'addService', service: { protocol: 'sctp', address: '10.0.0.4', port: 9, scheduler: 'wlc' } });
  });

  it('-p without a value is 360 seconds (libipvs IPVS_SVC_PERSISTENT_TIMEOUT), and takes no option as its value', () => {
    expect(change('-A -t 10.0.0.2:0 -s dh -p')).toMatchObject({ service: { persistent: 360, port: 0 } });
    expect(change('-A -t 10.0.0.2:0 -p -s dh')).toMatchObject({ service: { persistent: 360, scheduler: 'dh' } });
  });

  it('accepts popt spellings: clusters, --opt=value, attached values, the word ipvsadm, comments', () => {
    const want = { kind: 'addService', service: { protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr' } };
    expect(change('-At 10.0.0.1:80 -s rr')).toEqual(want);
    expect(change('--add-service --tcp-service=10.0.0.1:80 --scheduler rr')).toEqual(want);
    expect(change('-A -t10.0.0.1:80 -srr')).toEqual(want);
    expect(change('ipvsadm -A -t 10.0.0.1:80 -s rr # web')).toEqual(want);
  });

  it('resolves port names with the resolver given, as getservbyname', () => {
    const a = parseIpvsadmArgs(['-A', '-t', '10.0.0.1:http'], (n, p) => (n === 'http' && p === 'tcp' ? 80 : undefined));
    expect(a.service).toEqual({ protocol: 'tcp', address: '10.0.0.1', port: 80 });
    expect(fails('-A -t 10.0.0.1:http')).toBe('illegal virtual server address[:port] specified');
    expect(fails('-A -t www.example.com:80')).toBe('illegal virtual server address[:port] specified');
  });

  it('reads host names through the resolver given, as gethostbyname: IPv4 only, IPv6 numeric', () => {
    const hosts = (n: string) => ({ 'web.example': '10.1.0.1', 'rs.example': '10.1.0.2', 'odd.example': 'fd00::1' } as Record<string, string>)[n];
    expect(parseIpvsadmArgs(['-a', '-t', 'web.example:80', '-r', 'rs.example', '-g'], undefined, hosts)).toMatchObject({
      service: { protocol: 'tcp', address: '10.1.0.1', port: 80 },
      destination: { address: '10.1.0.2', port: 80 },
    });
    const refused = (argv: string[]) => () => parseIpvsadmArgs(argv, undefined, hosts);
    expect(refused(['-A', '-t', 'nosuch.example:80'])).toThrow('illegal virtual server address[:port] specified');
    expect(refused(['-A', '-t', 'odd.example:80'])).toThrow('illegal virtual server address[:port] specified');
    expect(refused(['-A', '-t', '[web.example]:80'])).toThrow('illegal virtual server address[:port] specified');
    expect(refused(['-a', '-t', '[fd00::1]:80', '-r', 'rs.example'])).toThrow();
    expect(refused(['-A', '-t', '-bad-.example:80'])).toThrow('illegal virtual server address[:port] specified');
  });

  it('refuses what ipvsadm refuses, in its words', () => {
    expect(fails('-A -t 10.0.0.1:0 -s rr')).toBe('Zero port specified for non-persistent service');
    expect(fails('-A -t 10.0.0.1:80 -o')).toBe('One-Packet Scheduling is only for UDP virtual services');
    expect(fails('-A -t 10.0.0.1:80 -s rr -b sh-port')).toBe("incompatible scheduler flag `sh-port'");
    expect(fails('-A -t 10.0.0.1:80 -b nosuch')).toBe("invalid scheduler flag `nosuch'");
    expect(fails('-A -6 -f 3')).toBe('-6 used before -f');
    expect(fails('-A -t 10.0.0.1:80 -w 3')).toBe("Illegal 'weight' option with the 'add-service' command");
    expect(fails('-A -s rr')).toBe("You need to supply the 'service-address' option for the 'add-service' command");
    expect(fails('-A -E -t 10.0.0.1:80')).toBe('multiple commands specified');
    expect(fails('-A -t 10.0.0.1:80 -s rr -s wrr')).toBe("multiple 'scheduler' options specified");
    expect(fails('-A -t 10.0.0.1:80 -p 0')).toBe("invalid timeout value `0' specified");
    expect(fails('-A -t 10.0.0.1:80 -p 10 -M 255.255.255.256')).toBe('illegal virtual server persistent mask specified');
    expect(fails('-A -t [fd00::1]:80 -p 10 -M 129')).toBe('illegal ipv6 netmask specified');
    expect(fails('-A -f 0')).toBe("invalid fwmark value `0' specified");
    expect(fails('-A -t 10.0.0.1:80 extra')).toBe('unexpected argument extra');
    expect(fails('-A -t 10.0.0.1:80 --bogus')).toBe("invalid option `--bogus'");
    expect(fails('-L')).toBe("the 'list' command cannot be part of a rules file");
  });

  it('reads -E and -D', () => {
    expect(change('-E -t 10.0.0.1:80 -s wrr -p 30')).toEqual({ kind: 'editService', service: { protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'wrr', persistent: 30 } });
    expect(change('-D -f 7')).toEqual({ kind: 'deleteService', service: { fwmark: 7 } });
    expect(fails('-D -t 10.0.0.1:80 -s rr')).toBe("Illegal 'scheduler' option with the 'delete-service' command");
  });
});

describe('ipvsadm rules: real servers', () => {
  const svc = { protocol: 'tcp', address: '10.0.0.1', port: 80 };

  it('reads -a with forwarding, weight, thresholds and tunnels', () => {
    expect(change('-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3 -x 100 -y 10')).toEqual({
      kind: 'addDestination', service: svc,
      destination: { address: '192.168.1.1', port: 8080, forwarding: 'masq', weight: 3, upperThreshold: 100, lowerThreshold: 10 },
    });
    expect(change('-a -t 10.0.0.1:80 -r 10.1.1.3 -i --tun-type gue --tun-port 6080 --tun-remcsum')).toMatchObject({
      destination: { address: '10.1.1.3', port: 80, forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'remcsum' },
    });
    expect(change('-a -t 10.0.0.1:80 -r 10.1.1.4 -i --tun-type gre')).toMatchObject({ destination: { tunnelType: 'gre', tunnelChecksum: 'nocsum' } });
    expect(change('-a -t 10.0.0.1:80 -r 10.1.1.5 -i')).toMatchObject({ destination: { forwarding: 'tunnel', tunnelType: 'ipip' } });
    expect(change('-a -t 10.0.0.1:80 -r [fd00::5]:80 -i')).toMatchObject({ destination: { address: 'fd00::5', forwarding: 'tunnel' } });
  });

  it('defaults: direct routing, weight 1; the service\'s port when none is given or the method cannot change it', () => {
    expect(change('-a -t 10.0.0.1:80 -r 10.1.1.2')).toMatchObject({ destination: { port: 80, forwarding: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 } });
    expect(change('-a -t 10.0.0.1:80 -r 10.1.1.2:8080 -g')).toMatchObject({ destination: { port: 80 } });
    expect(change('-a -t 10.0.0.1:80 -r 10.1.1.2:8080 -i')).toMatchObject({ destination: { port: 80 } });
    expect(change('-a -t 10.0.0.1:80 -r 10.1.1.2:8080 -m')).toMatchObject({ destination: { port: 8080 } });
    expect(change('-a -f 7 -r 10.9.9.9:25')).toMatchObject({ service: { fwmark: 7 }, destination: { port: 25 } });
    expect(change('-a -f 7 -r 10.9.9.9')).toMatchObject({ destination: { port: 0 } });
  });

  it('-e resets what it does not name, -d needs only the key', () => {
    expect(change('-e -t 10.0.0.1:80 -r 10.1.1.1:8080 -m -w 5')).toEqual({
      kind: 'editDestination', service: svc,
      destination: { address: '10.1.1.1', port: 8080, forwarding: 'masq', weight: 5, upperThreshold: 0, lowerThreshold: 0 },
    });
    expect(change('-d -t 10.0.0.1:80 -r 10.1.1.1:8080')).toEqual({ kind: 'deleteDestination', service: svc, destination: { address: '10.1.1.1', port: 8080 } });
  });

  it('refuses what ipvsadm refuses', () => {
    expect(fails('-a -t 10.0.0.1:80 -r 10.1.1.1 -w 2147483648')).toBe('illegal weight specified');
    // ipvsadm 1.31 takes weights up to INT_MAX (checked against it in test/kernel/ipvs-limits.test.ts)
    expect(change('-a -t 10.0.0.1:80 -r 10.1.1.1 -w 2147483647')).toMatchObject({ destination: { weight: 2147483647 } });
    expect(fails('-a -t 10.0.0.1:80 -r [fd00::5]:80 -m')).toBe('Different address family is allowed only for tunneling servers');
    expect(fails('-a -t 10.0.0.1:80 -r 10.1.1.1 -m --tun-type gre')).toBe('Tunnel options conflict with forward method');
    expect(fails('-a -t 10.0.0.1:80 -r 10.1.1.1 -i --tun-type gue')).toBe("You need to supply the 'tun-port' option for the 'gue' tunnel type");
    expect(fails('-a -t 10.0.0.1:80 -r 10.1.1.1 -i --tun-type gre --tun-remcsum')).toBe("Illegal 'tun-remcsum' option with the 'gre' tunnel type");
    expect(fails('-a -t 10.0.0.1:80 -r 10.1.1.1 -i --tun-type gue --tun-port 1 --tun-csum --tun-nocsum'))
      .toBe("The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type");
    expect(fails('-a -t 10.0.0.1:80 -r 10.1.1.1 -m -g')).toBe("multiple 'forwarding-method' options specified");
    expect(fails('-a -t 10.0.0.1:80')).toBe("You need to supply the 'real-server' option for the 'add-server' command");
    expect(fails('-a -t 10.0.0.1:80 -r 10.1.1.1:99999')).toBe('illegal real server address[:port] specified');
  });
});

describe('ipvsadm rules: the rest', () => {
  it('-C, -Z, --set, daemons', () => {
    expect(change('-C')).toEqual({ kind: 'flush' });
    expect(change('-Z')).toEqual({ kind: 'zero' });
    expect(change('-Z -u 10.0.0.1:53')).toEqual({ kind: 'zero', service: { protocol: 'udp', address: '10.0.0.1', port: 53 } });
    expect(change('--set 900 120 300')).toEqual({ kind: 'setTimeouts', timeouts: { tcp: 900, tcpFin: 120, udp: 300 } });
    expect(change('--set 0 60 0')).toEqual({ kind: 'setTimeouts', timeouts: { tcpFin: 60 } });
    expect(change('--set 0 0 0')).toBeNull();
    expect(change('--start-daemon master')).toEqual({ kind: 'startDaemon', daemon: { state: 'master', interface: 'eth0', syncId: 0 } });
    expect(change('--start-daemon backup --mcast-interface lo --syncid 6 --sync-maxlen 1000 --mcast-group FF02::99 --mcast-port 9000 --mcast-ttl 3')).toEqual({
      kind: 'startDaemon', daemon: { state: 'backup', interface: 'lo', syncId: 6, syncMaxLen: 1000, group: 'ff02::99', port: 9000, ttl: 3 },
    });
    expect(change('--stop-daemon backup')).toEqual({ kind: 'stopDaemon', state: 'backup' });
    expect(fails('--set 900 120')).toBe('--set option requires 3 timeout values');
    expect(fails('--start-daemon primary')).toBe('illegal start-daemon parameter specified');
    expect(fails('--start-daemon master --mcast-group 10.0.0.1')).toBe("invalid IPv4 mcast-group `10.0.0.1'");
    expect(fails('--stop-daemon master --mcast-interface lo')).toBe("Illegal 'mcast-interface' option with the 'stop-daemon' command");
  });
});

describe('rules files', () => {
  it('reports each bad line by number, and checks with the library too', () => {
    const rules = parseRules([
      '# a comment', '', '-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m -x 5 -y 9',
      '-A -t 10.0.0.1:80 -s r/r', '-a -t 10.0.0.1:80 -r 10.1.1.2 -q', '--set 0 0 0',
    ].join('\n'));
    expect(rules.map((r) => [r.line, r.error ?? 'ok'])).toEqual([
      [3, 'ok'],
      [4, 'ipvs.addDestination: lowerThreshold 9 is above upperThreshold 5 (the kernel refuses it with ERANGE)'],
      [5, expect.stringMatching(/^ipvs\.addService: scheduler must be a name/)],
      [6, "invalid option `-q'"],
      [7, 'ok'],
    ]);
    expect(rules[4]!.change).toBeNull();
  });

  it('what ipvs save writes, ipvs restore reads back into the same services and destinations', () => {
    const state = fromJson(JSON.parse(readFileSync(path.join(__dirname, '..', 'golden', 'ipvs-listing-state.json'), 'utf8')) as Json) as { services: IpvsServiceEntry[] };
    const rules = parseRules(formatRules(state.services));
    expect(rules.filter((r) => r.error)).toEqual([]);
    const services = rules.map((r) => r.change!).filter((c) => c.kind === 'addService');
    const dests = rules.map((r) => r.change!).filter((c) => c.kind === 'addDestination');
    expect(services).toHaveLength(state.services.length);
    expect(dests).toHaveLength(state.services.reduce((n, s) => n + s.destinations.length, 0));
    for (const s of state.services) {
      const key = 'fwmark' in s ? { fwmark: s.fwmark, ...(s.family === 'inet6' && { family: 'inet6' }) } : { protocol: s.protocol, address: s.address, port: s.port };
      const c = services.find((x) => JSON.stringify(x.kind === 'addService' && { ...x.service, scheduler: undefined, persistent: undefined, netmask: undefined, pe: undefined, onePacket: undefined, schedFlags: undefined }) === JSON.stringify({ ...key, scheduler: undefined, persistent: undefined, netmask: undefined, pe: undefined, onePacket: undefined, schedFlags: undefined }));
      expect(c, JSON.stringify(key)).toBeDefined();
      expect(c).toMatchObject({ service: { scheduler: s.scheduler, ...(s.persistent && { persistent: s.persistent }), ...(s.pe && { pe: s.pe }) } });
    }
  });
});
