/** The CLI's standard streams, for the command entry points (main.ts, ipvsadm.ts). */
import type { CliIo } from './types';
import { stdoutWrite } from './ipvs-commands';

/** Standard output and error of this process, and its whole standard input on demand. */
export function processIo(): CliIo {
  return {
    out: stdoutWrite,
    err: (t) => process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
