import { describe, expect, it } from 'vitest';
import { eachRule, parseRuleGeneral, parseRulesText, type ParsedRule } from '../../src/cli/ipvs-rules';
import { entriesOf, fastEntry, readRestoreText as readScanned, type EntryLines } from '../../src/cli/set-restore';

/** readRestoreText with each run's entries as text, however they were read. */
const readRestoreText = (text: string, refuse: (line: number, reason: string) => void) => readScanned(text, refuse).map((c) => {
  if (c.kind !== 'add' && c.kind !== 'del') return c;
  const { scanned: _, read: __, ...rest } = c as EntryLines;
  return { ...rest, entries: entriesOf(c as EntryLines) };
});
import { mulberry32 } from './random';
import { parseIpsetEntry } from '../../src/index';
import { main } from '../../src/cli/main';

/** Lines ipvsadm -Sn writes and near misses: the fast reader must give what the general parser gives. */
const LINES = [
  '-A -t 10.0.0.1:80 -s rr', '-A -u 10.0.0.1:53 -s wlc -p 300', '-A -t 255.255.255.255:65535 -s sh',
  '-A -t 10.0.0.1:0 -s rr -p 60', '-A -t 10.0.0.1:0 -s rr', '-A -t 10.0.0.1:65536 -s rr', '-A -t 10.0.0.1:80 -s rr -p 0',
  '-A -t 10.0.0.1:80 -s rr -p 2678401', '-A -t 010.0.0.1:80 -s rr', '-A -t 10.0.0.1:80 -s averyveryverylongname',
  '-A -t 10.0.0.1:80 -s weighted_rr1234', '-A -t 10.0.0.1:80  -s rr', '-A -t 10.0.0.1:80 -s rr -o', '-A -f 5 -s rr',
  '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 1', '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -g -w 0', '-a -u 10.0.0.1:53 -r 10.1.0.1:53 -m -w 65535',
  '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 65536', '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -i -w 1', '-a -t 10.0.0.1:80 -r 10.1.0.256:80 -m -w 1',
  '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 1 -x 10 -y 2', '-a -t [::1]:80 -r [::2]:80 -m -w 1',
  '-a -t 10.0.0.1:80 -r 10.1.0.01:80 -m -w 1', '-a -t 10.0.0.1:80 -r 10.1.0.1:080 -m -w 1', '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 1 ',
  '-a -t 10.0.0.1:80 -r 10.1.0.1:123456 -m -w 1', '-a -t 0.0.0.0:80 -r 0.0.0.0:0 -g -w 1', '-a -t 10.0.0.1:80 -r 10.1.0.1 -m -w 1',
  '-a  -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 1', '-a -t 1.2.3.4:5 -r 1.2.3.4:5 -m -w 00001', '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w',
  '-a -t 255.255.255.255:65535 -r 255.255.255.255:65535 -g -w 65535', '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 1\r',
  '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -x -w 1', '-a -t 10.0.0.1:8o -r 10.1.0.1:8080 -m -w 1', '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 1x',
  '-a -t 1.2.3.4.5:80 -r 10.1.0.1:8080 -m -w 1', '-a -t 1.2.3:80 -r 10.1.0.1:8080 -m -w 1', '-a -t 300.2.3.4:80 -r 10.1.0.1:8080 -m -w 1',
];

describe('ipvs restore: the fast rules tokenizer', () => {
  it('reads every line as the general ipvsadm parser does (change or refusal)', () => {
    for (const [i, text] of LINES.entries()) {
      const fast = parseRulesText(text)[0]!;
      const general = parseRuleGeneral(text, 1)!;
      expect({ ...fast, text: fast.text.trim() }, `line ${i}: ${text}`).toEqual({ ...general, line: 1 });
    }
  });

  it('hands real server lines to a server sink as the numbers of the change the rule path makes', () => {
    for (const [i, text] of LINES.entries()) {
      const [rule] = parseRulesText(text);
      const seen: unknown[] = [];
      const rules: ParsedRule[] = [];
      eachRule(text, (r) => rules.push(r), undefined, undefined, (line, service, a, port, forwarding, weight) => {
        seen.push({ line, text, change: { kind: 'addDestination', service, destination: { address: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`, port, forwarding, weight, upperThreshold: 0, lowerThreshold: 0 } } });
      });
      // a line is either handed over as numbers (and then equals the rule) or read as a rule
      expect(seen.length + rules.length, `line ${i}: ${text}`).toBe(rule ? 1 : 0);
      expect(seen.length ? seen[0] : rules[0], `line ${i}: ${text}`).toEqual(rule);
    }
  });

  it('refuses a scheduler name past 15 characters, as the API does, instead of cutting it', () => {
    const [r] = parseRulesText('-A -t 10.0.0.1:80 -s averyveryverylongname\n');
    expect(r!.error).toMatch(/scheduler must be a name .* \(under 16 characters\)/);
  });

  it('gives real servers of one service the same key object, and numbers lines from 1', () => {
    const rules = parseRulesText('# c\n-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 1\n\n-a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 1\n');
    expect(rules.map((r) => r.line)).toEqual([2, 3, 5]);
    const k = (r: (typeof rules)[number]) => (r.change as { service: object }).service;
    expect(k(rules[1]!)).toBe(k(rules[2]!));
  });
});

describe('ipvs set restore: the fast entry reader', () => {
  const cases: [string, string][] = [
    ['hash:ip', '10.0.0.1'], ['hash:ip', '10.0.0.0/24'], ['hash:net', '10.0.0.0/8'], ['hash:ip,port', '10.0.0.1,tcp:80'],
    ['hash:ip,port', '10.0.0.1,udp:53'], ['hash:ip,port', '10.0.0.1,sctp:0'], ['hash:net,port', '10.0.0.0/24,tcp:8080'],
    ['hash:ip,port,ip', '10.0.0.1,tcp:80,10.1.0.1'], ['hash:ip,port,net', '10.0.0.1,tcp:80,10.1.0.0/16'],
  ];
  it('gives the objects the library parser gives', () => {
    for (const [type, text] of cases) expect(fastEntry(type, text), `${type} ${text}`).toEqual(parseIpsetEntry(type, text));
  });
  it('leaves other shapes to the library parser', () => {
    for (const [type, text] of [['hash:ip', '010.0.0.1'], ['hash:ip', '10.0.0.1-10.0.0.5'], ['hash:ip,port', '10.0.0.1,80'], ['hash:ip,port', '10.0.0.1'], ['hash:mac', '00:11:22:33:44:55'], ['hash:ip', '10.0.0.1,tcp:80']]) {
      expect(fastEntry(type!, text!), `${type} ${text}`).toBeUndefined();
    }
  });
  it('reads add/del lines in place as the library\'s restore parser reads them', async () => {
    const { parseIpsetRestore } = await import('../../src/index');
    const lines = [
      'add s 10.0.0.1', 'del s 10.0.0.1,tcp:80', 'add KUBE-SVC-X 10.0.0.0/24', 'add s 10.0.0.1 timeout 5', 'add  s 10.0.0.1',
      'add s  10.0.0.1', 'add s 10.0.0.1 ', 'add s "10.0.0.1"', 'add s\t10.0.0.1', 'add s', 'add s ', 'add a-very-long-set-name-of-32-chars 1.2.3.4',
      'add a-set-name-of-exactly-31-char 1.2.3.4', 'addx s 1.2.3.4', ' add s 1.2.3.4', 'add s 10.0.0.1\r',
    ];
    for (const line of lines) {
      const bad: string[] = [];
      const [c] = readRestoreText(`${line}\n`, (_l, why) => bad.push(why));
      let want: unknown;
      try {
        const [g] = parseIpsetRestore(line);
        want = g === undefined ? undefined
          : g.kind === 'add' || g.kind === 'del' ? { kind: g.kind, set: g.set, line: 1, entries: [g.entry] } : { ...g, line: 1 };
      } catch (err) {
        want = (err as Error).message.replace(/^ipset\.restore: line 1: /, '');
      }
      expect(typeof want === 'string' ? bad[0] : c, JSON.stringify(line)).toEqual(want);
    }
  });

  it('reads every line before refusing, with line numbers', () => {
    const bad: string[] = [];
    const cmds = readRestoreText('create a hash:ip\nadd a 10.0.0.1\nbogus x\n\nadd a 10.0.0.2 timeout 5\nrename\n', (l, why) => bad.push(`${l}: ${why}`));
    expect(cmds.map((c) => [c.kind, c.line])).toEqual([['create', 1], ['add', 2], ['add', 5]]);
    expect(bad).toEqual([expect.stringMatching(/^3: unknown command 'bogus'/), expect.stringMatching(/^6: /)]);
  });

  it('reads long runs of one set\'s lines as the library\'s restore parser reads each line', async () => {
    const { parseIpsetRestore } = await import('../../src/index');
    const r = mulberry32(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const sets = ['KUBE-SVC', 'a.b', 'x+y', 'q(1)', 'c[d]', 's$', 'a\\b', 'n^m', 'p|q', 'KUBE-SVC-LONGER'];
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const set = r() < 0.995 ? sets[Math.floor(i / 700) % sets.length]! : pick(sets);
      const entry = `10.${i >> 8 & 255}.${i & 255}.${Math.floor(r() * 256)}${r() < 0.3 ? `,tcp:${i}` : ''}`;
      const odd = r();
      lines.push(odd < 0.003 ? `add ${set} ${entry} ` : odd < 0.006 ? `add ${set} ${entry}\r` : odd < 0.009 ? '# c' : odd < 0.012 ? ''
        : odd < 0.02 ? `del ${set} ${entry}` : odd < 0.022 ? `add ${set} "${entry}"` : odd < 0.024 ? `-A ${set} ${entry}` : `add ${set} ${entry}`);
    }
    for (const text of [`${lines.join('\n')}\n`, lines.join('\n')]) {
      const want: { kind: string; set: string; line: number; entry: string }[] = [];
      text.split('\n').forEach((l, k) => {
        const [c] = l.trim() === '' ? [] : parseIpsetRestore(l.trim());
        if (c && (c.kind === 'add' || c.kind === 'del')) want.push({ kind: c.kind, set: c.set, line: k + 1, entry: c.entry });
      });
      const cmds = readScanned(text, () => undefined) as EntryLines[];
      // line by line the parser's; long runs of one set read in place, as few commands
      const got = cmds.flatMap((c) => entriesOf(c).map((entry, k) => ({ kind: c.kind, set: c.set, line: c.line + k, entry })));
      expect(got).toEqual(want);
      expect(cmds.filter((c) => c.scanned).length).toBeGreaterThan(20);
      expect(cmds.length).toBeLessThan(want.length / 10);
    }
  });

  it('keeps consecutive add or del lines of one set as one command, entry k on line `line + k`', () => {
    const text = 'add a 10.0.0.1\nadd a 10.0.0.2\n-A a 10.0.0.3 timeout 5\n-A a 10.0.0.7 timeout 5\nadd b 10.0.0.4\nadd b 10.0.0.5\n# x\nadd b 10.0.0.6\ndel b 10.0.0.6\n'
      + 'add m 00:11:22:33:44:55\nadd m 00:11:22:33:44:56\n';
    const cmds = readRestoreText(text, () => undefined);
    expect(cmds).toEqual([
      { kind: 'add', set: 'a', line: 1, entries: ['10.0.0.1', '10.0.0.2'] },
      { kind: 'add', set: 'a', line: 3, entries: ['10.0.0.3 timeout 5', '10.0.0.7 timeout 5'] },
      { kind: 'add', set: 'b', line: 5, entries: ['10.0.0.4', '10.0.0.5'] },
      { kind: 'add', set: 'b', line: 8, entries: ['10.0.0.6'] },
      { kind: 'del', set: 'b', line: 9, entries: ['10.0.0.6'] },
      { kind: 'add', set: 'm', line: 10, entries: ['00:11:22:33:44:55', '00:11:22:33:44:56'] },
    ]);
    // the shapes ipset save writes are read in place, the others kept as text
    expect((readScanned(text, () => undefined) as EntryLines[]).map((c) => !!c.scanned)).toEqual([true, false, true, true, true, false]);
    // lines alternating between sets: one run each, read in place into the file's one store
    const alternating = Array.from({ length: 600 }, (_, i) => `add ${i % 2 ? 'b' : 'a'} 10.0.${i >> 8}.${i & 255}`);
    const runs = readScanned(`${alternating.join('\n')}\n`, () => undefined) as EntryLines[];
    expect(runs).toHaveLength(600);
    expect(runs.every((c) => c.scanned?.n === 1 && c.scanned.of === runs[0]!.scanned!.of)).toBe(true);
    expect(runs.map((c) => [c.set, c.line, entriesOf(c)])).toEqual(alternating.map((l, i) => [l.split(' ')[1], i + 1, [l.split(' ')[2]]]));
  });
});

describe('ipvs CLI verbs table', () => {
  const capture = () => {
    const io = { out: '', err: '' };
    return { io, cli: { out: (t: string | Uint8Array) => { io.out += String(t); }, err: (t: string) => { io.err += t; }, readStdin: async () => '' } };
  };
  it('names of Object.prototype are unknown commands with the usage, status 2', async () => {
    for (const argv of [['constructor'], ['__proto__'], ['toString'], ['hasOwnProperty'], ['set', 'toString'], ['set', 'constructor'], ['link', '__proto__'], ['addr', 'valueOf']]) {
      const { io, cli } = capture();
      expect(await main(argv, cli), argv.join(' ')).toBe(2);
      expect(io.err, argv.join(' ')).toMatch(/unknown command '[^']+'.*\nusage: ipvs/s);
      expect(io.err).not.toContain('is not a function');
    }
  });
  it('every verb and sub-verb answers --help and -h with its usage, status 0', async () => {
    const verbs = ['list', 'save', 'restore', 'flush', 'zero', 'timeout', 'daemon', 'apply', 'sysctl', 'exporter'];
    const subs = [['set', 'create'], ['set', 'add'], ['set', 'restore'], ['set', 'list'], ['set', 'version'], ['link', 'add'], ['addr', 'list']];
    for (const argv of [...verbs.map((v) => [v]), ...subs]) {
      for (const flag of ['--help', '-h']) {
        const { io, cli } = capture();
        expect(await main([...argv, flag], cli), argv.join(' ')).toBe(0);
        expect(io.out, argv.join(' ')).toMatch(new RegExp(`^usage: ipvs ${argv.join(' ')}`));
      }
    }
  });
});

describe('ipvs list / save written into one buffer', () => {
  it('prints what the line-by-line formatters print, in every case they handle differently', async () => {
    const { formatList, formatListInto, formatRules, formatRulesInto } = await import('../../src/cli/ipvs-format');
    const { TextBuffer } = await import('../../src/cli/text-buffer');
    const stats = { conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n, cps: 0n, inpps: 0n, outpps: 0n, inbps: 0n, outbps: 0n };
    const d = (address: string, port: number, more: object = {}) => ({
      address, port, family: address.includes(':') ? 'inet6' : 'inet', forwarding: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0,
      activeConns: 3, inactiveConns: 12345678, persistentConns: 0, stats, ...more,
    });
    const services = [
      { protocol: 'tcp', address: '10.0.0.1', port: 80, family: 'inet', scheduler: 'rr', schedFlags: [], persistent: 0, netmask: '255.255.255.255', onePacket: false, stats,
        destinations: [d('10.1.0.2', 8080), d('10.1.0.1', 80, { forwarding: 'route', weight: 65535 }), d('192.168.0.1', 1, { forwarding: 'local' })] },
      { protocol: 'udp', address: '10.0.0.2', port: 53, family: 'inet', scheduler: 'sh', schedFlags: ['sh-port'], persistent: 300, netmask: '255.255.255.0', onePacket: true, stats,
        destinations: [d('10.1.0.3', 53, { upperThreshold: 10, lowerThreshold: 2 }), d('10.1.0.4', 53, { forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'csum' })] },
      { protocol: 'tcp', address: 'fd00::1', port: 443, family: 'inet6', scheduler: 'wlc', schedFlags: [], persistent: 0, netmask: 128, onePacket: false, stats,
        destinations: [d('fd00::2', 443), d('10.2.0.1', 443, { forwarding: 'tunnel', tunnelType: 'ipip' })] },
      { fwmark: 7, family: 'inet', scheduler: 'rr', schedFlags: [], persistent: 0, netmask: '255.255.255.255', onePacket: false, stats, destinations: [] },
      { protocol: 'sctp', address: '10.0.0.3', port: 9, family: 'inet', scheduler: 'lc', schedFlags: [], persistent: 0, netmask: '255.255.255.255', onePacket: false, stats,
        destinations: [d('10.9.9.9', 9999), d('10.9.9.10', 9)] },
    ] as never[];
    const info = { version: '1.2.1', connTableSize: 4096 } as never;
    for (const o of [{}, { nosort: true }, { thresholds: true }]) {
      expect(formatRulesInto(new TextBuffer(16), services, o).bytes().toString()).toBe(formatRules(services, o));
    }
    for (const o of [{}, { nosort: true }, { layout: 'stats' as const }, { layout: 'tun-info' as const }]) {
      expect(formatListInto(new TextBuffer(16), info, services, o).bytes().toString()).toBe(formatList(info, services, o));
    }
  });
});

describe('ipvs help', () => {
  it('shows each verb\'s own summary (the table loads no verb for it)', async () => {
    const { COMMANDS } = await import('../../src/cli/commands');
    for (const name of Object.keys(COMMANDS)) {
      const cmd = await COMMANDS[name]!.load();
      if (name === 'set') expect(COMMANDS[name]!.summary).toContain('version');
      else expect(COMMANDS[name]!.summary, name).toBe(cmd.summary);
    }
  });
});
