/**
 * ipsets in a batch: the sub-builder (`batch.ipset.add(...)`), and the family's driver: protocol
 * negotiation and set types at bind, entries packed in the kernel's bulk form (many per message),
 * per-entry results from the refused line, undo.
 *
 * @module
 */
import type { HandleContext } from '../handle-context';
import { NETLINK_NETFILTER } from '../native';
import { messageSize, writeMessage } from '../netlink/message';
import { refusal, runOne, runOperations, type Operation } from '../netlink/operation';
import type { MessageOutcome } from '../netlink/protocol';
import { IPSET_PROTOCOL } from '../uapi/ipset';
import * as ops from '../ipset/ops';
import { checkEntryFamily, entryAttrs, formatElement, toEntryObject, type IpsetEntry, type IpsetEntryInput } from '../ipset/entry';
import { IpsetEntryError } from '../ipset/errors';
import { createOptionsOf, type IpsetCreateOptions, type IpsetFamily, type IpsetSet } from '../ipset/set';
import type { BoundFamily, Change, Compensation, FamilyDriver, PackedMessage, PackedVerdict, UndoPlanner } from './change';
import { fastPack, fastShape } from './ipset-fast';

type IpsetKind = 'create' | 'destroy' | 'flush' | 'add' | 'del';

/** Options of {@link BatchIpset.create}. */
export type IpsetBatchCreateOptions = IpsetCreateOptions & ops.IpsetExistOptions;

/** A queued ipset change: a set command, or one entry to add or delete. */
export class IpsetChange implements Change {
  generic?: Operation<unknown>;
  /** The entry, once text was parsed with its set's type (at commit). */
  entry?: IpsetEntry;
  /** The set's type, when known at commit: shapes entries and names type-specific errors. */
  setType?: string;

  constructor(
    readonly kind: IpsetKind,
    readonly set: string,
    readonly input?: IpsetEntryInput,
    readonly exist = false,
    readonly type?: string,
    readonly options?: IpsetBatchCreateOptions,
  ) {}

  get family(): 'ipset' {
    return 'ipset';
  }

  get op(): string {
    return `ipset.${this.kind}`;
  }

  get subject(): IpsetChange {
    return this;
  }
}

/**
 * ipset changes of a batch. Entries added or deleted one after another in the same set travel in
 * the kernel's bulk form (many entries per message), and each entry still gets its own result.
 * Methods check their input at once where they can (entries given as text are parsed at commit,
 * once the set's type is known, before anything is sent).
 */
export class BatchIpset {
  /** @internal */
  constructor(private readonly push: (c: Change) => number) {}

  /**
   * Queues `ipset create NAME TYPE OPTIONS` (the revision is the newest the kernel has, asked at
   * commit, unless `options.revision`). Its undo destroys the set.
   */
  create(name: string, type: string, options: IpsetBatchCreateOptions = {}): number {
    ops.createOp(IPSET_PROTOCOL, name, type, options.revision ?? 0, options);
    return this.push(new IpsetChange('create', name, undefined, options.exist ?? false, type, options));
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
   * per entry: returns the index of the first; entry k is change `first + k`. With `exist`, an
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

  private entries(kind: 'add' | 'del', name: string, input: IpsetEntryInput | readonly IpsetEntryInput[], options: ops.IpsetExistOptions): number {
    const op = `ipset.${kind}`;
    const list = Array.isArray(input) ? input as readonly IpsetEntryInput[] : [input as IpsetEntryInput];
    if (kind === 'add') ops.destroyOp(IPSET_PROTOCOL, name); // checks the name
    else ops.flushOp(IPSET_PROTOCOL, name);
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      // Text waits for the set's type; plain IPv4 entries are checked by the fast path's own test.
      if (typeof e === 'string' || fastShape(e)) continue;
      try {
        entryAttrs(e, op);
      } catch (err) {
        if (err instanceof Error && list.length > 1) err.message = `${err.message} (entry #${i})`;
        throw err;
      }
    }
    let first = -1;
    const exist = options.exist ?? false;
    for (const e of list) {
      const k = this.push(new IpsetChange(kind, name, e, exist));
      if (first < 0) first = k;
    }
    return first;
  }
}

/** A packed message: the bulk operation that wrote it. */
interface IpsetPacked extends PackedMessage {
  operation: Operation<unknown>;
}

/** Entries per packing pass (each pass yields messages of up to 64 KiB). */
const PACK_RUN = 16384;

interface SetInfo {
  type: string;
  family?: IpsetFamily;
}

async function bindIpset(ctx: HandleContext, changes: readonly Change[]): Promise<BoundFamily> {
  const conn = ctx.connection(NETLINK_NETFILTER);
  const proto = ops.negotiate(await runOne(conn, ops.protocolOp(), ctx.exchangeOptions));
  const own = changes as readonly IpsetChange[];

  // Set types: from creates earlier in the batch, else asked of the kernel (a missing set stays unknown).
  const unknownSets = new Set<string>();
  const seen = new Set<string>();
  for (const c of own) {
    if (c.kind === 'create') seen.add(c.set);
    else if ((c.kind === 'add' || c.kind === 'del') && !seen.has(c.set)) unknownSets.add(c.set);
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
    if (c.kind === 'create' && c.options?.revision === undefined) wanted.set(`${c.type} ${c.options?.family ?? ''}`, [c.type!, c.options?.family]);
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
      default: {
        const t = info.get(c.set);
        c.entry = toEntryObject(c.input!, t?.type, c.op);
        if (t?.family === 'inet6' || !fastShape(c.entry)) checkEntryFamily(c.entry, t?.family, c.op);
        if (t) c.setType = t.type;
      }
    }
  }

  const single = (c: IpsetChange): Operation<unknown> => {
    const build = c.kind === 'add' ? ops.addOps : ops.delOps;
    return build(proto, c.set, [c.entry!], { ...(c.setType && { type: c.setType }), exist: c.exist })[0] as Operation<unknown>;
  };

  return {
    genlId: 0,
    fixType: (m) => m.type,
    operation: (c) => (c as IpsetChange).generic ?? single(c as IpsetChange),

    pack(changes, i, end): PackedMessage[] {
      const c = changes[i] as IpsetChange;
      if (c.family !== 'ipset' || (c.kind !== 'add' && c.kind !== 'del')) return [];
      let j = i + 1;
      const stop = Math.min(end, i + PACK_RUN);
      while (j < stop) {
        const n = changes[j] as IpsetChange;
        if (n.family !== 'ipset' || n.kind !== c.kind || n.set !== c.set || n.exist !== c.exist) break;
        j++;
      }
      const entries = new Array<IpsetEntry>(j - i);
      for (let k = i; k < j; k++) entries[k - i] = (changes[k] as IpsetChange).entry!;
      const fast = fastPack(c.kind, proto, c.set, c.exist, c.setType, entries, i);
      if (fast) return fast;
      const build = c.kind === 'add' ? ops.addOps : ops.delOps;
      const list = build(proto, c.set, entries, { ...(c.setType && { type: c.setType }), exist: c.exist, firstIndex: i });
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
    },

    unpack(msg, _changes, outcome: MessageOutcome, replies: Buffer): PackedVerdict[] {
      const p = msg as IpsetPacked; // or a fast one: both carry the builder's operation
      const out: PackedVerdict[] = new Array(p.count);
      if (outcome.status === 'ok') {
        for (let k = 0; k < p.count; k++) out[k] = { status: 'ok' };
        return out;
      }
      const err = refusal(p.operation, outcome, p.first, replies);
      // The kernel stops a bulk message at the refused entry: those before it were applied, none after.
      const at = err instanceof IpsetEntryError ? err.entryIndex - p.first : -1;
      for (let k = 0; k < p.count; k++) {
        out[k] = at < 0 || k === at ? { status: 'error', error: err } : k < at ? { status: 'ok' } : { status: 'skipped' };
      }
      return out;
    },
  };
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

  compensate(applied: readonly Change[]): Compensation[] {
    const collect = (fn: (b: BatchIpset) => void): Change[] => {
      const out: Change[] = [];
      fn(new BatchIpset((c) => out.push(c) - 1));
      return out;
    };
    const result: Compensation[] = [];
    for (const change of applied) {
      const c = change as IpsetChange;
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
          const key = st?.exists ? elementOf(st.type, c.entry!) : undefined;
          const prior = key !== undefined ? st!.entries.get(key) : undefined;
          result.push({
            changes: collect((b) => (prior ? b.add(c.set, [prior], { exist: true }) : b.del(c.set, [c.entry!], { exist: true }))),
          });
          if (key !== undefined) st!.entries.set(key, c.entry!);
          break;
        }
        case 'del': {
          if (!st?.exists) {
            result.push(unread);
            break;
          }
          const key = elementOf(st.type, c.entry!);
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
    for (const c of changes as readonly IpsetChange[]) {
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
    const kind = (c as IpsetChange).kind;
    if (kind === 'add' || kind === 'del') return code === 'IPSET_ERR_EXIST';
    if (kind === 'destroy') return code === 'ENOENT';
    if (kind === 'create') return code === 'EEXIST';
    return false;
  },
};
