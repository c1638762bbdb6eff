import { rng32 } from '../fuzz/engine.mjs';

/** A small deterministic generator (mulberry32, in [0, 1)): generated test cases are the same on every run. */
export function mulberry32(seed: number): () => number {
  const next = rng32(seed);
  return () => next() / 4294967296;
}
