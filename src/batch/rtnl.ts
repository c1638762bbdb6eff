/**
 * Links and addresses in a batch (rtnetlink): the sub-builders (`batch.links.addDummy(...)`,
 * `batch.addresses.add(...)`) and the family's driver. Addresses are sent by link index; a link
 * named in the batch is looked up at commit, and one the batch creates itself is looked up once
 * its creation was applied (its addresses start the next exchange).
 *
 * @module
 */
import type { HandleContext } from '../handle-context';
import { NETLINK_ROUTE } from '../native';
import { NetlinkError } from '../netlink/errors';
import { runOne, runOperations, type Operation } from '../netlink/operation';
import * as addrOps from '../address/ops';
import { parseCidr, type Address, type AddressOptions } from '../address/address';
import { addressLayout, addressOp, parseIPv4Cidr, writeAddress, type AddressKind } from './rtnl-fast';
import * as linkOps from '../link/ops';
import { checkLinkRef, isLinkIndex, type Link, type LinkRef } from '../link/link';
import type { BoundFamily, Change, Compensation, FamilyDriver, FastMessage, UndoPlanner } from './change';

type RtnlKind = 'addDummy' | 'deleteLink' | 'setLink' | 'addAddress' | 'replaceAddress' | 'deleteAddress';

const OP_NAMES: Record<RtnlKind, string> = {
  addDummy: 'links.addDummy', deleteLink: 'links.delete', setLink: 'links.set',
  addAddress: 'addresses.add', replaceAddress: 'addresses.replace', deleteAddress: 'addresses.delete',
};

/** A queued link or address change. */
export class RtnlChange implements Change, FastMessage {
  generic?: Operation<unknown>;
  /**
   * An IPv4 address change without options: its address and prefix ({@link parseIPv4Cidr}), the
   * message written from the builder's layout and the operation built only when asked for; else -1.
   */
  v4 = -1;
  failed?: NetlinkError;
  /** For an address on a link the batch creates: the index of that creation. */
  dependsOn?: number;
  /** The link's index once known. */
  index?: number;
  /** Its index in the batch (set when queued). */
  position?: number;

  constructor(
    readonly kind: RtnlKind,
    /** The link: its name or index (for addDummy, its name). */
    readonly link: LinkRef,
    readonly cidr?: string,
    readonly options?: AddressOptions | linkOps.DummyLinkOptions | linkOps.LinkSettings,
  ) {}

  get family(): 'rtnl' {
    return 'rtnl';
  }

  get op(): string {
    return OP_NAMES[this.kind];
  }

  get subject(): RtnlChange {
    return this;
  }

  isAddress(): boolean {
    return this.kind === 'addAddress' || this.kind === 'replaceAddress' || this.kind === 'deleteAddress';
  }

  /** Its link index is known: the address operation is built (the builders check the input), unless the fast path writes it. */
  build(index: number): void {
    this.index = index;
    if (this.v4 < 0) this.generic = addressOp(this.kind as AddressKind, index, this.cidr!, (this.options ?? {}) as AddressOptions) as Operation<unknown>;
  }

  /** The generic operation, for explaining a refusal: the one built, or the builder's for a fast change. */
  operation(): Operation<unknown> {
    return this.generic ?? addressOp(this.kind as AddressKind, this.index!, this.cidr!, {}) as Operation<unknown>;
  }

  get fast(): FastMessage | undefined {
    return this.v4 >= 0 && this.index !== undefined ? this : undefined;
  }

  get size(): number {
    return addressLayout(this.kind as AddressKind)!.bytes.length;
  }

  write(buf: Buffer, off: number, seq: number): void {
    writeAddress(addressLayout(this.kind as AddressKind)!, buf, off, seq, this.index!, this.v4);
  }
}

/** True when an address change's options are empty (the fast path's case). */
function noOptions(o: AddressOptions): boolean {
  if (o === null || typeof o !== 'object') return false;
  for (const k in o) if ((o as Record<string, unknown>)[k] !== undefined) return false;
  return true;
}

/** Link changes of a batch. Each method checks its input at once and returns the change's index. @category Batch */
export class BatchLinks {
  /** @internal */
  constructor(private readonly push: (c: Change) => number) {}

  /** Queues `ip link add NAME type dummy`. Its undo deletes the link. */
  addDummy(name: string, options: linkOps.DummyLinkOptions = {}): number {
    const c = new RtnlChange('addDummy', name, undefined, options);
    c.generic = linkOps.addDummyOp(name, options) as Operation<unknown>;
    return c.position = this.push(c);
  }

  /** Queues `ip link del NAME`. It cannot be undone (the link's addresses, routes and index are gone). */
  delete(link: LinkRef): number {
    const c = new RtnlChange('deleteLink', link);
    c.generic = linkOps.deleteLinkOp(link) as Operation<unknown>;
    return this.push(c);
  }

  /** Queues `ip link set NAME up|down [mtu N]`. Its undo restores the state read before the commit. */
  set(link: LinkRef, settings: linkOps.LinkSettings): number {
    const c = new RtnlChange('setLink', link, undefined, settings);
    c.generic = linkOps.setLinkOp(link, settings) as Operation<unknown>;
    return this.push(c);
  }
}

/** Address changes of a batch. A link may be given by name, including one the batch creates. @category Batch */
export class BatchAddresses {
  /** The last link name found valid (a batch names the same link thousands of times). */
  private checkedName?: string;

  /** @internal */
  constructor(private readonly push: (c: Change) => number) {}

  /** Queues `ip addr add CIDR dev LINK`. Its undo deletes the address. */
  add(link: LinkRef, cidr: string, options: AddressOptions = {}): number {
    return this.address('addAddress', link, cidr, options);
  }

  /** Queues `ip addr replace CIDR dev LINK`. Its undo deletes it, or restores the one read before. */
  replace(link: LinkRef, cidr: string, options: AddressOptions = {}): number {
    return this.address('replaceAddress', link, cidr, options);
  }

  /** Queues `ip addr del CIDR dev LINK`. Its undo adds it back with the label, scope and flags read before. */
  delete(link: LinkRef, cidr: string): number {
    return this.address('deleteAddress', link, cidr, {});
  }

  private address(kind: AddressKind, link: LinkRef, cidr: string, options: AddressOptions): number {
    const c = new RtnlChange(kind, link, cidr, options);
    const index = isLinkIndex(link);
    if ((index || typeof link === 'string') && noOptions(options) && addressLayout(kind)) c.v4 = parseIPv4Cidr(cidr);
    if (c.v4 >= 0) {
      if (index) c.index = link as number;
      else if (link !== this.checkedName) this.checkedName = checkLinkRef(link, c.op) as string;
      return this.push(c);
    }
    // Check everything now, with a stand-in index when the link is named.
    const probe = new RtnlChange(kind, 1, cidr, options);
    probe.build(typeof link === 'number' ? link : 1);
    if (typeof link === 'number') c.build(link);
    else checkLinkRef(link, c.op);
    return this.push(c);
  }
}

/** Canonical text of an address within its link: `10.96.0.1/32`. */
function addressKey(cidr: string): string {
  const c = parseCidr(cidr, 'batch');
  return `${c.local}/${c.prefixlen}`;
}

async function bindRtnl(ctx: HandleContext, changes: readonly Change[]): Promise<BoundFamily> {
  const conn = ctx.connection(NETLINK_ROUTE);
  const own = changes as readonly RtnlChange[];
  const named = own.some((c) => c.isAddress() && typeof c.link === 'string' && c.index === undefined);
  const indexes = new Map<string, number>();
  if (named) for (const l of await runOne(conn, linkOps.listLinksOp(), ctx.exchangeOptions)) indexes.set(l.ifname, l.ifindex);
  const created = new Map<string, number>();
  changes.forEach((change) => {
    const c = change as RtnlChange;
    if (c.kind === 'addDummy') created.set(c.link as string, c.position!);
    else if (c.kind === 'deleteLink' && typeof c.link === 'string') {
      created.delete(c.link);
      indexes.delete(c.link);
    } else if (c.isAddress() && typeof c.link === 'string' && c.index === undefined) {
      const by = created.get(c.link);
      if (by !== undefined) c.dependsOn = by;
      else if (indexes.has(c.link)) c.build(indexes.get(c.link)!);
      else c.failed = new NetlinkError({ code: 'ENODEV', errno: -19, op: c.op, detail: `link ${c.link} does not exist` });
    }
  });

  return {
    genlId: 0,
    fixType: (m) => m.type,
    operation: (c) => (c as RtnlChange).operation(),
    ready: (c, sliceStart) => {
      const r = c as RtnlChange;
      return r.dependsOn === undefined || r.dependsOn < sliceStart;
    },
    async beforeSlice(all, start) {
      // Addresses on links created by earlier slices: look the links up now.
      const pending = new Map<string, RtnlChange[]>();
      for (let i = start; i < all.length; i++) {
        const c = all[i] as RtnlChange;
        if (c.family !== 'rtnl' || c.index !== undefined || c.failed || c.dependsOn === undefined || c.dependsOn >= start) continue;
        const list = pending.get(c.link as string) ?? [];
        list.push(c);
        pending.set(c.link as string, list);
      }
      if (pending.size === 0) return;
      const names = [...pending.keys()];
      const res = await runOperations(conn, names.map((n) => linkOps.getLinkOp(n) as Operation<unknown>), ctx.exchangeOptions);
      res.forEach((r, k) => {
        for (const c of pending.get(names[k]!)!) {
          if (r.status === 'ok') c.build((r.value as Link).ifindex);
          else c.failed = new NetlinkError({ code: 'ENODEV', errno: -19, op: c.op, detail: `link ${names[k]} does not exist (its creation failed?)` });
        }
      });
    },
  };
}



// ---- undo ---------------------------------------------------------------------------------------

class RtnlUndoPlanner implements UndoPlanner {
  constructor(
    private readonly links: Map<string, Link>,
    private readonly addresses: Map<number, Map<string, Address>>,
  ) {}

  compensate(applied: readonly Change[]): Compensation[] {
    const collect = (fn: (l: BatchLinks, a: BatchAddresses) => void): Change[] => {
      const out: Change[] = [];
      const push = (c: Change) => out.push(c) - 1;
      fn(new BatchLinks(push), new BatchAddresses(push));
      return out;
    };
    return applied.map((change): Compensation => {
      const c = change as RtnlChange;
      switch (c.kind) {
        case 'addDummy':
          return { changes: collect((l) => l.delete(c.link)) };
        case 'deleteLink':
          return { changes: null, reason: 'a deleted link cannot be restored (its index, addresses and routes are gone)' };
        case 'setLink': {
          const prior = this.links.get(String(c.link));
          if (!prior) return { changes: null, reason: `link ${String(c.link)} was not read before the commit` };
          return { changes: collect((l) => l.set(prior.ifindex, { up: prior.flags.includes('UP'), mtu: prior.mtu })) };
        }
        default: {
          const index = c.index!;
          const key = addressKey(c.cidr!);
          const prior = this.addresses.get(index)?.get(key);
          if (c.kind === 'deleteAddress') {
            if (!prior) return { changes: null, reason: `address ${c.cidr} was not read before the commit` };
            return { changes: collect((_l, a) => a.add(index, key, optionsOf(prior))), note: 'its lifetimes restart' };
          }
          if (prior && c.kind === 'replaceAddress') return { changes: collect((_l, a) => a.replace(index, key, optionsOf(prior))) };
          return { changes: collect((_l, a) => a.delete(index, key)) };
        }
      }
    });
  }
}

function optionsOf(a: Address): AddressOptions {
  const o: AddressOptions = { scope: a.scope };
  if (a.label !== undefined) o.label = a.label;
  if (a.broadcast !== undefined) o.broadcast = a.broadcast;
  if (a.address !== undefined && a.address !== a.local) o.peer = a.address;
  if (a.nodad) o.nodad = true;
  if (a.noprefixroute) o.noprefixroute = true;
  if (a.valid_life_time !== 0xffffffff) o.validLft = a.valid_life_time;
  if (a.preferred_life_time !== 0xffffffff) o.preferredLft = a.preferred_life_time;
  return o;
}

/** The links/addresses entry of the batch's family table. */
export const rtnlDriver: FamilyDriver = {
  key: 'rtnl',
  protocol: NETLINK_ROUTE,
  bind: bindRtnl,

  async prepareUndo(ctx, _bound, changes): Promise<UndoPlanner> {
    const own = changes as readonly RtnlChange[];
    const links = new Map<string, Link>();
    const addresses = new Map<number, Map<string, Address>>();
    const conn = ctx.connection(NETLINK_ROUTE);
    if (own.some((c) => c.kind === 'setLink' || ((c.kind === 'deleteAddress' || c.kind === 'replaceAddress') && c.index !== undefined))) {
      for (const l of await runOne(conn, linkOps.listLinksOp(), ctx.exchangeOptions)) {
        links.set(l.ifname, l);
        links.set(String(l.ifindex), l);
      }
      const wanted = new Set(own.filter((c) => c.index !== undefined && c.kind !== 'addAddress').map((c) => c.index!));
      for (const index of wanted) {
        const list = await runOne(conn, addrOps.listAddressesOp({ index }), ctx.exchangeOptions);
        addresses.set(index, new Map(list.map((a) => [`${a.local}/${a.prefixlen}`, a])));
      }
    }
    return new RtnlUndoPlanner(links, addresses);
  },

  harmlessUndoError(c, code) {
    const kind = (c as RtnlChange).kind;
    if (kind === 'deleteAddress') return code === 'EADDRNOTAVAIL';
    if (kind === 'addAddress') return code === 'EEXIST';
    if (kind === 'deleteLink') return code === 'ENODEV';
    return false;
  },
};
