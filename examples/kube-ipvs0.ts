/**
 * The kube-ipvs0 pattern (docs/guides/kube-ipvs0.md): a dummy link holding virtual IPs, kept
 * exactly at a wanted list, and repaired when an address is removed behind our back. Run as root;
 * it works in a namespace of its own and removes it at the end:
 *
 *   npx tsx examples/kube-ipvs0.ts
 */
import { execFileSync } from 'node:child_process';
import { openHandle, type Handle } from '../src/index';

/** Makes the link hold exactly `want` (plus the kernel's own link-local address, if it is up). */
async function keep(h: Handle, ifindex: number, want: Set<string>): Promise<string[]> {
  const done: string[] = [];
  const have = (await h.addresses.list(ifindex)).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`);
  for (const cidr of want) if (await h.addresses.ensure(ifindex, cidr, cidr.includes(':') ? { nodad: true } : {})) done.push(`+${cidr}`);
  for (const cidr of have) if (!want.has(cidr) && (await h.addresses.ensureGone(ifindex, cidr))) done.push(`-${cidr}`);
  return done;
}

async function main(): Promise<void> {
  const ns = `kube-ipvs0-example-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const h = openHandle({ netns: `/run/netns/${ns}` });
  const ac = new AbortController();
  try {
    const link = await h.links.ensureDummy('kube-ipvs0', { up: false }); // down, as kube-proxy keeps it
    const want = new Set(['10.96.0.10/32', '10.96.0.11/32', 'fd00:10:96::10/128']);
    console.log(`kube-ipvs0 (index ${link.ifindex}, ${link.operstate}):`, (await keep(h, link.ifindex, want)).join(' '));

    // Repair on notice: the events stream is subscribed before anything below can happen.
    const events = h.addresses.events({ signal: ac.signal });
    execFileSync('ip', ['-n', ns, 'addr', 'del', '10.96.0.11/32', 'dev', 'kube-ipvs0']); // someone else
    for await (const ev of events) {
      if (ev.type === 'removed' && ev.address.ifindex === link.ifindex) {
        console.log(`removed behind our back: ${ev.address.local}/${ev.address.prefixlen}; repaired:`, (await keep(h, link.ifindex, want)).join(' '));
        break;
      }
    }
    console.log('now:', (await h.addresses.list(link.ifindex)).map((a) => `${a.local}/${a.prefixlen}`).join(' '));
  } finally {
    ac.abort();
    h.close();
    execFileSync('ip', ['netns', 'delete', ns]);
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
