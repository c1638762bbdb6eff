// Host and port names, read and printed as ipvsadm reads and prints them: the same command lines
// with names go to ipvsadm in one namespace and to `ipvs` in another, both seeing one /etc/hosts
// (bind-mounted in a mount namespace of the guest's own: the host's file is never touched); the
// exit statuses, the listings without -n and the rules of -S must be ipvsadm's, and the kernel
// state (ipvsadm -Sn) the same. Then `ipvs restore` reads ipvsadm -S's named rules back.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRoot, useNetns, type Netns } from './helpers/netns';
import { saved } from './ipvs-helpers';

const theirs = useNetns();
const ours = useNetns();
const restored = useNetns();

const LONG = 'averyveryveryverylongname-for-a-real-server.example';
const HOSTS = `127.0.0.1 localhost
10.1.0.1 web.example
10.1.0.2 rs-one.example ${LONG}
10.1.0.3 anotherveryveryverylongname-for-a-server.example
fd00::1 web6.example
fd00::2 rs6.example
`;

// Each line with the status ipvsadm gives it (0 applied, 2 refused before the kernel).
const LINES: [string, number][] = [
  ['-A -t web.example:http -s rr', 0],
  ['-a -t web.example:http -r rs-one.example:8080 -m', 0],
  [`-a -t web.example:http -r ${LONG}:https -m -w 3`, 0],
  ['-a -t web.example:http -r 10.1.0.3:https -m -w 2', 0],
  ['-a -t web.example:www -r 10.1.0.4:443 -m', 0],
  ['-A -u 10.1.0.1:domain -s rr', 0],
  ['-a -u web.example:53 -r 10.1.0.9:53 -m', 0],
  ['-A --sctp-service web.example:9 -s rr', 0],
  ['-A -t 10.1.0.3:1 -s rr', 0],
  ['-A -f 7 -s rr', 0],
  ['-a -f 7 -r rs-one.example -g', 0],
  ['-a -f 7 -r 10.1.0.4:80 -g', 0],
  ['-A -t [fd00::1]:80 -s rr', 0],
  ['-a -t [fd00::1]:80 -r [fd00::2]:https -m', 0],
  ['-A -t nosuch.example:80 -s rr', 2], // no such name
  ['-A -t web6.example:80 -s rr', 2], // names are IPv4 only (gethostbyname)
  ['-a -t [fd00::1]:80 -r rs6.example:80 -m', 2],
  ['-a -t [fd00::1]:80 -r [rs6.example]:80 -m', 2],
  ['-A -t web.example:nosuchport -s rr', 2],
];
const LISTINGS = ['-L', '-L --stats', '-L --thresholds', '-S', '-L -t web.example:http', '-l -u web.example:domain', '-Ln'];

let dir: string;
let hosts: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ipvs-names-'));
  hosts = path.join(dir, 'hosts');
  writeFileSync(hosts, HOSTS);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A command in the namespace, in a mount namespace where /etc/hosts is the test's file. */
function withHosts(ns: Netns, argv: string[]) {
  return execRoot('unshare', ['-m', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hosts, 'ip', 'netns', 'exec', ns.name, ...argv]);
}

/** `ipvsadm ARGS` lines in one shell: [status, stdout, stderr] of each, split by markers. */
async function ipvsadmLines(ns: Netns, lines: string[]): Promise<{ code: number; out: string; err: string }[]> {
  const script = lines.map((l, i) => `echo "@@${i}" >&2; echo "@@${i}"; ipvsadm ${l}; echo "@@status $?"`).join('\n');
  const r = await withHosts(ns, ['sh', '-c', script]);
  expect(r.code, r.stderr).toBe(0);
  const outs = r.stdout.split(/^@@\d+\n/m).slice(1);
  const errs = r.stderr.split(/^@@\d+\n/m).slice(1);
  return outs.map((o, i) => {
    const m = /@@status (\d+)\n$/.exec(o)!;
    return { code: Number(m[1]), out: o.slice(0, m.index), err: errs[i] ?? '' };
  });
}

/** The same lines through the `ipvs` CLI, in one process. */
async function ipvsLines(ns: Netns, runs: { argv: string[]; stdin?: string }[]): Promise<{ code: number; out: string; err: string }[]> {
  const script = path.join(__dirname, 'helpers', 'cli-batch.ts');
  const r = await withHosts(ns, [process.execPath, '--import', 'tsx', script, JSON.stringify(runs)]);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { code: number; out: string; err: string }[];
}

const words = (l: string) => l.split(' ');

describe('host and port names', () => {
  it('are read as ipvsadm reads them: first IPv4 address, same statuses, same rules', async () => {
    const theirRuns = await ipvsadmLines(theirs(), LINES.map(([l]) => l));
    expect(theirRuns.map((r) => r.code), 'ipvsadm itself').toEqual(LINES.map(([, c]) => c));
    const ourRuns = await ipvsLines(ours(), LINES.map(([l]) => ({ argv: words(l) })));
    expect(ourRuns.map((r) => r.code)).toEqual(LINES.map(([, c]) => c));
    for (const [i, r] of ourRuns.entries()) if (r.code === 2) expect(r.err, LINES[i]![0]).toBe(theirRuns[i]!.err);
    const rules = await saved(theirs());
    expect(rules).toContain('-a -t 10.1.0.1:80 -r 10.1.0.2:443 -m -w 3'); // the long name is 10.1.0.2's alias
    expect(await saved(ours())).toEqual(rules);
  });

  it('are printed as ipvsadm prints them without -n: -L in each layout, -L of one service, -S', async () => {
    const theirRuns = await ipvsadmLines(theirs(), LISTINGS);
    const VERBS = [['list'], ['list', '-n'], ['save', '--names'], ['save']];
    const all = await ipvsLines(ours(), [...LISTINGS.map((l) => ({ argv: words(l) })), ...VERBS.map((argv) => ({ argv }))]);
    const ourRuns = all.slice(0, LISTINGS.length);
    for (const [i, l] of LISTINGS.entries()) {
      expect(theirRuns[i]!.code, l).toBe(0);
      expect(ourRuns[i], l).toEqual(theirRuns[i]);
    }
    // what the comparison covers: names, service names of ports, the cut at 28 and 33 columns
    const list = theirRuns[0]!.out;
    expect(list).toContain('TCP  web.example:http rr\n');
    expect(list).toContain('  -> rs-one.example:http-alt      Masq    1      0          0');
    expect(list).toContain('TCP  anotherveryveryverylongname- rr\n');
    expect(list).toContain('  -> [rs6.example]:https');
    expect(list).toContain('  -> anotherveryveryverylongname- Masq    2');
    // our own verbs: `ipvs list` resolves unless -n; `ipvs save` is numeric unless --names
    const verbs = all.slice(LISTINGS.length);
    expect(verbs.map((v) => v.out)).toEqual([theirRuns[0]!.out, theirRuns[6]!.out, theirRuns[3]!.out, `${(await saved(theirs())).join('\n')}\n`]);
  });

  it('in rules: ipvs restore reads what ipvsadm -S wrote with names', async () => {
    const named = (await ipvsadmLines(theirs(), ['-S']))[0]!.out;
    expect(named).toContain('-A -t web.example:http -s rr');
    // ipvsadm -S writes an IPv6 address's name in brackets, which neither ipvsadm -R nor ipvs
    // restore reads back: both refuse those lines, ipvs restore before applying anything
    const bracketed = named.split('\n').flatMap((l, i) => (/\[[a-z]/.test(l) ? [i + 1] : []));
    expect(bracketed.length).toBe(2);
    const [whole] = await ipvsLines(restored(), [{ argv: ['restore'], stdin: named }]);
    expect(whole!.code).toBe(1);
    expect(whole!.err).toBe(`${bracketed.map((n) => `ipvs restore: line ${n}: illegal virtual server address[:port] specified\n`).join('')}ipvs restore: 2 lines not understood; nothing was applied\n`);
    expect(await saved(restored())).toEqual([]);
    const readable = named.split('\n').filter((l) => !/\[[a-z]/.test(l)).join('\n');
    const [r] = await ipvsLines(restored(), [{ argv: ['restore'], stdin: readable }]);
    expect(r).toEqual({ code: 0, out: '', err: '' });
    expect(await saved(restored())).toEqual((await saved(theirs())).filter((l) => !l.includes('fd00')));
    // a name that does not resolve is a bad line, reported with its number, and nothing is applied
    const [bad] = await ipvsLines(restored(), [{ argv: ['restore'], stdin: '-C\n-A -t nosuch.example:80 -s rr\n' }]);
    expect(bad!.code).toBe(1);
    expect(bad!.err).toContain('line 2: illegal virtual server address[:port] specified');
    expect((await saved(restored())).length).toBeGreaterThan(5);
  });
});
