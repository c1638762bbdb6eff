/**
 * `ipvs restore`: a rules file read whole (ipvs-rules.ts) and checked before anything is sent,
 * then carried out in order: services and real servers as batches (the batch's fast path writes
 * their messages), the other commands (-C, -Z, --set, daemons) through `ipvs.apply` between them.
 */
import { readText } from './process-io';
import { openHandle, type Batch, type Handle } from '../index';
import { UsageError, type CliIo, type GlobalOptions } from './types';
import { etcServices, withHostNames } from './names';
import { eachRule, type ParsedRule, type ServerSink } from './ipvs-rules';
import { Refusals, grouped, progressLine, takeQuiet } from './restore-report';

type Step = { batch: Batch; lines: number[] } | { apply: ParsedRule[] };

const BATCHED = new Set(['addService', 'editService', 'deleteService', 'addDestination', 'editDestination', 'deleteDestination']);

/**
 * The steps of a rules file, built as its lines are read: each run of service and real-server
 * lines queued into a batch at once (which checks it; the batch keeps the values, so no object
 * is kept per line, only its number), each run of other lines kept for `ipvs.apply`. Lines that
 * do not parse, or that the batch refuses, are collected; nothing is sent while building.
 */
class Plan {
  readonly steps: Step[] = [];
  readonly refused: string[] = [];
  changes = 0;
  private open: Step | undefined;

  constructor(private readonly h: Handle) {}

  add(r: ParsedRule): void {
    if (r.error !== undefined) {
      this.refused.push(`line ${r.line}: ${r.error}`);
      return;
    }
    const c = r.change;
    if (c === null) return;
    this.changes++;
    if (!BATCHED.has(c.kind)) {
      if (this.open === undefined || !('apply' in this.open)) this.steps.push(this.open = { apply: [] });
      this.open.apply.push(r);
      return;
    }
    const step = this.batchStep();
    try {
      step.batch.ipvs.change(c);
      step.lines.push(r.line);
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
      this.refused.push(`line ${r.line}: ${err.message}`);
    }
  }

  /** A real server line read as numbers (see eachRule). */
  readonly server: ServerSink = (line, service, address, port, forwarding, weight) => {
    this.changes++;
    const step = this.batchStep();
    try {
      step.batch.ipvs.addIPv4Destination(service, address, port, forwarding, weight);
      step.lines.push(line);
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
      this.refused.push(`line ${line}: ${err.message}`);
    }
  };

  /** The batch step lines are queued into: the open one, or a new one after other lines. */
  private batchStep(): { batch: Batch; lines: number[] } {
    if (this.open === undefined || !('batch' in this.open)) this.steps.push(this.open = { batch: this.h.batch(), lines: [] });
    return this.open;
  }
}

/** `ipvs restore [-f FILE | FILE | -] [--stop-on-error] [-q]`. */
export async function runRestore(args: string[], global: GlobalOptions, io: CliIo): Promise<number> {
  const { rest: unquiet, quiet } = takeQuiet(args);
  const stop = unquiet.includes('--stop-on-error');
  const files: string[] = [];
  for (let i = 0; i < unquiet.length; i++) {
    const a = unquiet[i]!;
    if (a === '--stop-on-error') continue;
    if (a === '-f' || a === '--file') {
      const f = unquiet[++i];
      if (f === undefined) throw new UsageError('restore: -f needs a file name');
      files.push(f);
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`restore: unknown option ${a.slice(0, 60)}`);
    else files.push(a);
  }
  if (files.length > 1) throw new UsageError(`restore: unexpected argument ${files[1]!.slice(0, 60)}`);
  const file = files[0];
  const text = file === undefined || file === '-' ? await io.readStdin() : readText(file);
  const refusals = new Refusals(io, 'ipvs restore');
  const h = openHandle(global.netns === undefined ? {} : { netns: global.netns });
  try {
    // host names (ipvsadm -S without -n writes them) resolved all at once, to IPv4 as ipvsadm -R
    // does; a second parse (with the names) builds its plan afresh
    const plan = await withHostNames((hosts) => {
      const p = new Plan(h);
      eachRule(text, (r) => p.add(r), etcServices(), hosts, p.server);
      return p;
    });
    for (const why of plan.refused) refusals.add(why);
    if (refusals.count) {
      refusals.end();
      io.err(`ipvs restore: ${grouped(refusals.count)} line${refusals.count === 1 ? '' : 's'} not understood; nothing was applied\n`);
      return 1;
    }
    const { steps } = plan;
    let failed = 0;
    let skipped = 0;
    const progress = progressLine(io, quiet, 'ipvs restore');
    for (const s of steps) {
      if (stop && failed) {
        skipped += 'apply' in s ? s.apply.length : s.lines.length;
        continue;
      }
      if ('apply' in s) {
        const results = await h.ipvs.apply(s.apply.map((r) => r.change!), { stopOnError: stop });
        results.forEach((r, i) => {
          if (r.status === 'ok') return;
          failed++;
          refusals.add(`line ${s.apply[i]!.line}: ${r.status === 'unknown' ? `not known to be applied: ${r.error.message}` : r.error.message}`);
        });
        continue;
      }
      const r = await s.batch.commit({
        onError: stop ? 'stop' : 'continue',
        ...(stop && { maxChunkMessages: 1 }),
        ...(progress.onProgress && { onProgress: progress.onProgress }),
      });
      if (r.ok) continue;
      // the results are built only when something failed
      for (const c of r.results) {
        if (c.status === 'ok') continue;
        if (c.status === 'skipped') { skipped++; continue; }
        failed++;
        // the batch's index means nothing to the reader of the file: the line number says it
        const why = (c.error?.message ?? 'refused').replace(/ \(operation #\d+\)/, '');
        refusals.add(`line ${s.lines[c.index]!}: ${c.status === 'unknown' ? `not known to be applied: ${why}` : why}`);
      }
    }
    progress.end();
    refusals.end();
    if (failed || skipped) {
      io.err(`ipvs restore: ${grouped(failed)} of ${grouped(plan.changes)} change${plan.changes === 1 ? '' : 's'} failed${skipped ? `, ${grouped(skipped)} not sent after the first failure` : ''}\n`);
    }
    return failed || skipped ? 1 : 0;
  } finally {
    h.close();
  }
}
