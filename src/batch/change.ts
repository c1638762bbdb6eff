/**
 * What a batch is made of, and what a family must provide to take part in one. Adding a family
 * to the batch is one {@link FamilyDriver} plus a sub-builder that queues {@link Change}s.
 *
 * @module
 * @internal
 */
import type { HandleContext } from '../handle-context';
import type { Operation } from '../netlink/operation';
import type { OutMessage } from '../netlink/message';
import type { NetlinkError } from '../netlink/errors';
import type { MessageOutcome } from '../netlink/protocol';

/** The families a batch spans; each is one entry of the driver table (families.ts). */
export type FamilyKey = 'ipvs' | 'ipset' | 'rtnl';

/**
 * A message written by a family's fast path instead of the generic schema encoder: the same bytes
 * (unit tests compare them), without building an attribute record per change. Batches of tens of
 * thousands of destinations spend most of their JavaScript time there otherwise.
 */
export interface FastMessage {
  /** Aligned size in bytes. */
  readonly size: number;
  /** Writes the whole message at `off` with sequence number `seq`; `bound` is its family's commit-time binding. */
  write(buf: Buffer, off: number, seq: number, bound: BoundFamily): void;
}

/**
 * One queued change: one netlink message, unless its family packs several into one (ipset bulk).
 * A change may fill several consecutive slots of the batch (one object for the entries of one
 * `ipset.add` call, see {@link Queue}); each slot is still one result.
 */
export interface Change {
  readonly family: FamilyKey;
  /** The facade's name for it: `'ipvs.addDestination'`. */
  readonly op: string;
  /** The family's own description, read by its driver (undo, explanations, bulk packing). */
  readonly subject: unknown;
  /** The generic operation, built (and validated) by the family's op builder at queue time. */
  readonly generic?: Operation<unknown>;
  /** The fast encoding, when the family has one for this change; `generic` is then built on demand. */
  readonly fast?: FastMessage;
  /** Refused before sending: the driver found at commit that it cannot be carried out (a link that does not exist). */
  readonly failed?: NetlinkError;
}

/**
 * One netlink message of a commit and the changes it carries: one, or a run of changes that the
 * family packs into a single message (ipset's bulk ADT form). Acknowledged, it applied every change
 * it carries; only a refusal is split into per-change verdicts ({@link BoundFamily.unpack}).
 */
export interface PackedMessage {
  /** Index of its first change in the slice being encoded. */
  first: number;
  /** How many consecutive changes it carries. */
  count: number;
  size: number;
  write(buf: Buffer, off: number, seq: number): void;
}

/** Per-change verdicts derived from one message's outcome (for a message carrying several changes). */
export interface PackedVerdict {
  status: 'ok' | 'error' | 'skipped' | 'unknown';
  error?: NetlinkError;
}

/** What a family needs at commit time, resolved once per commit (for IPVS: the genl family id). */
export interface BoundFamily {
  /** The generic-netlink family id, for genl families (0 for the others). */
  readonly genlId: number;
  /** nlmsg_type for generic messages built before the family was known (genl ids are dynamic). */
  fixType(m: OutMessage): number;
  /**
   * The generic operation of a fast change, for explaining a refusal in the user's terms; `c` is
   * slot `index` of `changes` (which tells a change filling several slots which one is meant).
   */
  operation(c: Change, index: number, changes: readonly Change[]): Operation<unknown>;
  /**
   * Packs changes from `i` (before `end`) into messages, for a family that carries several changes
   * in one message; absent: one message per change. The messages cover consecutive changes from
   * `i`; an empty array means `changes[i]` is not packed.
   */
  pack?(changes: readonly Change[], i: number, end: number): PackedMessage[];
  /**
   * False when `c` depends on an earlier change of the slice starting at `sliceStart` (an address
   * on a link the batch creates): the slice then ends before it, and {@link beforeSlice} resolves
   * it once that change was applied.
   */
  ready?(c: Change, sliceStart: number): boolean;
  /** Called before the slice starting at `start` is planned: resolves what earlier slices made possible. */
  beforeSlice?(changes: readonly Change[], start: number): Promise<void>;
  /**
   * Splits one packed message's refusal into per-change verdicts (ok, error, or skipped: not
   * applied). The engine does not ask for an acknowledged message: all its changes are `ok`.
   */
  unpack?(msg: PackedMessage, changes: readonly Change[], outcome: MessageOutcome, replies: Buffer): PackedVerdict[];
}

/**
 * What a change's undo needs: the compensating changes (applied in the order given, after the
 * later changes' compensations), or why there are none.
 */
export type Compensation =
  | { changes: Change[]; note?: string }
  | { changes: null; reason: string };

/**
 * Reads the state that undo must restore before anything is sent, then, once the commit knows
 * which changes were applied, derives the compensating changes.
 */
export interface UndoPlanner {
  /**
   * Compensations for `applied` (in order), derived by replaying them over the state read
   * before the commit. Index-aligned with `applied`; `indices` are their slots in the batch (a
   * change filling several slots appears once per slot applied).
   */
  compensate(applied: readonly Change[], indices: readonly number[]): Compensation[];
}

/**
 * How a sub-builder queues a change: in `slots` consecutive slots of the batch (default 1), one
 * result each. Returns the index of the first.
 */
export type Queue = (c: Change, slots?: number) => number;

/**
 * Appends `c` to `list` in `slots` consecutive slots and returns the first's index: the array
 * grows once to its new length rather than by half again, copied each time, over 50,000 pushes
 * (fresh memory costs a page fault per 4 KiB in the VM).
 */
export function queueInto(list: Change[], c: Change, slots = 1): number {
  const at = list.length;
  if (slots === 1) list.push(c);
  else if (slots > 1) {
    list.length = at + slots;
    list.fill(c, at);
  }
  return at;
}

/** One family's entry in the batch's driver table. */
export interface FamilyDriver {
  readonly key: FamilyKey;
  /** The netlink protocol its messages travel on (consecutive changes on one socket share exchanges). */
  readonly protocol: number;
  /**
   * Resolves what encoding needs (ids, protocol versions, set types), once per commit, before
   * anything is sent; `changes` are the family's changes in the batch. May throw TypeError for
   * input only checkable then.
   */
  bind(ctx: HandleContext, changes: readonly Change[]): Promise<BoundFamily>;
  /** Reads what undo will need about `changes` (all of this family's changes in the batch). */
  prepareUndo(ctx: HandleContext, bound: BoundFamily, changes: readonly Change[], signal?: AbortSignal): Promise<UndoPlanner>;
  /**
   * True when a refusal of a compensating change means "already as it should be" (the change it
   * undoes may never have been applied): deleting what is gone, re-adding what exists.
   */
  harmlessUndoError(c: Change, code: string): boolean;
}
