// Smoke test of the kernel-test environment itself (scripts/vm/run.mjs + init.sh, or a root host):
// if this file fails, every other kernel test's failure means nothing. It uses only the command-line
// tools, never the addon, so it can pass before the library builds.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { execRoot, netnsForTest, runRoot, useNetns } from './helpers/netns';

const SERVICE = '10.0.0.1:80';

/** Lines of `ipvsadm -Ln` after its three header lines. */
function ipvsEntries(listing: string): string[] {
  const lines = listing.split('\n').filter((l) => l.trim() !== '');
  expect(lines[0]).toMatch(/^IP Virtual Server version \d+\.\d+\.\d+/);
  expect(lines[1]).toMatch(/^Prot LocalAddress:Port Scheduler Flags/);
  expect(lines[2]).toMatch(/^\s+-> RemoteAddress:Port/);
  return lines.slice(3);
}

describe('kernel test environment', () => {
  it('runs as root, says where, and has IPVS loaded', () => {
    expect(process.getuid?.()).toBe(0);
    expect(process.env.IPVS_TEST_WHERE).toMatch(/^(host|vm:\d+\.\d+)/);
    expect(existsSync('/proc/net/ip_vs')).toBe(true);
    expect(readFileSync('/proc/net/ip_vs', 'utf8')).toMatch(/^IP Virtual Server version/);
  });

  it('can open the IPVS generic netlink family (ipvsadm talks to it)', async () => {
    const r = await runRoot('ipvsadm', ['-Ln']);
    ipvsEntries(r.stdout);
  });

  describe('a fresh network namespace', () => {
    const netns = useNetns();

    it('exists under /run/netns with lo up', async () => {
      const ns = netns();
      expect(ns.path).toBe(`/run/netns/${ns.name}`);
      expect(existsSync(ns.path)).toBe(true);
      const lo = await ns.run('ip', ['-o', 'link', 'show', 'lo']);
      expect(lo.stdout).toMatch(/<[^>]*\bUP\b[^>]*>/);
      // Nothing leaked in from the root namespace: lo, plus the fallback tunnel devices that
      // tunnel modules (if loaded) put in every namespace.
      const links = (await ns.run('ip', ['-o', 'link', 'show'])).stdout.trim().split('\n');
      const names = links.map((l) => l.split(': ')[1]?.split('@')[0]);
      expect(names).toContain('lo');
      for (const name of names) expect(name).toMatch(/^(lo|tunl0|sit0|ip6tnl0|gre0|gretap0|erspan0|ip_vti0|ip6_vti0|ip6gre0)$/);
    });

    it('has its own, empty IPVS table', async () => {
      const r = await netns().run('ipvsadm', ['-Ln']);
      expect(ipvsEntries(r.stdout)).toEqual([]);
    });

    it('keeps a service it adds to itself', async () => {
      const ns = netns();
      await ns.run('ipvsadm', ['-A', '-t', SERVICE, '-s', 'rr']);
      await ns.run('ipvsadm', ['-a', '-t', SERVICE, '-r', '127.0.0.1:8080', '-m']);
      const inside = ipvsEntries((await ns.run('ipvsadm', ['-Ln'])).stdout);
      expect(inside[0]).toMatch(/^TCP\s+10\.0\.0\.1:80\s+rr\b/);
      expect(inside[1]).toMatch(/^\s+->\s+127\.0\.0\.1:8080\s+Masq\s+1\b/);
      const root = ipvsEntries((await runRoot('ipvsadm', ['-Ln'])).stdout);
      expect(root.join('\n')).not.toContain(SERVICE);
      // Adding it again is refused: the table really holds it.
      const again = await ns.exec('ipvsadm', ['-A', '-t', SERVICE, '-s', 'rr']);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/exists/i);
    });

    it('takes every scheduler the kernel has', async () => {
      // Every scheduler Debian's 6.1 UML build has (it leaves CONFIG_IP_VS_TWOS off).
      const ns = netns();
      const schedulers = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];
      for (const [i, sched] of schedulers.entries()) {
        await ns.run('ipvsadm', ['-A', '-u', `10.1.0.${i + 1}:53`, '-s', sched]);
      }
      const entries = ipvsEntries((await ns.run('ipvsadm', ['-Ln'])).stdout);
      for (const [i, sched] of schedulers.entries()) {
        expect(entries).toContainEqual(expect.stringMatching(new RegExp(`^UDP\\s+10\\.1\\.0\\.${i + 1}:53\\s+${sched}\\b`)));
      }
    });

    it('can hold a dummy link with an address', async () => {
      const ns = netns();
      await ns.run('ip', ['link', 'add', 'd0', 'type', 'dummy']);
      await ns.run('ip', ['addr', 'add', '10.96.0.1/32', 'dev', 'd0']);
      const addrs = JSON.parse((await ns.run('ip', ['-j', 'addr', 'show', 'dev', 'd0'])).stdout) as Array<{
        addr_info: Array<{ local: string; prefixlen: number }>;
      }>;
      expect(addrs[0]?.addr_info).toContainEqual(expect.objectContaining({ local: '10.96.0.1', prefixlen: 32 }));
      const root = await execRoot('ip', ['link', 'show', 'd0']);
      expect(root.code).not.toBe(0); // not in the root namespace
    });

    it('has working ipsets of its own', async () => {
      const ns = netns();
      await ns.run('ipset', ['create', 'KUBE-CLUSTER-IP', 'hash:ip,port']);
      await ns.run('ipset', ['add', 'KUBE-CLUSTER-IP', '10.96.0.1,tcp:443']);
      const list = (await ns.run('ipset', ['list', 'KUBE-CLUSTER-IP'])).stdout;
      expect(list).toMatch(/^Type: hash:ip,port$/m);
      expect(list).toMatch(/^10\.96\.0\.1,tcp:443$/m);
      const root = await execRoot('ipset', ['list', '-n']);
      expect(root.stdout.split('\n')).not.toContain('KUBE-CLUSTER-IP');
    });
  });

  it('deletes a per-test namespace when the test finishes', async () => {
    const ns = await netnsForTest();
    expect(existsSync(ns.path)).toBe(true);
    await ns.cleanup();
    expect(existsSync(ns.path)).toBe(false);
    const names = (await runRoot('ip', ['netns', 'list'])).stdout;
    expect(names.split('\n').map((l) => l.split(' ')[0])).not.toContain(ns.name);
  });
});
