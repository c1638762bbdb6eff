import type { HandleContext } from '../handle-context';
import { runOne, runOperations, type Operation } from '../netlink/operation';
import type { ExchangeOptions } from '../netlink/connection';
import { NetlinkError } from '../netlink/errors';
import { NETLINK_NETFILTER } from '../native';
import * as ops from './ops';
import { checkEntryFamily, toEntryObject, type IpsetEntry, type IpsetEntryInput } from './entry';
import type { IpsetCreateOptions, IpsetFamily, IpsetSet } from './set';
import { formatSave, parseRestore, type IpsetRestoreCommand } from './save';
import { IPSET_CREATE_EXIST_KEYS } from './set';
import { checkOptions, keySet } from '../validate';
import { IPSET_PROTOCOL } from '../uapi/ipset';

const ADD_KEYS = keySet(['exist', 'maxMessageBytes']);
const EXIST_KEYS = keySet(['exist']);
const LIST_KEYS = keySet(['headerOnly']);

interface SetInfo {
  type: string;
  family?: IpsetFamily;
}

/** Options of {@link Ipset.add} and {@link Ipset.del}. @category ipset */
export interface IpsetAddOptions extends ops.IpsetExistOptions {
  /** Largest message in bytes (default 65536: the kernel's 16-bit attribute length caps the bulk nest there). */
  maxMessageBytes?: number;
}

/** Options of {@link Ipset.restore}. @category ipset */
export interface IpsetRestoreOptions extends ops.IpsetExistOptions {}

/** What {@link Ipset.restore} did. @category ipset */
export interface IpsetRestoreResult {
  /** Commands (lines other than blanks and comments) carried out. */
  commands: number;
  /** Entries added or deleted. */
  entries: number;
}

/**
 * ipsets over nfnetlink (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_IPSET). Obtain it from a handle:
 * `openHandle().ipset`. The protocol version is negotiated once per handle; a set type's revision
 * is asked from the kernel at create time (IPSET_CMD_TYPE), never taken from a table.
 *
 * Errors are {@link NetlinkError}s with ipset's own codes where the kernel used one
 * (`'IPSET_ERR_EXIST'`, `'IPSET_ERR_HASH_FULL'`, ...) and the ipset tool's meaning in the message;
 * a refused entry of a bulk add or delete is an {@link IpsetEntryError} naming it.
 * @category ipset
 */
export class Ipset {
  private proto: Promise<number> | undefined;
  /** Set name to type and family, learnt from create/header/list; dropped on destroy, rename, swap and refusals. */
  private readonly types = new Map<string, SetInfo>();

  /** @internal */
  constructor(private readonly ctx: HandleContext) {}

  private conn() {
    return this.ctx.connection(NETLINK_NETFILTER);
  }

  private one<T>(o: Operation<T>, extra: ExchangeOptions = {}): Promise<T> {
    return runOne(this.conn(), o, { ...this.ctx.exchangeOptions, ...extra });
  }

  /**
   * {@link runOne} for a LIST dump, received into the process's reusable reply buffer: a set of
   * 50,000 entries is about 2 MB of replies, and fresh memory costs a page fault per 4 KiB, which
   * in the VM cost more than decoding it. The decoded sets keep nothing of the buffer.
   */
  private dump<T>(o: Operation<T>): Promise<T> {
    return this.one(o, { borrowReplies: true });
  }

  /**
   * The ipset protocol version spoken with this kernel: the lower of the library's
   * (IPSET_PROTOCOL) and the kernel's, negotiated once per handle (IPSET_CMD_PROTOCOL).
   * Errors: IPSET_ERR_PROTOCOL when the kernel no longer speaks ours; EINVAL when the kernel has no
   * ipset (nfnetlink's answer for an unknown subsystem; the message says to load `ip_set`);
   * EPROTONOSUPPORT (netlink.open) when it has no nfnetlink at all.
   */
  protocol(): Promise<number> {
    if (!this.proto) {
      this.proto = this.one(ops.protocolOp()).then(ops.negotiate);
      this.proto.catch(() => { this.proto = undefined; });
    }
    return this.proto;
  }

  /**
   * The revisions of a set type the kernel has (IPSET_CMD_TYPE; the kernel loads the type's
   * module on demand). Equivalent to what `ipset create` asks before creating.
   * Errors: IPSET_ERR_FIND_TYPE when the kernel has no such type (older kernels: EEXIST); the
   * message names the type's module (`modprobe ip_set_hash_ipport` for `hash:ip,port`).
   */
  async typeRevisions(type: string, family?: IpsetFamily): Promise<ops.IpsetTypeRevisions> {
    return this.one(ops.typeOp(await this.protocol(), type, family));
  }

  /**
   * Creates a set, with the newest revision of its type the kernel has (unless `options.revision`).
   * Equivalent to `ipset create NAME TYPE [OPTIONS]` (`-exist` is `options.exist`).
   * Errors: EEXIST a set of that name exists; IPSET_ERR_FIND_TYPE from the type query: no such type
   * in the kernel; IPSET_ERR_INVALID_FAMILY, IPSET_ERR_INVALID_NETMASK,
   * IPSET_ERR_BITMAP_RANGE_SIZE and friends for options the type refuses.
   *
   * @example
   * ```ts
   * import { openHandle } from 'ipvs';
   *
   * const h = openHandle();
   * // ipset create KUBE-CLUSTER-IP hash:ip,port family inet -exist
   * await h.ipset.create('KUBE-CLUSTER-IP', 'hash:ip,port', { family: 'inet', exist: true });
   * h.close();
   * ```
   */
  async create(name: string, type: string, options: IpsetCreateOptions & ops.IpsetExistOptions = {}): Promise<void> {
    checkOptions(options, IPSET_CREATE_EXIST_KEYS, 'ipset.create');
    // every check before anything reaches the kernel, the type query included (revision and protocol as stand-ins)
    ops.createOp(IPSET_PROTOCOL, name, type, options.revision ?? 0, options);
    const proto = await this.protocol();
    const revision = options.revision ?? (await this.typeRevisions(type, options.family)).revision;
    await this.one(ops.createOp(proto, name, type, revision, options));
    this.types.delete(name); // with exist, an existing set of another family may remain
  }

  /** Destroys a set. Equivalent to `ipset destroy NAME`. Errors: ENOENT no such set; IPSET_ERR_BUSY it is referenced (by a rule or a list:set). */
  async destroy(name: string): Promise<void> {
    this.types.delete(name);
    await this.one(ops.destroyOp(await this.protocol(), name));
  }

  /** Destroys every set that is not referenced. Equivalent to `ipset destroy`. Errors: IPSET_ERR_BUSY some set is referenced. */
  async destroyAll(): Promise<void> {
    this.types.clear();
    await this.one(ops.destroyOp(await this.protocol()));
  }

  /** Removes every entry of a set. Equivalent to `ipset flush NAME`. Errors: ENOENT no such set. */
  async flush(name: string): Promise<void> {
    await this.one(ops.flushOp(await this.protocol(), name));
  }

  /** Removes every entry of every set. Equivalent to `ipset flush`. */
  async flushAll(): Promise<void> {
    await this.one(ops.flushOp(await this.protocol()));
  }

  /** Renames a set. Equivalent to `ipset rename FROM TO`. Errors: ENOENT no such set; IPSET_ERR_EXIST_SETNAME2 the new name is taken; IPSET_ERR_REFERENCED in use. */
  async rename(from: string, to: string): Promise<void> {
    this.types.delete(from);
    this.types.delete(to);
    await this.one(ops.renameOp(await this.protocol(), from, to));
  }

  /**
   * Swaps two sets' contents atomically (rules referencing either keep their name). Equivalent to
   * `ipset swap A B`. Errors: ENOENT the first set is missing; IPSET_ERR_EXIST_SETNAME2 the second
   * is; IPSET_ERR_TYPE_MISMATCH their types differ.
   */
  async swap(a: string, b: string): Promise<void> {
    this.types.delete(a);
    this.types.delete(b);
    await this.one(ops.swapOp(await this.protocol(), a, b));
  }

  /** A set's header: type, revision, options, counts, no entries. Equivalent to `ipset list -t NAME`. Errors: ENOENT no such set. */
  async header(name: string): Promise<IpsetSet> {
    const [s] = await this.one(ops.listOp(await this.protocol(), name, { headerOnly: true }));
    if (!s) throw new NetlinkError({ code: 'ENOENT', errno: -2, op: 'ipset.header', detail: `set ${name}: the set does not exist` });
    this.learn(s);
    return s;
  }

  /**
   * A set with all its entries, however many dump messages they take. Equivalent to `ipset list NAME`. Errors: ENOENT no such set.
   *
   * @example
   * ```ts
   * import { openHandle, formatIpsetEntry } from 'ipvs';
   *
   * const h = openHandle();
   * const set = await h.ipset.list('KUBE-CLUSTER-IP');      // ipset list KUBE-CLUSTER-IP
   * console.log(set.type, (set.entries ?? []).map((e) => formatIpsetEntry(set.type, e)));
   * h.close();
   * ```
   */
  async list(name: string): Promise<IpsetSet> {
    const [s] = await this.dump(ops.listOp(await this.protocol(), name));
    if (!s) throw new NetlinkError({ code: 'ENOENT', errno: -2, op: 'ipset.list', detail: `set ${name}: the set does not exist` });
    this.learn(s);
    return s;
  }

  /** Every set, with entries unless `headerOnly`. Equivalent to `ipset list` (`-t`). */
  async listAll(options: ops.IpsetListOptions = {}): Promise<IpsetSet[]> {
    checkOptions(options, LIST_KEYS, 'ipset.listAll');
    const sets = await this.dump(ops.listOp(await this.protocol(), undefined, options));
    for (const s of sets) this.learn(s);
    return sets;
  }

  /** The names of all sets. Equivalent to `ipset list -n`. */
  async listNames(): Promise<string[]> {
    return (await this.listAll({ headerOnly: true })).map((s) => s.name);
  }

  private learn(s: IpsetSet): void {
    this.types.set(s.name, { type: s.type, ...(s.family && { family: s.family }) });
  }

  private async infoOf(name: string): Promise<SetInfo> {
    const t = this.types.get(name);
    if (t) return t;
    const s = await this.one(ops.headerOp(await this.protocol(), name));
    this.learn(s);
    return this.types.get(name)!;
  }

  private async entries(name: string, input: IpsetEntryInput | readonly IpsetEntryInput[], op: string): Promise<{ list: IpsetEntry[]; type: string }> {
    const inputs = Array.isArray(input) ? input as readonly IpsetEntryInput[] : [input as IpsetEntryInput];
    const { type, family } = await this.infoOf(name);
    return { list: inputs.map((e, i) => {
      try {
        const entry = toEntryObject(e, type, op);
        checkEntryFamily(entry, family, op);
        return entry;
      } catch (err) {
        if (err instanceof Error && inputs.length > 1) err.message = `${err.message} (entry #${i})`;
        throw err;
      }
    }), type };
  }

  private async bulk(kind: 'add' | 'del', name: string, input: IpsetEntryInput | readonly IpsetEntryInput[], options: IpsetAddOptions): Promise<void> {
    const op = `ipset.${kind}`;
    checkOptions(options, ADD_KEYS, op);
    const proto = await this.protocol();
    const { list, type } = await this.entries(name, input, op);
    if (list.length === 0) return;
    const build = kind === 'add' ? ops.addOps : ops.delOps;
    const msgs = build(proto, name, list, { type, ...(options.exist !== undefined && { exist: options.exist }), ...(options.maxMessageBytes !== undefined && { maxMessageBytes: options.maxMessageBytes }) });
    // One message per chunk, stopping at the first refusal: everything before it was applied, nothing after.
    const results = await runOperations(this.conn(), msgs, { ...this.ctx.exchangeOptions, stopOnError: true, maxChunkMessages: 1 });
    for (const r of results) {
      if (r.status !== 'ok') {
        if (r.status === 'error' && r.error.code !== 'IPSET_ERR_EXIST') this.types.delete(name);
        throw r.error;
      }
    }
  }

  /**
   * Adds entries, objects or text in the set's syntax (`'10.0.0.1,tcp:80 timeout 30'`), all in
   * the kernel's bulk form: as few messages as fit 64 KiB each, so 50,000 entries are a few dozen
   * system calls. Equivalent to `ipset add NAME ENTRY` per entry (`-exist`: `options.exist`).
   * Errors: an {@link IpsetEntryError} naming the refused entry (every entry before it was added,
   * none after), with IPSET_ERR_EXIST (already in the set), IPSET_ERR_HASH_FULL,
   * IPSET_ERR_TIMEOUT/COUNTER/COMMENT/SKBINFO (the set lacks that extension),
   * IPSET_ERR_BITMAP_RANGE (outside a bitmap's range);
   * ENOENT when the set does not exist. An address of the other family than the set's throws
   * TypeError before anything is sent. A range or network entry (`10.0.0.0/24` in hash:ip) may
   * be partly added when refused mid-way.
   *
   * @example
   * ```ts
   * import { openHandle } from 'ipvs';
   *
   * const h = openHandle();
   * // ipset add KUBE-CLUSTER-IP 10.96.0.10,tcp:80 -exist (and a second entry, in the same call)
   * await h.ipset.add('KUBE-CLUSTER-IP', ['10.96.0.10,tcp:80', '10.96.0.11,udp:53'], { exist: true });
   * h.close();
   * ```
   */
  add(name: string, entries: IpsetEntryInput | readonly IpsetEntryInput[], options: IpsetAddOptions = {}): Promise<void> {
    return this.bulk('add', name, entries, options);
  }

  /**
   * Deletes entries, in bulk like {@link add}. Equivalent to `ipset del NAME ENTRY` per entry.
   * Errors: {@link IpsetEntryError} with IPSET_ERR_EXIST when an entry is not in the set (unless
   * `options.exist`); ENOENT no such set.
   */
  del(name: string, entries: IpsetEntryInput | readonly IpsetEntryInput[], options: IpsetAddOptions = {}): Promise<void> {
    return this.bulk('del', name, entries, options);
  }

  /**
   * Tests whether an entry is in the set (a `nomatch` entry is not). Equivalent to
   * `ipset test NAME ENTRY` (exit status 0: true). Errors: ENOENT no such set.
   */
  async test(name: string, entry: IpsetEntryInput): Promise<boolean> {
    const [r] = await this.testMany(name, [entry]);
    return r!;
  }

  /** Tests many entries in one exchange (the kernel tests one per message). */
  async testMany(name: string, entries: readonly IpsetEntryInput[]): Promise<boolean[]> {
    const proto = await this.protocol();
    const { list, type } = await this.entries(name, entries, 'ipset.test');
    const results = await runOperations(this.conn(), list.map((e) => ops.testOp(proto, name, e, type)), this.ctx.exchangeOptions);
    return results.map((r) => {
      if (r.status === 'ok') return true;
      if (r.status === 'error' && r.error.code === 'IPSET_ERR_EXIST') return false;
      throw r.error;
    });
  }

  /**
   * Every set (or the named ones) in the text of `ipset save`: `create` lines, then `add` lines;
   * list:set sets last, so a restore finds their members. `ipset restore` reads it.
   */
  async save(names?: readonly string[]): Promise<string> {
    const sets = names ? await Promise.all(names.map((n) => this.list(n))) : await this.listAll();
    return formatSave(sets);
  }

  /**
   * Carries out `ipset restore` text (`create`, `add`, `del`, `flush`, `destroy`, `rename`,
   * `swap` lines; what `ipset save` writes). Consecutive adds (or dels) to one set travel in bulk.
   * Stops at the first failure with an Error naming its line (`line 12: ...`), the failure
   * (a NetlinkError) as its `cause`; every earlier line was carried out, nothing after it.
   */
  async restore(text: string, options: IpsetRestoreOptions = {}): Promise<IpsetRestoreResult> {
    checkOptions(options, EXIST_KEYS, 'ipset.restore');
    const cmds = parseRestore(text);
    let entries = 0;
    for (let i = 0; i < cmds.length;) {
      const c = cmds[i]!;
      if (c.kind === 'add' || c.kind === 'del') {
        let j = i + 1;
        while (j < cmds.length && cmds[j]!.kind === c.kind && cmds[j]!.set === c.set) j++;
        const run = cmds.slice(i, j) as Extract<IpsetRestoreCommand, { kind: 'add' | 'del' }>[];
        try {
          await this.bulk(c.kind, c.set, run.map((r) => r.entry), options);
        } catch (err) {
          const at = err instanceof Error && 'entryIndex' in err ? run[(err as { entryIndex: number }).entryIndex]! : c;
          throw restoreError(at.line, err);
        }
        entries += run.length;
        i = j;
        continue;
      }
      try {
        await this.runCommand(c, options);
      } catch (err) {
        throw restoreError(c.line, err);
      }
      i++;
    }
    return { commands: cmds.length, entries };
  }

  private async runCommand(c: IpsetRestoreCommand, options: IpsetRestoreOptions): Promise<void> {
    switch (c.kind) {
      case 'create': return this.create(c.set, c.type, { ...c.options, ...(options.exist !== undefined && { exist: options.exist }) });
      case 'flush': return c.set === undefined ? this.flushAll() : this.flush(c.set);
      case 'destroy': return c.set === undefined ? this.destroyAll() : this.destroy(c.set);
      case 'rename': return this.rename(c.set, c.to);
      case 'swap': return this.swap(c.set, c.to);
      default: throw new TypeError(`ipset.restore: unexpected ${c.kind}`);
    }
  }
}

function restoreError(line: number, cause: unknown): Error {
  const e = new Error(`ipset.restore: line ${line}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  e.name = 'IpsetRestoreError';
  return e;
}
