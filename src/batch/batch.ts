/**
 * A batch: changes across IPVS, ipset and links/addresses, committed in order with one result each.
 *
 * @module
 */
import type { HandleContext } from '../handle-context';
import { queueInto, type Change, type Queue } from './change';
import { commitChanges, type CommitOptions, type CommitResult } from './commit';
import { DRIVERS } from './families';
import { BatchIpset } from './ipset';
import { BatchIpvs } from './ipvs';
import { BatchAddresses, BatchLinks } from './rtnl';
import { checkOptions, keySet } from '../validate';

const COMMIT_KEYS = keySet(['onError', 'onProgress', 'signal', 'maxChunkMessages', 'timeoutMs']);

/**
 * Changes gathered across families and committed in the order they were queued: a destination
 * after its service, an address after its link. Obtain one from `handle.batch()`.
 *
 * Each family's consecutive changes travel as one buffer of many netlink messages, paced by the
 * native engine (an acknowledgement is asked for only at the end of each chunk; the kernel still
 * reports every refusal with its own sequence number, so every change gets its own result).
 * Switching family starts the next exchange, in order.
 *
 * **Not atomic.** The kernel has no transactions for IPVS, ipsets or addresses: each change is
 * applied on its own as it arrives, other processes can see a half-applied batch, and a crash
 * mid-commit leaves whatever had been applied. `onError: 'undo'` narrows the window; it does not
 * close it.
 *
 * **Stopping.** With `'stop'` (the default) nothing is sent after the chunk that held the first
 * refusal, but the kernel does not stop inside one `sendmsg`: changes after the refused one in the
 * same chunk were applied, and their results say `ok`. `maxChunkMessages: 1` makes the stop exact
 * at one round trip per change. An ipset bulk message is different: the kernel stops at the
 * refused entry, and the entries after it are `skipped`.
 *
 * **Closing.** `handle.close()` during a commit stops it at once and the commit still resolves:
 * what the kernel acknowledged keeps its result, what it was sent but had not answered is
 * `unknown`, the rest `skipped`, each with reason `'closed'`, and `closed` is true.
 *
 * **What undo restores, and what it cannot.** Before the commit, undo reads what the batch edits
 * or deletes (services with their destinations, sets with their entries, addresses, link state);
 * after a failure it applies compensating changes, newest first: deletes what was added, edits
 * back what was edited, re-adds what was deleted. It cannot restore:
 * - IPVS counters and rates: a re-created service or destination starts from zero (a destination
 *   re-added within about two minutes comes back from the kernel's trash list with its old
 *   counters instead), and the connections of a deleted service are not re-attached to it;
 * - ipset entry timeouts run on from what was left when they were read; references to a destroyed
 *   set (iptables rules) are the caller's;
 * - a deleted link (its index, addresses and routes); address lifetimes restart, and re-added IPv4
 *   addresses may change which is primary;
 * - anything another process changed meanwhile: undo writes back the values it read, over theirs;
 * - changes whose outcome is `unknown` (time-out, receive-buffer overflow) are undone as far as
 *   the kernel lets (deleting what is not there counts as done).
 * Each result carries `undo: { status, note }` saying what happened to it.
 *
 * @example
 * ```ts
 * import { openHandle } from 'ipvs';
 *
 * const handle = openHandle();
 * const svc = { protocol: 'tcp', address: '10.96.0.1', port: 80 } as const;
 * const b = handle.batch();
 * b.ipvs.addService({ ...svc, scheduler: 'rr' });
 * b.ipvs.addDestination(svc, { address: '10.1.0.5', port: 8080, forwarding: 'masq' });
 * const r = await b.commit({ onError: 'undo' });
 * if (!r.ok) console.error(r.firstError);
 * handle.close();
 * ```
 * @category Batch
 */
export class Batch {
  /** IPVS services and destinations. */
  readonly ipvs: BatchIpvs;
  /** ipsets and their entries (entries travel in the kernel's bulk form). */
  readonly ipset: BatchIpset;
  /** Links (dummy links such as kube-ipvs0). */
  readonly links: BatchLinks;
  /** Addresses on links, by link name (including one this batch creates) or index. */
  readonly addresses: BatchAddresses;
  private readonly changes: Change[] = [];
  private committing = false;

  /** @internal */
  constructor(private readonly ctx: HandleContext) {
    const push: Queue = (c, slots) => {
      if (this.committing) throw new Error('batch: already committed; start a new batch');
      return queueInto(this.changes, c, slots);
    };
    this.ipvs = new BatchIpvs(push);
    this.ipset = new BatchIpset(push);
    this.links = new BatchLinks(push);
    this.addresses = new BatchAddresses(push);
  }

  /** Number of changes queued. */
  get length(): number {
    return this.changes.length;
  }

  /**
   * Sends every change, in order, and resolves with one result per change. It rejects only
   * before anything is sent: for bad options or input only checkable then, or when a family
   * cannot be reached at all (e.g. no IPVS in the kernel). Once anything may have been sent it
   * always resolves; a close of the handle, at any moment, resolves too, with
   * {@link CommitResult.closed} and a `reason` on every change not applied. A batch commits once.
   *
   * 100,000 changes need no tuning: the engine keeps every chunk's replies within the socket's
   * receive buffer, so no acknowledgement is lost.
   *
   * @example
   * ```ts
   * import { openHandle } from 'ipvs';
   *
   * const h = openHandle();
   * const b = h.batch();
   * b.ipset.add('KUBE-CLUSTER-IP', ['10.96.0.10,tcp:80']);
   * b.addresses.add('kube-ipvs0', '10.96.0.10/32');
   * const r = await b.commit({ onError: 'continue' });
   * for (const c of r.results) if (c.status !== 'ok') console.log(c);
   * h.close();
   * ```
   */
  commit(options: CommitOptions = {}): Promise<CommitResult> {
    if (this.committing) return Promise.reject(new Error('batch: already committed; start a new batch'));
    try {
      checkOptions(options, COMMIT_KEYS, 'batch.commit');
    } catch (err) {
      return Promise.reject(err);
    }
    this.committing = true;
    return commitChanges(this.ctx, DRIVERS, this.changes, options);
  }
}
