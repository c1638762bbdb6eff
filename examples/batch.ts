/**
 * A thousand services with ten destinations each, created in one batch, in a namespace of its own
 * (made here with `ip netns add` and deleted at the end). Run as root:
 *
 *   npx tsx examples/batch.ts [SERVICES] [DESTINATIONS]
 *
 * Prints how long the commit took and what the results say. Compare `ipvsadm -R` with the same
 * rules (ipvs save prints them) to see why batching matters.
 */
import { execFileSync } from 'node:child_process';
import { openHandle } from '../src/index';

async function main(): Promise<void> {
  const services = Number(process.argv[2] ?? 1000);
  const dests = Number(process.argv[3] ?? 10);
  const ns = `batch-example-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']); // IPVS refuses destinations while lo is down
  const h = openHandle({ netns: `/run/netns/${ns}` });
  try {
    const b = h.batch();
    for (let i = 0; i < services; i++) {
      const svc = { protocol: 'tcp', address: `10.96.${i >> 8}.${i & 255}`, port: 80 } as const;
      b.ipvs.addService({ ...svc, scheduler: 'rr' });
      for (let j = 0; j < dests; j++) b.ipvs.addDestination(svc, { address: `10.244.${j}.${(i % 250) + 1}`, port: 8080, forwarding: 'masq' });
    }
    const t0 = process.hrtime.bigint();
    const r = await b.commit({ onError: 'stop' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`${b.length} changes in ${ms.toFixed(1)} ms: ${r.applied} applied, ${r.failed} refused, ${r.skipped} skipped, ${r.unknown} unknown`);
    if (r.firstError) console.log(`first refusal: ${r.firstError.message}`);
    const all = await h.ipvs.listAll();
    console.log(`read back: ${all.length} services, ${all.reduce((n, s) => n + s.destinations.length, 0)} destinations`);
  } finally {
    h.close();
    execFileSync('ip', ['netns', 'delete', ns]);
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
