/**
 * What the restore verbs print besides their work: refusals capped at a screenful with a summary
 * line ("and 21,950 more"), and progress on standard error when it is a terminal.
 */
import type { CliIo } from './types';

/** Refusals printed one per line before the rest are counted. */
export const REFUSALS_SHOWN = 20;

/** `21950` as `21,950`. */
export function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Prints at most {@link REFUSALS_SHOWN} of the lines given, then one line counting the rest. */
export class Refusals {
  count = 0;
  constructor(private readonly io: CliIo, private readonly prefix: string) {}

  add(text: string): void {
    if (++this.count <= REFUSALS_SHOWN) this.io.err(`${this.prefix}: ${text}\n`);
  }

  /** The summary line for those not printed, if any. */
  end(): void {
    if (this.count > REFUSALS_SHOWN) this.io.err(`${this.prefix}: and ${grouped(this.count - REFUSALS_SHOWN)} more\n`);
  }
}

/** A progress callback for a commit that writes `\r`-refreshed counts to a terminal, or nothing. */
export function progressLine(io: CliIo, quiet: boolean, what: string): { onProgress?: (p: { done: number; total: number; failed: number }) => void; end(): void } {
  if (quiet || io.errIsTTY !== true) return { end: () => undefined };
  let shown = false;
  return {
    onProgress: (p) => {
      shown = true;
      io.err(`\r${what}: ${grouped(p.done)} of ${grouped(p.total)} changes${p.failed ? `, ${grouped(p.failed)} refused` : ''}\x1b[K`);
    },
    end: () => {
      if (shown) io.err('\r\x1b[K');
    },
  };
}

/** Takes `-q` / `--quiet` out of the arguments. */
export function takeQuiet(args: readonly string[]): { rest: string[]; quiet: boolean } {
  const rest = args.filter((a) => a !== '-q' && a !== '--quiet');
  return { rest, quiet: rest.length !== args.length };
}
