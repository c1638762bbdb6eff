/** The CLI's standard streams, for the command entry points (main.ts, ipvsadm.ts). */
import type { CliIo } from './types';

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
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
