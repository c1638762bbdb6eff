/**
 * ipsets in a batch: the sub-builder (`batch.ipset.add(...)`), and the family's driver: protocol
 * negotiation and set types at bind, entries packed in the kernel's bulk form (many per message),
 * per-entry results from the refused line, undo.
 *
 * @module
 */
import type { HandleContext } from '../handle-context';
import { NETLINK_NETFILTER } from '../native';
import { messageSize, writeMessage, type OutMessage } from '../netlink/message';
import { refusal, runOne, runOperations, type Operation } from '../netlink/operation';
import type { MessageOutcome } from '../netlink/protocol';
import { IPSET_PROTOCOL } from '../uapi/ipset';
import * as ops from '../ipset/ops';
import { checkEntryFamily, entryAttrs, formatElement, toEntryObject, type IpsetEntry, type IpsetEntryInput } from '../ipset/entry';
import { IpsetEntryError } from '../ipset/errors';
import { createOptionsOf, type IpsetCreateOptions, type IpsetFamily, type IpsetSet } from '../ipset/set';
import { queueInto, type BoundFamily, type Change, type Compensation, type FamilyDriver, type PackedMessage, type PackedVerdict, type Queue, type UndoPlanner } from './change';
import { fastCode, fastTextCode, hasMore, packValues, storeValues, type FastArrays, type FastValues } from './ipset-fast';
import { checkOptions, keySet } from '../validate';

const EXIST_KEYS = keySet(['exist']);

type SetKind = 'create' | 'destroy' | 'flush';
type EntryKind = 'add' | 'del';

/** Options of {@link BatchIpset.create}. @category Batch */
export type IpsetBatchCreateOptions = IpsetCreateOptions & ops.IpsetExistOptions;

const OPS: Record<SetKind | EntryKind, string> = {
  create: 'ipset.create', destroy: 'ipset.destroy', flush: 'ipset.flush', add: 'ipset.add', del: 'ipset.del',
};

/** A queued set command: create, destroy or flush. */
export class IpsetChange implements Change {
  generic?: Operation<unknown>;

  constructor(
    readonly kind: SetKind,
    readonly set: string,
    readonly exist = false,
    readonly type?: string,
    readonly options?: IpsetBatchCreateOptions,
  ) {}

  get family(): 'ipset' {
    return 'ipset';
  }

  get op(): string {
    return OPS[this.kind];
  }

  get subject(): IpsetChange {
    return this;
  }
}

/**
 * The entries queued by one `add` or `del` call, as one change filling one slot per entry: entry
 * k is slot `first + k`. What they share, and (at commit) each entry parsed, with its fast shape
 * and values in typed arrays. A batch of 50,000 entries then holds one object in 50,000 slots
 * rather than 50,000 changes: in the VM, every fresh page and every young-generation copy counts.
 */
export class EntryRun implements Change {
  /**
   * Its first slot in the list it was queued into. An undo plan holds it elsewhere: {@link slotOf}
   * then finds its first slot there.
   */
  first = -1;
  /**
   * At commit: the entries (text parsed with the set's type); undefined for a text entry the fast
   * path read in place, which {@link entry} parses when it is asked for (a refusal, an undo).
   */
  entries: (IpsetEntry | undefined)[] = [];
  /** At commit: the set's type, when known (shapes entries and names type-specific errors). */
  setType: string | undefined = undefined;
  /** At commit, per entry: its fast shape code (0: not for the fast path, see fastCode), and its values. */
  shapes: Uint8Array = new Uint8Array(0);
  values: FastArrays = NO_VALUES;
  /** Its entries as read when queued (plain objects, or text by {@link BatchIpset.queueRead}), for the commit to take. */
  read: ReadEntries | undefined = undefined;

  /** Entry k's text for a run queued by {@link BatchIpset.queueRead} (`inputs` empty until needed). */
  textOf: ((k: number) => string) | undefined = undefined;

  constructor(
    readonly kind: EntryKind,
    readonly set: string,
    public inputs: readonly IpsetEntryInput[],
    readonly exist: boolean,
    private readonly count = inputs.length,
  ) {}

  get family(): 'ipset' {
    return 'ipset';
  }

  get op(): string {
    return OPS[this.kind];
  }

  get subject(): EntryRun {
    return this;
  }

  /** How many entries, and slots. */
  get size(): number {
    return this.count;
  }

  /** Entry `k` (after the commit bound the run). */
  entry(k: number): IpsetEntry {
    return this.entries[k] ?? (this.entries[k] = toEntryObject(this.inputs[k] ?? this.textOf!(k), this.setType, this.op));
  }
}

const NO_VALUES: FastArrays = { ips: new Int32Array(0), portProtos: new Int32Array(0), ip2s: new Int32Array(0), cidrs: new Uint16Array(0) };

/**
 * Which entry of `run` slot `i` of `changes` holds (`changes[i]` is `run`). A run fills consecutive
 * slots from `run.first`; in another list (an undo plan) its first slot is looked for once.
 */
function slotOf(run: EntryRun, changes: readonly Change[], i: number): number {
  let s = run.first;
  if (!(s >= 0 && s <= i && i - s < run.size && changes[s] === run && (s === 0 || changes[s - 1] !== run))) {
    for (s = i; s > 0 && changes[s - 1] === run;) s--;
    run.first = s;
  }
  return i - s;
}

/** The entries in slots `[a, b)` of `changes`, all entry runs (parsed at commit). */
function entriesIn(changes: readonly Change[], a: number, b: number): IpsetEntry[] {
  const out = new Array<IpsetEntry>(b - a);
  for (let x = a; x < b;) {
    const run = changes[x] as EntryRun;
    const k = slotOf(run, changes, x);
    const m = Math.min(b - x, run.size - k);
    for (let y = 0; y < m; y++) out[x - a + y] = run.entry(k + y);
    x += m;
  }
  return out;
}

/**
 * Every entry of a list read by the fast path, its shape code (none 0) and values, as a commit's
 * own reading would leave them: text entries read with {@link fastTextCode} for a set of `type`,
 * or (`type` undefined) plain objects, whose reading does not depend on the set's type.
 */
export interface ReadEntries {
  type: string | undefined;
  shapes: Uint8Array;
  values: FastArrays;
}

/** Any ipset change of a batch. */
type AnyIpsetChange = IpsetChange | EntryRun;

/**
 * ipset changes of a batch. Entries added or deleted one after another in the same set travel in
 * the kernel's bulk form (many entries per message), and each entry still gets its own result.
 * Methods check their input at once where they can (entries given as text are parsed at commit,
 * once the set's type is known, before anything is sent).
 * @category Batch
 */
export class BatchIpset {
  /** @internal */
  constructor(private readonly push: Queue) {}

  /**
   * Queues `ipset create NAME TYPE OPTIONS` (the revision is the newest the kernel has, asked at
   * commit, unless `options.revision`). Its undo destroys the set.
   */
  create(name: string, type: string, options: IpsetBatchCreateOptions = {}): number {
    ops.createOp(IPSET_PROTOCOL, name, type, options.revision ?? 0, options);
    return this.push(new IpsetChange('create', name, options.exist ?? false, type, options));
  }

  /** Queues `ipset destroy NAME`. Its undo re-creates the set with the options and entries read before the commit. */
  destroy(name: string): number {
    ops.destroyOp(IPSET_PROTOCOL, name);
    return this.push(new IpsetChange('destroy', name));
  }

  /** Queues `ipset flush NAME`. Its undo re-adds the entries read before the commit. */
  flush(name: string): number {
    ops.flushOp(IPSET_PROTOCOL, name);
    return this.push(new IpsetChange('flush', name));
  }

  /**
   * Queues `ipset add NAME ENTRY` for each entry (objects, or text in the set's syntax), one change
   * per entry: returns the index of the first (-1 for none); entry k is change `first + k`. With `exist`, an
   * entry already present is not an error. Undo deletes what was added.
   */
  add(name: string, entries: IpsetEntryInput | readonly IpsetEntryInput[], options: ops.IpsetExistOptions = {}): number {
    return this.entries('add', name, entries, options);
  }

  /**
   * Queues `ipset del NAME ENTRY` for each entry, as {@link add} does. With `exist`, an entry
   * already gone is not an error. Undo re-adds what was deleted, with the timeout, counters and
   * comment read before the commit.
   */
  del(name: string, entries: IpsetEntryInput | readonly IpsetEntryInput[], options: ops.IpsetExistOptions = {}): number {
    return this.entries('del', name, entries, options);
  }

  /**
   * {@link add} or {@link del} of text entries the caller has read for a set of `read.type`
   * already, every one of them fast: `ipvs set restore` reads the whole file before its first
   * batch is sent, and the commit then reads the entries again only when it finds the set of
   * another type. @internal
   */
  queueRead(kind: EntryKind, name: string, count: number, textOf: (k: number) => string, read: ReadEntries, options: ops.IpsetExistOptions = {}): number {
    if (count === 0 || read.shapes.length !== count || read.shapes.includes(0)) {
      return this.entries(kind, name, Array.from({ length: count }, (_, k) => textOf(k)), options);
    }
    checkName(kind, name, options);
    const run = new EntryRun(kind, name, [], options.exist ?? false, count);
    run.textOf = textOf;
    run.read = read;
    run.first = this.push(run, count);
    return run.first;
  }

  private entries(kind: EntryKind, name: string, input: IpsetEntryInput | readonly IpsetEntryInput[], options: ops.IpsetExistOptions): number {
    return this.run(kind, name, input, options)?.first ?? -1;
  }

  private run(kind: EntryKind, name: string, input: IpsetEntryInput | readonly IpsetEntryInput[], options: ops.IpsetExistOptions): EntryRun | undefined {
    const op = OPS[kind];
    checkName(kind, name, options);
    // A copy: what was queued is what is sent, whatever the caller does with its array later.
    const list = Array.isArray(input) ? (input as readonly IpsetEntryInput[]).slice() : [input as IpsetEntryInput];
    const n = list.length;
    // Plain IPv4 objects are read here, once: the commit takes what this reading kept, while every
    // entry of the list has been (text waits for the set's type, so a list of text keeps nothing)
    let read: ReadEntries | undefined = n > 1 && typeof list[0] !== 'string'
      ? { type: undefined, shapes: new Uint8Array(n), values: { ips: new Int32Array(n), portProtos: new Int32Array(n), ip2s: NO_VALUES.ip2s, cidrs: NO_VALUES.cidrs } }
      : undefined;
    const v: FastValues = { ip: 0, portProto: 0, ip2: 0, cidrs: 0 };
    for (let i = 0; i < n; i++) {
      const e = list[i]!;
      if (typeof e === 'string') {
        read = undefined;
        continue;
      }
      const code = fastCode(e, v);
      if (code) {
        if (read) storeValues(read.shapes, read.values, i, code, v, n);
        continue;
      }
      read = undefined;
      try {
        entryAttrs(e, op);
      } catch (err) {
        if (err instanceof Error && list.length > 1) err.message = `${err.message} (entry #${i})`;
        throw err;
      }
    }
    if (n === 0) return undefined;
    const run = new EntryRun(kind, name, list, options.exist ?? false);
    run.read = read;
    run.first = this.push(run, n);
    return run;
  }
}

/** The options and the set name of an add or del (TypeError for bad ones). */
function checkName(kind: EntryKind, name: string, options: ops.IpsetExistOptions): void {
  checkOptions(options, EXIST_KEYS, OPS[kind]);
  if (kind === 'add') ops.destroyOp(IPSET_PROTOCOL, name); // checks the name
  else ops.flushOp(IPSET_PROTOCOL, name);
}

/** A packed message: the bulk operation that wrote it. */
interface IpsetPacked extends PackedMessage {
  operation: Operation<unknown>;
}

/** Verdicts shared by every entry they apply to (the engine only reads them). */
const OK: PackedVerdict = Object.freeze({ status: 'ok' });
const SKIPPED: PackedVerdict = Object.freeze({ status: 'skipped' });

/** Entries per packing pass (each pass yields messages of up to 64 KiB). */
const PACK_RUN = 16384;

interface SetInfo {
  type: string;
  family?: IpsetFamily;
}

/**
 * Parses a run's entries with its set's type and checks them (TypeError before anything is sent),
 * keeping each fast entry's shape and values for the packer: each entry is read once here.
 */
function bindRun(run: EntryRun, t: SetInfo | undefined): void {
  const read = run.read;
  if (read !== undefined && t?.family !== 'inet6' && (read.type === undefined || read.type === t?.type)) {
    // objects are their own entries; text is parsed when an entry is asked for
    run.entries = read.type === undefined ? run.inputs as IpsetEntry[] : [];
    run.shapes = read.shapes;
    run.values = read.values;
    run.setType = t?.type;
    return;
  }
  // read for another type: the texts are read again, as any
  if (run.textOf !== undefined && run.inputs.length < run.size) run.inputs = Array.from({ length: run.size }, (_, k) => run.textOf!(k));
  const n = run.inputs.length;
  const op = OPS[run.kind];
  // The inputs themselves when they are all objects (no second array of 50,000); a copy once text is met.
  let entries: (IpsetEntry | undefined)[] | undefined;
  const shapes = new Uint8Array(n);
  const values: FastArrays = { ips: new Int32Array(n), portProtos: new Int32Array(n), ip2s: NO_VALUES.ip2s, cidrs: NO_VALUES.cidrs };
  const v: FastValues = { ip: 0, portProto: 0, ip2: 0, cidrs: 0 };
  const six = t?.family === 'inet6';
  const type = t?.type, family = t?.family;
  for (let k = 0; k < n; k++) {
    const input = run.inputs[k]!;
    let code: number;
    if (typeof input === 'string') {
      entries ??= run.inputs.slice(0, k) as IpsetEntry[];
      // text of the common IPv4 shapes: its values read in place, the object only if asked for
      code = six ? 0 : fastTextCode(type, input, v);
      if (code) entries.push(undefined);
      else {
        const e = toEntryObject(input, type, op);
        entries.push(e);
        code = fastCode(e, v);
        if (!code || six) checkEntryFamily(e, family, op);
      }
    } else {
      if (entries) entries.push(input);
      code = fastCode(input, v);
      if (!code || six) checkEntryFamily(input, family, op);
    }
    if (code) storeValues(shapes, values, k, code, v, n);
  }
  run.entries = entries ?? (run.inputs as IpsetEntry[]);
  run.shapes = shapes;
  run.values = values;
  run.setType = t?.type;
}

/**
 * The family's changes as set commands and runs of entries, each once: a run's slots follow one
 * another, so it is stepped over rather than visited slot by slot.
 */
function unitsOf(changes: readonly Change[]): AnyIpsetChange[] {
  const out: AnyIpsetChange[] = [];
  for (let x = 0; x < changes.length;) {
    const c = changes[x] as AnyIpsetChange;
    if (out[out.length - 1] !== c) out.push(c);
    const end = x + (c instanceof EntryRun ? c.size : 1);
    x = c instanceof EntryRun && end <= changes.length && changes[end - 1] === c ? end : x + 1;
  }
  return out;
}

/**
 * The fast path's messages for entry slots `[i, j)` (of one run when `single`; `k`: the entry
 * slot `i` holds), when they are all of one fast shape; null otherwise.
 */
function fastMessages(proto: number, changes: readonly Change[], i: number, j: number, k: number, single: boolean): PackedMessage[] | null {
  const run = changes[i] as EntryRun;
  const code = run.shapes[k]!;
  if (code === 0) return null;
  const n = j - i;
  let values: FastArrays = run.values, from = k;
  if (single) {
    const shapes = run.shapes;
    for (let x = from + 1; x < from + n; x++) if (shapes[x] !== code) return null;
  } else {
    // Entries of several calls in one message: their values side by side, run by run.
    const more = hasMore(code);
    values = { ips: new Int32Array(n), portProtos: new Int32Array(n), ip2s: new Int32Array(more ? n : 0), cidrs: new Uint16Array(more ? n : 0) };
    from = 0;
    for (let x = i, r = run, at = k; x < j; r = changes[x] as EntryRun, at = 0) {
      const m = Math.min(j - x, r.size - at);
      const v = r.values;
      for (let y = at; y < at + m; y++) if (r.shapes[y] !== code) return null;
      values.ips.set(v.ips.subarray(at, at + m), x - i);
      values.portProtos.set(v.portProtos.subarray(at, at + m), x - i);
      if (more) {
        values.ip2s.set(v.ip2s.subarray(at, at + m), x - i);
        values.cidrs.set(v.cidrs.subarray(at, at + m), x - i);
      }
      x += m;
    }
  }
  return packValues(run.kind, proto, run.set, run.exist, run.setType, code, values, from, n, i, (a, b) => entriesIn(changes, i + a, i + b));
}

async function bindIpset(ctx: HandleContext, changes: readonly Change[]): Promise<BoundFamily> {
  const conn = ctx.connection(NETLINK_NETFILTER);
  const proto = ops.negotiate(await runOne(conn, ops.protocolOp(), ctx.exchangeOptions));
  const own = unitsOf(changes);

  // Set types: from creates earlier in the batch, else asked of the kernel (a missing set stays unknown).
  const unknownSets = new Set<string>();
  const seen = new Set<string>();
  for (const u of own) {
    if (u instanceof EntryRun) {
      if (!seen.has(u.set)) unknownSets.add(u.set);
    } else if (u.kind === 'create') seen.add(u.set);
  }
  const asked = new Map<string, SetInfo>();
  if (unknownSets.size > 0) {
    const names = [...unknownSets];
    const res = await runOperations(conn, names.map((n) => ops.headerOp(proto, n) as Operation<unknown>), ctx.exchangeOptions);
    res.forEach((r, i) => {
      if (r.status === 'ok') {
        const s = r.value as IpsetSet;
        asked.set(names[i]!, { type: s.type, ...(s.family && { family: s.family }) });
      }
    });
  }
  // Revisions for creates that do not name one.
  const revisions = new Map<string, number>();
  const wanted = new Map<string, [string, IpsetFamily | undefined]>();
  for (const c of own) {
    if (c instanceof IpsetChange && c.kind === 'create' && c.options?.revision === undefined) {
      wanted.set(`${c.type} ${c.options?.family ?? ''}`, [c.type!, c.options?.family]);
    }
  }
  if (wanted.size > 0) {
    const keys = [...wanted.keys()];
    const res = await runOperations(conn, keys.map((k) => ops.typeOp(proto, ...wanted.get(k)!) as Operation<unknown>), ctx.exchangeOptions);
    res.forEach((r, i) => {
      if (r.status !== 'ok') throw r.error;
      revisions.set(keys[i]!, (r.value as ops.IpsetTypeRevisions).revision);
    });
  }

  const info = new Map<string, SetInfo>(asked);
  for (const c of own) {
    if (c instanceof EntryRun) {
      bindRun(c, info.get(c.set));
      continue;
    }
    switch (c.kind) {
      case 'create': {
        const o = c.options ?? {};
        const revision = o.revision ?? revisions.get(`${c.type} ${o.family ?? ''}`)!;
        c.generic = ops.createOp(proto, c.set, c.type!, revision, o) as Operation<unknown>;
        info.set(c.set, { type: c.type!, ...(o.family && { family: o.family }) });
        break;
      }
      case 'destroy':
        c.generic = ops.destroyOp(proto, c.set) as Operation<unknown>;
        break;
      case 'flush':
        c.generic = ops.flushOp(proto, c.set) as Operation<unknown>;
        break;
    }
  }

  return new IpsetBound(proto);
}

/**
 * The ipset family bound for one commit. A class rather than closures: its methods, which loop
 * over tens of thousands of entries, stay optimised from one commit to the next.
 */
class IpsetBound implements BoundFamily {
  readonly genlId = 0;

  constructor(private readonly proto: number) {}

  fixType(m: OutMessage): number {
    return m.type;
  }

  operation(change: Change, index: number, changes: readonly Change[]): Operation<unknown> {
    if (!(change instanceof EntryRun)) return (change as IpsetChange).generic!;
    const c = change;
    const build = c.kind === 'add' ? ops.addOps : ops.delOps;
    const entry = c.entry(slotOf(c, changes, index));
    return build(this.proto, c.set, [entry], { ...(c.setType && { type: c.setType }), exist: c.exist, firstIndex: index })[0] as Operation<unknown>;
  }

  pack(changes: readonly Change[], i: number, end: number): PackedMessage[] {
    const run = changes[i];
    if (!(run instanceof EntryRun)) return [];
    // Consecutive entries to the same set with the same flags: this call's, then later calls'.
    const k = slotOf(run, changes, i);
    const stop = Math.min(end, i + PACK_RUN);
    let j = Math.min(stop, i + run.size - k);
    let single = true;
    while (j < stop) {
      const n = changes[j]; // a run's first slot: the one before ended at j
      if (!(n instanceof EntryRun) || n.kind !== run.kind || n.set !== run.set || n.exist !== run.exist) break;
      j = Math.min(stop, j + n.size);
      single = false;
    }
    const fast = fastMessages(this.proto, changes, i, j, k, single);
    if (fast) return fast;
    const entries = entriesIn(changes, i, j);
    const build = run.kind === 'add' ? ops.addOps : ops.delOps;
    const list = build(this.proto, run.set, entries, { ...(run.setType && { type: run.setType }), exist: run.exist, firstIndex: i });
    const out: IpsetPacked[] = [];
    let first = i;
    for (const o of list) {
      const attrs = o.message.attrs as { adt?: unknown[] } | undefined;
      const count = attrs?.adt ? attrs.adt.length : 1;
      const size = messageSize(o.message);
      const message = o.message;
      out.push({
        first, count, size, operation: o as Operation<unknown>,
        write: (buf, off, seq) => { writeMessage(buf, off, message, size, seq); },
      });
      first += count;
    }
    return out;
  }

  unpack(msg: PackedMessage, _changes: readonly Change[], outcome: MessageOutcome, replies: Buffer): PackedVerdict[] {
    const p = msg as IpsetPacked; // or a fast one: both carry the builder's operation
    const out: PackedVerdict[] = new Array(p.count);
    if (outcome.status === 'ok') {
      for (let k = 0; k < p.count; k++) out[k] = OK;
      return out;
    }
    const err = refusal(p.operation, outcome, p.first, replies);
    const refused: PackedVerdict = { status: 'error', error: err };
    // The kernel stops a bulk message at the refused entry: those before it were applied, none after.
    const at = err instanceof IpsetEntryError ? err.entryIndex - p.first : -1;
    for (let k = 0; k < p.count; k++) out[k] = at < 0 || k === at ? refused : k < at ? OK : SKIPPED;
    return out;
  }
}

// ---- undo ---------------------------------------------------------------------------------------

/** What undo knows of a set: absent, or its type, options and entries by element text. */
interface SetState {
  exists: boolean;
  type: string;
  options: IpsetCreateOptions;
  entries: Map<string, IpsetEntry>;
}

function elementOf(type: string, e: IpsetEntry): string {
  return formatElement(type, e);
}

class IpsetUndoPlanner implements UndoPlanner {
  constructor(private readonly state: Map<string, SetState | null>) {}

  compensate(applied: readonly Change[], indices: readonly number[]): Compensation[] {
    const collect = (fn: (b: BatchIpset) => void): Change[] => {
      const out: Change[] = [];
      fn(new BatchIpset((c, slots) => queueInto(out, c, slots)));
      return out;
    };
    const result: Compensation[] = [];
    for (let x = 0; x < applied.length; x++) {
      const c = applied[x] as AnyIpsetChange;
      // an entry run's applied slot: the entry at its place in the batch
      const entry = c instanceof EntryRun ? c.entry(indices[x]! - c.first) : undefined;
      const st = this.state.get(c.set);
      const unread = { changes: null, reason: `set ${c.set} was not read before the commit` } as const;
      switch (c.kind) {
        case 'create':
          result.push({ changes: collect((b) => b.destroy(c.set)) });
          this.state.set(c.set, { exists: true, type: c.type!, options: c.options ?? {}, entries: new Map() });
          break;
        case 'destroy':
          if (!st?.exists) result.push(unread);
          else {
            const prior = st;
            result.push({
              changes: collect((b) => {
                const { revision: _r, ...options } = prior.options;
                b.create(c.set, prior.type, options);
                if (prior.entries.size > 0) b.add(c.set, [...prior.entries.values()]);
              }),
              note: 'references from rules or list:set members are not restored; timeouts restart from what was left',
            });
          }
          this.state.set(c.set, st ? { ...st, exists: false, entries: new Map() } : null);
          break;
        case 'flush':
          if (!st?.exists) result.push(unread);
          else {
            const entries = [...st.entries.values()];
            result.push({ changes: entries.length ? collect((b) => b.add(c.set, entries)) : [] });
            st.entries = new Map();
          }
          break;
        case 'add': {
          // With `exist` the entry may have been there already: then its old values come back.
          const key = st?.exists ? elementOf(st.type, entry!) : undefined;
          const prior = key !== undefined ? st!.entries.get(key) : undefined;
          result.push({
            changes: collect((b) => (prior ? b.add(c.set, [prior], { exist: true }) : b.del(c.set, [entry!], { exist: true }))),
          });
          if (key !== undefined) st!.entries.set(key, entry!);
          break;
        }
        case 'del': {
          if (!st?.exists) {
            result.push(unread);
            break;
          }
          const key = elementOf(st.type, entry!);
          const prior = st.entries.get(key);
          // Deleting what was not there (with `exist`) changed nothing.
          result.push(prior ? { changes: collect((b) => b.add(c.set, [prior])), note: 'its timeout restarts from what was left' } : { changes: [] });
          st.entries.delete(key);
          break;
        }
      }
    }
    return result;
  }
}

/** The ipset entry of the batch's family table. */
export const ipsetDriver: FamilyDriver = {
  key: 'ipset',
  protocol: NETLINK_NETFILTER,
  bind: bindIpset,

  async prepareUndo(ctx, _bound, changes, signal): Promise<UndoPlanner> {
    const names = new Set<string>();
    for (const c of unitsOf(changes)) {
      if (c.kind !== 'create' && (c.kind !== 'add' || c.exist)) names.add(c.set);
    }
    const state = new Map<string, SetState | null>();
    if (names.size === 0) return new IpsetUndoPlanner(state);
    const conn = ctx.connection(NETLINK_NETFILTER);
    const proto = ops.negotiate(await runOne(conn, ops.protocolOp(), ctx.exchangeOptions));
    const list = [...names];
    const res = await runOperations(conn, list.map((n) => ops.listOp(proto, n) as Operation<unknown>), {
      ...ctx.exchangeOptions, ...(signal && { signal }),
    });
    res.forEach((r, i) => {
      const name = list[i]!;
      if (r.status !== 'ok') {
        if (r.error.code === 'ENOENT') state.set(name, null);
        else throw r.error;
        return;
      }
      const s = (r.value as IpsetSet[])[0];
      if (!s) {
        state.set(name, null);
        return;
      }
      const entries = new Map<string, IpsetEntry>();
      for (const e of s.entries ?? []) entries.set(elementOf(s.type, e), e);
      state.set(name, { exists: true, type: s.type, options: createOptionsOf(s), entries });
    });
    return new IpsetUndoPlanner(state);
  },

  harmlessUndoError(c, code) {
    const kind = (c as AnyIpsetChange).kind;
    if (kind === 'add' || kind === 'del') return code === 'IPSET_ERR_EXIST';
    if (kind === 'destroy') return code === 'ENOENT';
    if (kind === 'create') return code === 'EEXIST';
    return false;
  },
};
