/**
 * kube-proxy's KUBE-CLUSTER-IP set (hash:ip,port), filled in bulk, tested and listed, in a
 * namespace of its own. Run as root:
 *
 *   npx tsx examples/ipset.ts
 *
 * Entries are written as the ipset tool writes them (`10.96.0.10,tcp:80`); the library sends many
 * per message, and a refused one is reported by index (IpsetEntryError).
 */
import { execFileSync } from 'node:child_process';
import { IpsetEntryError, formatIpsetEntry, openHandle } from '../src/index';

async function main(): Promise<void> {
  const ns = `ipset-example-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const h = openHandle({ netns: `/run/netns/${ns}` });
  try {
    await h.ipset.create('KUBE-CLUSTER-IP', 'hash:ip,port', { family: 'inet', comment: true });
    const entries = Array.from({ length: 500 }, (_, i) => `10.96.${i >> 8}.${i & 255},tcp:80`);
    await h.ipset.add('KUBE-CLUSTER-IP', entries);                          // ipset add, 500 times, in a few messages
    console.log('10.96.0.7,tcp:80 in the set:', await h.ipset.test('KUBE-CLUSTER-IP', '10.96.0.7,tcp:80'));
    console.log('10.96.0.7,udp:53 in the set:', await h.ipset.test('KUBE-CLUSTER-IP', '10.96.0.7,udp:53'));
    try {
      await h.ipset.add('KUBE-CLUSTER-IP', ['10.96.9.1,tcp:80', '10.96.0.7,tcp:80', '10.96.9.2,tcp:80']);
    } catch (e) {
      if (!(e instanceof IpsetEntryError)) throw e;
      console.log(`refused entry #${e.entryIndex} (${e.entryText}): ${e.code}; ${e.applied} applied before it`);
    }
    const set = await h.ipset.list('KUBE-CLUSTER-IP');
    console.log(`${set.name} ${set.type}: ${set.elements} entries, ${set.memsize} bytes; first: ${formatIpsetEntry(set.type, set.entries![0]!)}`);
    console.log((await h.ipset.save(['KUBE-CLUSTER-IP'])).split('\n').slice(0, 3).join('\n'), '\n...');
  } finally {
    h.close();
    execFileSync('ip', ['netns', 'delete', ns]);
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
