// Types of test/fuzz/engine.mjs (plain JavaScript so that scripts/fuzz.mjs runs it without a compiler).

/** The library's modules the fuzzer drives, keyed as {@link MODULES} names them. */
export type FuzzLib = Record<keyof typeof MODULES, Record<string, unknown>>;

/** Module paths below src/ (or dist/), by key. */
export declare const MODULES: {
  header: string; errors: string; dump: string; protocol: string; message: string; attr: string; genl: string;
  schemaCtrl: string; schemaIpset: string; schemaIpvs: string; schemaAddr: string; schemaLink: string;
  ipvsDecode: string; ipvsOps: string; ipsetDecode: string; ipsetOps: string; linkOps: string; addrOps: string; addrDecode: string;
};

/** Counts of one target. */
export interface FuzzTargetCounts { inputs: number; decodeErrors: number; typed: number; untyped: number }

/** An untyped exception, with what replays it. */
export interface FuzzFinding { seed: number; index: number; target: string; error: string; stack: string; hex: string }

/** What a run came to. */
export interface FuzzResult {
  seed: number;
  inputs: number;
  decodeErrors: number;
  typed: number;
  untypedCount: number;
  untyped: FuzzFinding[];
  slow: { index: number; target: string; ms: number; bytes: number; hex: string }[];
  slowest: { ms: number; index?: number; target?: string; bytes?: number };
  perTarget: Record<string, FuzzTargetCounts>;
  corpusFiles: number;
  elapsedMs: number;
}

/** mulberry32: a deterministic generator of u32s from a seed. */
export declare function rng32(seed: number): () => number;

/** Runs the fuzzer. */
export declare function runFuzz(options: {
  lib: FuzzLib; corpusDir: string; seed: number; inputs: number; replay?: number; slowMs?: number;
  onProgress?: (done: number, res: FuzzResult) => void;
}): Promise<FuzzResult>;

/** The figures as text. */
export declare function formatReport(res: FuzzResult, slowMs?: number): string;

/** The golden captures. */
export declare function loadCorpus(dir: string): { file: string; kind: string; requests: Buffer[]; replies: Buffer[]; dump: Buffer }[];
