/** Where a CLI command reads and writes; tests pass their own. */
export interface CliIo {
  out(text: string | Uint8Array): void;
  err(text: string): void;
  /** Standard error is a terminal (progress is shown there only then). */
  errIsTTY?: boolean;
  /** The whole of standard input (for restore). */
  readStdin(): Promise<string>;
}

/** Options every command accepts. */
export interface GlobalOptions {
  /** Network namespace path (`--netns NAME` becomes `/run/netns/NAME`). */
  netns?: string;
}

/** Usage of a verb: `ipvs VERB --help` prints it. */
export interface HelpText {
  /** One line for `ipvs help`. */
  summary: string;
  /** The usage lines, options named as ipvsadm / ipset / ip name them. */
  usage: string;
}

/** A top-level verb: `ipvs list`, `ipvs set ...`. Returns the exit status. */
export interface Command {
  /** One line for `ipvs help`. */
  summary: string;
  run(args: string[], global: GlobalOptions, io: CliIo): Promise<number>;
}

/** A usage mistake: printed with the command's usage, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
