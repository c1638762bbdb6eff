/** The CLI's standard streams, for the command entry points (main.ts, ipvsadm.ts). */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { CliIo } from './types';

/**
 * A whole file's text (a path, or 0 for standard input). Read as bytes, then decoded: Node's
 * `readFileSync(f, 'utf8')` took 72 ms for a 1.9 MB restore file in the VM where this takes 34 ms
 * (more fresh pages; the same on a pipe, where both read it chunk by chunk).
 */
export function readText(file: string | number): string {
  return readFileSync(file).toString('utf8');
}

/**
 * V8 flags for one short run, set by the command entry points only (the library never changes
 * its host's V8 flags):
 * - the young generation stays at its initial size (no growth after a busy scavenge): a larger
 *   one only means more fresh pages touched, and in the project's VM each costs a fault (~23 us).
 *   Measured there (5000 x 10): ipvs restore ~2100 -> ~2000 ms, set restore ~1840 -> ~1710 ms,
 *   save -n ~2260 -> ~2140 ms;
 * - a hot loop's optimised code is compiled at once rather than by a background thread while the
 *   loop goes on interpreted (`--no-concurrent-osr`): a command's loops run once, over a whole
 *   file, and on the VM's single CPU the background compile waited behind them. Measured there:
 *   set restore of 50,000 entries ~915 -> ~825 ms; a 50,000-line scanning loop 74-105 -> 42 ms
 *   (on the host 8-13 -> 5 ms);
 * - and at a loop's first iterations (`--always-osr`, one of V8's own test variants) rather than
 *   after a budget of them: set restore ~843 -> ~748 ms there, restore, list, save and help the
 *   same within noise.
 */
export function shortRunFlags(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--no-concurrent-osr');
  setFlagsFromString('--always-osr');
}

/** Set once standard output is found closed (EPIPE): nothing more is written, and the command ends quietly. */
export const stdoutState = { closed: false };

/** The CLI's own writer to standard output, to tell a terminal from a test's capture. */
export function stdoutWrite(t: string | Uint8Array): void {
  if (!stdoutState.closed) process.stdout.write(t);
}

/**
 * Exit status when standard output was closed under us (`ipvs list | head`): ipvsadm and ipset
 * die of SIGPIPE there, which a shell reports as 128 + 13. Node ignores SIGPIPE, so the nearest
 * is to end quietly with the status the shell would have shown for them.
 */
export const EXIT_EPIPE = 141;

/**
 * Standard output and error of this process, and its whole standard input on demand. A closed
 * standard output (EPIPE) ends the process quietly with {@link EXIT_EPIPE}, as ipvsadm ends.
 */
export function processIo(): CliIo {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stdoutState.closed = true;
    process.exit(EXIT_EPIPE);
  });
  return {
    out: stdoutWrite,
    err: (t) => process.stderr.write(t),
    errIsTTY: process.stderr.isTTY === true,
    readStdin: async () => {
      // fd 0 read whole, without building process.stdin (a stream, and the modules behind it:
      // ~80 ms of a restore in the VM); a non-blocking descriptor (EAGAIN) is read as a stream
      try {
        return readText(0);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
