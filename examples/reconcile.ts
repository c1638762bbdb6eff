/**
 * Desired state in, smallest change out (docs/guides/reconcile.md): a service with three
 * backends, then one backend fewer and a new scheduler, with a dry run to see the plan first.
 * Run as root; it works in a namespace of its own and removes it at the end:
 *
 *   npx tsx examples/reconcile.ts
 */
import { execFileSync } from 'node:child_process';
import { openHandle } from '../src/index';

const svc = { protocol: 'tcp', address: '10.96.0.10', port: 80 } as const;
const backends = (ips: string[]) => ips.map((address) => ({ address, port: 8080, forwarding: 'masq' as const }));
// What reconcile may delete when it is not listed: services in the cluster range, our set.
const scope = { services: { addresses: ['10.96.0.0/12'] }, sets: ['KUBE-CLUSTER-IP'] };

async function main(): Promise<void> {
  const ns = `reconcile-example-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  // Someone else's service, outside the scope: reconcile never touches it.
  execFileSync('ip', ['netns', 'exec', ns, 'ipvsadm', '-A', '-t', '192.168.1.1:443']);
  const h = openHandle({ netns: `/run/netns/${ns}` });
  try {
    const first = await h.reconcile({
      ipvs: [{ ...svc, scheduler: 'rr', destinations: backends(['10.244.1.5', '10.244.1.6', '10.244.1.7']) }],
      sets: [{ name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', options: { family: 'inet' }, entries: ['10.96.0.10,tcp:80'] }],
    }, { scope });
    console.log(`first: ${first.changes} changes:`, first.plan.ipvs.map((s) => s.kind).join(', '), '|', first.plan.sets.map((s) => s.kind).join(', '));

    const next = { ipvs: [{ ...svc, scheduler: 'wrr', destinations: backends(['10.244.1.5', '10.244.1.7']) }] };
    const plan = await h.reconcile(next, { scope, dryRun: true });
    for (const s of plan.plan.ipvs) console.log('  would', s.kind, 'fields' in s ? s.fields.join(',') : '', 'destination' in s ? s.destination.address : '');
    const applied = await h.reconcile(next, { scope, current: plan.read });
    console.log(`applied: ok ${applied.ok}, ${applied.changes} changes; again: ${(await h.reconcile(next, { scope })).changes} changes`);
    console.log(execFileSync('ip', ['netns', 'exec', ns, 'ipvsadm', '-Sn']).toString().trim());
  } finally {
    h.close();
    execFileSync('ip', ['netns', 'delete', ns]);
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
