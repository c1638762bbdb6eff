/**
 * `ipvs apply FILE`: make the data plane match a desired-state file through the library's
 * reconcile, printing the plan one step per line. With `--dry-run` nothing changes.
 *
 * The file is JSON: `{ "ipvs": [...], "sets": [...], "addresses": [...], "scope": {...} }`, the
 * {@link DesiredState} of `Handle.reconcile` plus its ownership scope (address ranges, fwmarks,
 * set names: the forms that are data). Unlisted objects are deleted only inside the scope.
 */
import { readFile } from 'node:fs/promises';
import { openHandle, type DesiredState, type ReconcileScope, type ReconcilePlan } from '../index';
import { UsageError, type Command } from './types';

type Key = { protocol?: string; address?: string; port?: number; fwmark?: number };

function svc(k: Key): string {
  if (k.fwmark !== undefined) return `fwmark ${k.fwmark}`;
  const host = k.address?.includes(':') ? `[${k.address}]` : k.address;
  return `${k.protocol} ${host}:${k.port}`;
}
function dst(d: { address: string; port: number }): string {
  return d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

/** The plan as lines a person reads: `+ service tcp 10.0.0.1:80`, `~ destination ... (weight)`. */
export function planLines(plan: ReconcilePlan): string[] {
  const out: string[] = [];
  for (const s of plan.addresses) {
    if (s.kind === 'addLink') out.push(`+ link ${s.link} (dummy)`);
    else if (s.kind === 'addAddress') out.push(`+ address ${s.cidr} dev ${s.link}`);
    else if (s.kind === 'deleteAddress') out.push(`- address ${s.cidr} dev ${s.link}`);
    else out.push(`! link ${s.link}: ${s.detail}`);
  }
  for (const s of plan.ipvs) {
    switch (s.kind) {
      case 'addService': out.push(`+ service ${svc(s.service as Key)}`); break;
      case 'editService': out.push(`~ service ${svc(s.service as Key)} (${s.fields.join(', ')})`); break;
      case 'deleteService': out.push(`- service ${svc(s.service as Key)} with ${s.destinations} destination(s)`); break;
      case 'addDestination': out.push(`+ destination ${dst(s.destination)} of ${svc(s.service as Key)}`); break;
      case 'editDestination': out.push(`~ destination ${dst(s.destination)} of ${svc(s.service as Key)} (${s.fields.join(', ')})`); break;
      case 'deleteDestination':
        out.push(`- destination ${dst(s.destination)} of ${svc(s.service as Key)}${s.drain ? ` (drain ${s.connections} connection(s))` : ''}`);
        break;
    }
  }
  for (const s of plan.sets) {
    if (s.kind === 'createSet') out.push(`+ set ${s.name} ${s.type}`);
    else if (s.kind === 'addEntries') out.push(`+ set ${s.name}: ${s.entries.length} entr${s.entries.length === 1 ? 'y' : 'ies'}`);
    else if (s.kind === 'delEntries') out.push(`- set ${s.name}: ${s.entries.length} entr${s.entries.length === 1 ? 'y' : 'ies'}`);
    else if (s.kind === 'destroySet') out.push(`- set ${s.name}`);
    else out.push(`! set ${s.name}: ${s.detail}`);
  }
  return out;
}

/** Reads and checks the file's top level; the library checks the rest before anything is sent. */
export function parseDesiredFile(text: string, file: string): { desired: DesiredState; scope: ReconcileScope | undefined } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`${file}: the top level must be an object`);
  const { scope, ...rest } = doc as Record<string, unknown>;
  for (const k of Object.keys(rest)) {
    if (!['ipvs', 'sets', 'addresses'].includes(k)) throw new UsageError(`${file}: unknown key '${k}' (ipvs, sets, addresses, scope)`);
    if (!Array.isArray(rest[k])) throw new UsageError(`${file}: '${k}' must be a list`);
  }
  if (scope !== undefined && (scope === null || typeof scope !== 'object' || Array.isArray(scope))) {
    throw new UsageError(`${file}: 'scope' must be an object`);
  }
  return { desired: rest as DesiredState, scope: scope as ReconcileScope | undefined };
}

export const applyCommands: Record<string, Command> = {
  apply: {
    summary: 'make the data plane match a desired-state JSON file (reconcile); --dry-run prints the plan only',
    async run(args, global, io) {
      const dryRun = args.includes('--dry-run');
      const files = args.filter((a) => a !== '--dry-run');
      if (files.length !== 1 || files[0]!.startsWith('-')) throw new UsageError('apply [--dry-run] FILE');
      const file = files[0]!;
      const { desired, scope } = parseDesiredFile(await readFile(file, 'utf8'), file);
      const h = openHandle(global.netns ? { netns: global.netns } : {});
      try {
        const r = await h.reconcile(desired, { dryRun, ...(scope && { scope }) });
        const lines = planLines(r.plan);
        if (lines.length) io.out(lines.join('\n') + '\n');
        const failures = r.commit?.results.filter((c) => c.status !== 'ok' && c.error) ?? [];
        for (const c of failures) io.err(`change #${c.index}: ${c.error!.message}\n`);
        io.out(`${dryRun ? 'would change' : r.ok ? 'changed' : 'failed after'} ${r.changes} step(s)\n`);
        return r.ok ? 0 : 1;
      } finally {
        h.close();
      }
    },
  },
};
