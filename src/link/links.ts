import type { HandleContext } from '../handle-context';
import { runOne, runOperations, type Operation } from '../netlink/operation';
import { NETLINK_ROUTE } from '../native';
import * as ops from './ops';
import { describeLink, type Link, type LinkRef } from './link';
import { NetlinkError } from '../netlink/errors';
import { checkOptions, keySet, quote } from '../validate';

const ENSURE_KEYS = keySet(['up', 'mtu']);

/** Options of {@link Links.ensureDummy}. @category Links and addresses */
export interface EnsureDummyOptions {
  /** Bring it up (default true). */
  up?: boolean;
  /** MTU to create it with (an existing link keeps its own). */
  mtu?: number;
}

/**
 * Network links over rtnetlink: dummy links such as kube-proxy's `kube-ipvs0`, up and down,
 * lookups and listings keyed like `ip -j link`. Obtain it from a handle: `openHandle().links`.
 * @category Links and addresses
 */
export class Links {
  /** @internal */
  constructor(private readonly ctx: HandleContext) {}

  private run<T>(o: Operation<T>): Promise<T> {
    return runOne(this.ctx.connection(NETLINK_ROUTE), o, this.ctx.exchangeOptions);
  }

  /**
   * Creates a dummy link and returns it (created and read back in one exchange). Equivalent to
   * `ip link add NAME type dummy` (then `ip link set NAME up` with `up`).
   * Errors: EEXIST a link of that name exists; ENOTSUP (errno 95, also called EOPNOTSUPP) the
   * kernel has no dummy links (`modprobe dummy`); EPERM needs CAP_NET_ADMIN.
   */
  async addDummy(name: string, options: ops.DummyLinkOptions = {}): Promise<Link> {
    const add = ops.addDummyOp(name, options); // checked before a socket is opened
    const [added, got] = await runOperations(this.ctx.connection(NETLINK_ROUTE),
      [add, ops.getLinkOp(name)] as Operation<unknown>[], this.ctx.exchangeOptions);
    if (added!.status !== 'ok') throw added!.error;
    if (got!.status !== 'ok') throw got!.error;
    return got!.value as Link;
  }

  /** Deletes a link. Equivalent to `ip link del NAME`. Errors: ENODEV no such link. */
  delete(ref: LinkRef): Promise<void> {
    return this.run(ops.deleteLinkOp(ref));
  }

  /** Changes a link's state or MTU. Equivalent to `ip link set NAME up|down [mtu N]`. Errors: ENODEV no such link. */
  set(ref: LinkRef, settings: ops.LinkSettings): Promise<void> {
    return this.run(ops.setLinkOp(ref, settings));
  }

  /** Brings a link up. Equivalent to `ip link set NAME up`. Errors: ENODEV no such link. */
  setUp(ref: LinkRef): Promise<void> {
    return this.set(ref, { up: true });
  }

  /** Brings a link down. Equivalent to `ip link set NAME down`. Errors: ENODEV no such link. */
  setDown(ref: LinkRef): Promise<void> {
    return this.set(ref, { up: false });
  }

  /** A link by name or index. Equivalent to `ip -j link show dev NAME`. Errors: ENODEV no such link. */
  get(ref: LinkRef): Promise<Link> {
    return this.run(ops.getLinkOp(ref));
  }

  /** Like {@link get}, but undefined when there is no such link. */
  async find(ref: LinkRef): Promise<Link | undefined> {
    try {
      return await this.get(ref);
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'ENODEV') return undefined;
      throw err;
    }
  }

  /** Every link. Equivalent to `ip -j link`. */
  list(): Promise<Link[]> {
    return this.run(ops.listLinksOp());
  }

  /**
   * Makes sure a dummy link of this name exists (and is up, unless `up: false`); quiet when it
   * already is. Returns the link. Throws EEXIST when a link of that name exists but is not a
   * dummy link.
   *
   * @example
   * ```ts
   * import { openHandle } from 'ipvs';
   *
   * const h = openHandle();
   * const link = await h.links.ensureDummy('kube-ipvs0');    // ip link add kube-ipvs0 type dummy; ip link set kube-ipvs0 up
   * console.log(link.ifindex, link.ifname, link.operstate);
   * h.close();
   * ```
   */
  async ensureDummy(name: string, options: EnsureDummyOptions = {}): Promise<Link> {
    checkOptions(options, ENSURE_KEYS, 'links.ensureDummy');
    if (options.up !== undefined && typeof options.up !== 'boolean') throw new TypeError(`links.ensureDummy: up must be a boolean, got ${quote(options.up)}`);
    const up = options.up ?? true;
    let link = await this.find(name);
    if (!link) {
      try {
        return await this.addDummy(name, { up, ...(options.mtu !== undefined && { mtu: options.mtu }) });
      } catch (err) {
        // Someone else created it meanwhile: carry on with theirs.
        if (!(err instanceof NetlinkError && err.code === 'EEXIST')) throw err;
        link = await this.get(name);
      }
    }
    if (link.linkinfo?.info_kind !== 'dummy') {
      throw new NetlinkError({
        code: 'EEXIST', errno: -17, op: 'links.ensureDummy',
        detail: `${describeLink(name)} exists but is ${link.linkinfo ? `a ${link.linkinfo.info_kind}` : 'not a dummy'} link`,
      });
    }
    if (up && !link.flags.includes('UP')) {
      await this.setUp(link.ifindex);
      link = await this.get(link.ifindex);
    }
    return link;
  }

  /** Makes sure a link is gone; quiet when it already is. Returns whether it deleted one. */
  async ensureGone(ref: LinkRef): Promise<boolean> {
    try {
      await this.delete(ref);
      return true;
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'ENODEV') return false;
      throw err;
    }
  }
}
