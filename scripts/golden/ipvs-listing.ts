// Captures what ipvsadm prints for one IPVS state, with that state as the library reads it, for
// the listing and rules formatters' unit test (test/unit/ipvs-format.test.ts). Runs as root on a
// kernel with IPVS (the VM):
//
//   node scripts/vm/run.mjs -- npx vite-node scripts/golden/ipvs-listing.ts
//
// It builds the state with ipvsadm in a fresh network namespace (the service and destination
// addresses are chosen so ipvsadm's sort meets its signed-difference quirk, cycles included),
// sends a few connection attempts so counters move, then reads the state and ipvsadm's outputs
// back to back, until two rounds of ipvsadm agree (rates change every 2 s).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openHandle } from '../../src/index';
import { toJson } from './ipvs-fixture-codec';

const NS = 'golden-ipvs-listing';
const out = path.join(__dirname, '..', '..', 'test', 'golden');
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
const ns = (cmd: string, ...args: string[]) => sh('ip', ['netns', 'exec', NS, cmd, ...args]);

const SETUP = [
  '-A -t 10.0.0.1:80 -s rr', '-A -t 192.168.0.1:80 -s rr', '-A -t 200.0.0.1:80 -s rr', '-A -t 1.0.0.1:80 -s rr',
  '-A -t 96.0.0.1:80 -s wrr', '-A -t 0.0.0.1:80 -s wrr',
  '-A -u 10.0.0.1:53 -s wrr', '-A -f 7 -s sh -b sh-port,sh-fallback', '-A -f 3 -6 -s mh -b mh-port -p 120 -M 96',
  '-A -t [fd00::1]:443 -s lc -p 100 -M 64', '-A -t [2001:db8::1]:443 -s lc', '-A -t [fe80::1]:443 -s lc',
  '-A -t 10.0.0.2:0 -s dh -p', '-A -u 10.0.0.3:5060 -s sed -p 60 -M 255.255.0.0 --pe sip -o',
  '-A --sctp-service 10.0.0.4:9 -s fo', '-A -t 10.0.0.5:80 -s ovf', '-A -t 10.0.0.6:80 -s lblcr -b flag-3',
  '-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3 -x 100 -y 10', '-a -t 10.0.0.1:80 -r 10.1.1.1:8080 -m -w 0',
  '-a -t 10.0.0.1:80 -r 200.1.1.1:8080 -m', '-a -t 10.0.0.1:80 -r 10.1.1.2 -g',
  '-a -t 10.0.0.1:80 -r 10.1.1.3 -i --tun-type gue --tun-port 6080 --tun-csum',
  '-a -t 10.0.0.1:80 -r 10.1.1.4 -i --tun-type gre --tun-csum', '-a -t 10.0.0.1:80 -r 10.1.1.5 -i',
  '-a -t 10.0.0.1:80 -r [fd00::5]:80 -i --tun-type gue --tun-port 7 --tun-remcsum', '-a -t 10.0.0.1:80 -r 127.0.0.1 -g',
  '-a -f 7 -r 10.9.9.9 -g', '-a -f 3 -6 -r [2001:db8::9]:0 -g -w 65535', '-a -f 3 -6 -r [fd00::9]:0 -g',
  '-a -t 96.0.0.1:80 -r 0.0.0.2:80 -m', '-a -t 96.0.0.1:80 -r 96.0.0.2:80 -m', '-a -t 96.0.0.1:80 -r 192.0.0.2:80 -m',
  '-a -t 96.0.0.1:80 -r 160.0.0.2:80 -m', '-a -t 96.0.0.1:80 -r 32.0.0.2:80 -m',
];
const LISTINGS: Record<string, string[]> = {
  'ipvs-listing-default.txt': ['-Ln'],
  'ipvs-listing-nosort.txt': ['-Ln', '--nosort'],
  'ipvs-listing-stats.txt': ['-Ln', '--stats'],
  'ipvs-listing-stats-exact.txt': ['-Ln', '--stats', '--exact'],
  'ipvs-listing-rate.txt': ['-Ln', '--rate'],
  'ipvs-listing-thresholds.txt': ['-Ln', '--thresholds'],
  'ipvs-listing-persistent-conn.txt': ['-Ln', '--persistent-conn'],
  'ipvs-listing-tun-info.txt': ['-Ln', '--tun-info'],
  'ipvs-listing-one.txt': ['-Ln', '-t', '10.0.0.1:80'],
  'ipvs-listing-save.txt': ['-Sn'],
  'ipvs-listing-timeout.txt': ['-L', '--timeout'],
};

async function main(): Promise<void> {
  sh('ip', ['netns', 'add', NS]);
  try {
    ns('ip', 'link', 'set', 'lo', 'up');
    ns('ip', 'addr', 'add', '10.0.0.1/32', 'dev', 'lo');
    for (const line of SETUP) ns('ipvsadm', ...line.split(' '));
    for (let i = 0; i < 4; i++) {
      try {
        ns('timeout', '1', 'bash', '-c', 'echo > /dev/tcp/10.0.0.1/80');
      } catch {
        // refused or timed out: the counters moved anyway
      }
    }
    const h = openHandle({ netns: `/run/netns/${NS}` });
    try {
      for (let round = 0; round < 10; round++) {
        const before = Object.fromEntries(Object.entries(LISTINGS).map(([f, a]) => [f, ns('ipvsadm', ...a)]));
        const state = { info: await h.ipvs.getInfo(), services: await h.ipvs.listAll(), timeouts: await h.ipvs.getTimeouts() };
        const after = Object.fromEntries(Object.entries(LISTINGS).map(([f, a]) => [f, ns('ipvsadm', ...a)]));
        if (JSON.stringify(before) !== JSON.stringify(after)) continue;
        for (const [f, text] of Object.entries(after)) writeFileSync(path.join(out, f), text);
        writeFileSync(path.join(out, 'ipvs-listing-state.json'), `${JSON.stringify(toJson(state), null, 2)}\n`);
        writeFileSync(path.join(out, 'ipvs-listing-setup.txt'), `# state of the ipvs-listing-* fixtures: these ipvsadm commands in a fresh netns (lo up, 10.0.0.1/32 on lo),\n# then 4 connection attempts to 10.0.0.1:80; captured by scripts/golden/ipvs-listing.ts on Linux ${sh('uname', ['-r']).trim()}\n${SETUP.map((l) => `ipvsadm ${l}`).join('\n')}\n`);
        console.log(`captured ${Object.keys(LISTINGS).length} listings and the state in round ${round + 1}`);
        return;
      }
      throw new Error('ipvsadm\'s outputs kept changing between rounds');
    } finally {
      h.close();
    }
  } finally {
    sh('ip', ['netns', 'delete', NS]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
