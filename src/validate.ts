/**
 * Checks shared by every public API that takes an options object: unknown keys (a misspelled
 * `shceduler` would otherwise be ignored and the default used), keys that contradict each other,
 * and how an input is quoted in an error message (at most {@link QUOTE_MAX} characters of it).
 *
 * The key check is a `for...in` over the object against a Set: no array is made, so it is cheap
 * enough for the batch fast paths (one per queued change).
 *
 * @module
 * @internal
 */

/** The option names an API takes, and those it knows as output only (what the kernel reports). */
export interface KeySet {
  /** Names accepted. */
  readonly names: ReadonlySet<string>;
  /** Names of fields the library reports but does not take here (a listed object's `stats`). */
  readonly outputOnly: ReadonlySet<string>;
  /** What the object is, in messages: `option`, `service key field`. */
  readonly what: string;
  /** Whether a name is accepted: `names.has`, or a faster test of the same names for a hot path. */
  readonly has: (k: string) => boolean;
}

/** A key set: `names` accepted; `outputOnly` refused with a word saying why. */
export function keySet(names: readonly string[], what = 'option', outputOnly: readonly string[] = [], has?: (k: string) => boolean): KeySet {
  const set = new Set(names);
  return { names: set, outputOnly: new Set(outputOnly), what, has: has ?? ((k) => set.has(k)) };
}

/** A key set with more names (and the same output-only ones unless given). */
export function extendKeys(base: KeySet, more: readonly string[], outputOnly?: readonly string[]): KeySet {
  return keySet([...base.names, ...more], base.what, outputOnly ?? [...base.outputOnly].filter((k) => !more.includes(k)));
}

/** Most characters of an input an error message quotes. */
export const QUOTE_MAX = 100;

/**
 * An input as an error message shows it: strings in quotes, other values as their text, cut to
 * {@link QUOTE_MAX} characters with an ellipsis.
 */
export function quote(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'bigint') s = `${v}n`;
  else if (Array.isArray(v)) s = `[${v.slice(0, 20).map((x) => (typeof x === 'string' ? `'${x.slice(0, QUOTE_MAX)}'` : safeString(x))).join(', ')}${v.length > 20 ? ', ...' : ''}]`;
  else s = safeString(v);
  if (s.length > QUOTE_MAX) s = `${s.slice(0, QUOTE_MAX - 1)}…`;
  return typeof v === 'string' ? `'${s}'` : s;
}

function safeString(v: unknown): string {
  if (v === null || typeof v !== 'object') return typeof v === 'symbol' ? v.toString() : String(v);
  try {
    return Object.getPrototypeOf(v) === Object.prototype ? JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? 'object' : Object.prototype.toString.call(v);
  } catch {
    return 'object';
  }
}

/**
 * Throws TypeError unless `o` is a plain options object (not null, an array or a primitive).
 * `undefined` is fine when `optional`.
 */
export function checkObject(o: unknown, op: string, what: string): asserts o is object {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    throw new TypeError(`${op}: ${what} must be an object, got ${quote(o)}`);
  }
}

/**
 * True when every enumerable key of `o` (own or inherited: both are what `o.key` reads) is in
 * `keys`. No allocation: for the hot paths, which then leave the error to {@link checkKeys}.
 */
export function keysWithin(o: object, keys: KeySet): boolean {
  const has = keys.has;
  for (const k in o) if (!has(k)) return false;
  return true;
}

/** Throws TypeError naming the first key of `o` not in `keys` (with the close name, when there is one). */
export function checkKeys(o: object, keys: KeySet, op: string): void {
  const names = keys.names;
  for (const k in o) {
    if (!names.has(k)) throw unknownKey(k, keys, op);
  }
}

/** Whether `o` has only keys of `keys` (the check of {@link checkKeys} without building a message). */
export function hasOnlyKeys(o: object, keys: KeySet): boolean {
  const names = keys.names;
  for (const k in o) {
    if (!names.has(k)) return false;
  }
  return true;
}

/** {@link checkObject} then {@link checkKeys}; `undefined` passes (an omitted options argument). */
export function checkOptions(o: unknown, keys: KeySet, op: string, what = 'options'): void {
  if (o === undefined) return;
  checkObject(o, op, what);
  checkKeys(o, keys, op);
}

function unknownKey(k: string, keys: KeySet, op: string): TypeError {
  if (keys.outputOnly.has(k)) {
    return new TypeError(`${op}: '${k}' is reported by the kernel, not an ${keys.what} to give (leave it out)`);
  }
  const near = closest(k, keys.names);
  const hint = near === undefined ? ` (known: ${[...keys.names].join(', ')})` : `: did you mean ${near}?`;
  return new TypeError(`${op}: unknown ${keys.what} ${quote(k)}${hint}`);
}

/** Throws TypeError when more than one of `names` is set (not undefined) on `o`. */
export function checkExclusive(o: Record<string, unknown>, names: readonly string[], op: string, why = ''): void {
  let first: string | undefined;
  for (const n of names) {
    if (o[n] === undefined) continue;
    if (first !== undefined) throw new TypeError(`${op}: give ${first} or ${n}, not both${why ? ` (${why})` : ''}`);
    first = n;
  }
}

/** Throws TypeError when `name` is set on `o` without `needs`. */
export function checkNeeds(o: Record<string, unknown>, name: string, needs: string, op: string): void {
  if (o[name] !== undefined && o[needs] === undefined) throw new TypeError(`${op}: ${name} needs ${needs}`);
}

/**
 * The name in `names` closest to `k` when it is close enough to be a slip (a transposition, a
 * letter too many, too few or wrong; a different case), else undefined.
 */
export function closest(k: string, names: Iterable<string>): string | undefined {
  if (k.length > 64) return undefined;
  const lower = k.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    if (n.toLowerCase() === lower) return n;
    const d = distance(lower, n.toLowerCase());
    const limit = n.length <= 4 ? 1 : n.length <= 8 ? 2 : 3;
    if (d <= limit && d < bestD) {
      best = n;
      bestD = d;
    }
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein with adjacent transpositions). */
function distance(a: string, b: string): number {
  const m = a.length, n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}
