#!/usr/bin/env node
/**
 * The `ipvsadm-compat` command: ipvsadm's command line and nothing else (see ipvsadm-compat.ts),
 * for scripts written for ipvsadm. `--netns NAME|PATH` before the arguments picks the namespace.
 */
import { parseGlobal } from './global-options';
import { processIo, shortRunFlags } from './process-io';
import { runIpvsadm } from './ipvsadm-compat';
import { UsageError } from './types';

/* c8 ignore start */
if (require.main === module) {
  shortRunFlags();
  const io = processIo();
  let run: Promise<number>;
  try {
    const { global, rest } = parseGlobal(process.argv.slice(2));
    run = runIpvsadm(rest, global, io, 'ipvsadm-compat');
  } catch (err) {
    io.err(`${err instanceof UsageError ? err.message : String(err)}\n`);
    run = Promise.resolve(2);
  }
  run.then((code) => { process.exitCode = code; }, (err: unknown) => {
    io.err(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 255;
  });
}
