import type { HandleContext } from '../handle-context';
import { runOne, type Operation } from '../netlink/operation';
import { NetlinkError } from '../netlink/errors';
import { readDump } from '../netlink/dump';
import { NETLINK_ROUTE } from '../native';
import type { Links } from '../link/links';
import type { LinkRef } from '../link/link';
import { checkLinkRef } from '../link/link';
import * as ops from './ops';
import type { Address, AddressOptions } from './address';
import { addressEvents, type AddressEvent, type AddressEventOptions } from './events';
import { decodeAddressDump } from './list-decode';
import { checkOptions, keySet } from '../validate';

const LIST_KEYS = keySet(['family']);
const EVENT_KEYS = keySet(['link', 'family', 'signal', 'rcvbuf']);

/** Options of {@link Addresses.list}. @category Links and addresses */
export interface AddressListOptions {
  /** Only IPv4 (`inet`) or only IPv6 (`inet6`) addresses, as `ip -4 addr` / `ip -6 addr`; default both. */
  family?: 'inet' | 'inet6';
}

/** Options of {@link Addresses.events}. @category Links and addresses */
export interface AddressEventsOptions extends Omit<AddressEventOptions, 'index'> {
  /** Only this link's addresses. */
  link?: LinkRef;
}

/**
 * IPv4 and IPv6 addresses on links over rtnetlink, keyed like `ip -j addr`. Links are given by
 * name (`'kube-ipvs0'`, looked up per call) or index. Obtain it from a handle:
 * `openHandle().addresses`.
 * @category Links and addresses
 */
export class Addresses {
  /** @internal */
  constructor(private readonly ctx: HandleContext, private readonly links: Links) {}

  private run<T>(o: Operation<T>): Promise<T> {
    return runOne(this.ctx.connection(NETLINK_ROUTE), o, this.ctx.exchangeOptions);
  }

  private async index(link: LinkRef, op: string): Promise<number> {
    checkLinkRef(link, op);
    if (typeof link === 'number') return link;
    return (await this.links.get(link)).ifindex;
  }

  /**
   * Adds an address, `'10.96.0.1/32'` or `'fd00::1/128'` (no prefix: a host address). Equivalent to
   * `ip addr add CIDR dev LINK [label L] [nodad] [noprefixroute]`. Errors: EEXIST already on the
   * link; ENODEV no such link.
   *
   * @example
   * ```ts
   * import { openHandle } from 'ipvs';
   *
   * const h = openHandle();
   * await h.links.ensureDummy('kube-ipvs0');
   * await h.addresses.add('kube-ipvs0', '10.96.0.10/32');   // ip addr add 10.96.0.10/32 dev kube-ipvs0
   * h.close();
   * ```
   */
  async add(link: LinkRef, cidr: string, options: AddressOptions = {}): Promise<void> {
    ops.addAddressOp(1, cidr, options);
    await this.run(ops.addAddressOp(await this.index(link, 'addresses.add'), cidr, options));
  }

  /** Adds an address or updates one already there. Equivalent to `ip addr replace CIDR dev LINK ...`. Errors: ENODEV. */
  async replace(link: LinkRef, cidr: string, options: AddressOptions = {}): Promise<void> {
    ops.replaceAddressOp(1, cidr, options);
    await this.run(ops.replaceAddressOp(await this.index(link, 'addresses.replace'), cidr, options));
  }

  /** Deletes an address. Equivalent to `ip addr del CIDR dev LINK`. Errors: EADDRNOTAVAIL not on the link; ENODEV. */
  async delete(link: LinkRef, cidr: string): Promise<void> {
    ops.deleteAddressOp(1, cidr);
    await this.run(ops.deleteAddressOp(await this.index(link, 'addresses.delete'), cidr));
  }

  /**
   * A link's addresses (the kernel filters to the link: the socket checks strictly), or every
   * address without a link. Equivalent to `ip -j addr show [dev LINK] [-4|-6]`.
   *
   * @example
   * ```ts
   * import { openHandle } from 'ipvs';
   *
   * const h = openHandle();
   * for (const a of await h.addresses.list('kube-ipvs0')) console.log(`${a.address}/${a.prefixlen}`); // ip -j addr show dev kube-ipvs0
   * h.close();
   * ```
   */
  async list(link?: LinkRef, options: AddressListOptions = {}): Promise<Address[]> {
    checkOptions(options, LIST_KEYS, 'addresses.list');
    ops.listAddressesOp({ ...(options.family !== undefined && { family: options.family }) }); // checked before a socket is opened
    const index = link === undefined ? undefined : await this.index(link, 'addresses.list');
    return this.dump({ ...(index !== undefined && { index }), ...(options.family !== undefined && { family: options.family }) });
  }

  /**
   * {@link ops.listAddressesOp}'s dump, received into the connection's reusable reply buffer and
   * decoded in one pass (no reply object or attribute record per address); read again (up to three
   * times) when interrupted, as runOne does, and refused with the errors runOne throws.
   */
  private async dump(filter: ops.AddressFilter): Promise<Address[]> {
    const conn = this.ctx.connection(NETLINK_ROUTE);
    const r = await readDump(conn, ops.listAddressesOp(filter), this.ctx.exchangeOptions, (replies, seq) => decodeAddressDump(replies, seq, filter));
    return r.addresses;
  }


  /**
   * Makes sure an address is on a link; quiet when it already is (no change, so no notification).
   * Returns whether it added it. Errors: ENODEV no such link.
   */
  async ensure(link: LinkRef, cidr: string, options: AddressOptions = {}): Promise<boolean> {
    try {
      await this.add(link, cidr, options);
      return true;
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'EEXIST') return false;
      throw err;
    }
  }

  /** Makes sure an address is not on a link; quiet when it is not (or the link is gone). Returns whether it deleted it. */
  async ensureGone(link: LinkRef, cidr: string): Promise<boolean> {
    try {
      await this.delete(link, cidr);
      return true;
    } catch (err) {
      if (err instanceof NetlinkError && (err.code === 'EADDRNOTAVAIL' || err.code === 'ENODEV')) return false;
      throw err;
    }
  }

  /**
   * Address changes as they happen (RTNLGRP_IPV4_IFADDR / RTNLGRP_IPV6_IFADDR): `added`,
   * `removed`, and `overflow` when the kernel dropped some (list again). Subscribed when this
   * returns, so nothing done afterwards is missed. Ends with `break`, `options.signal`, or the
   * handle's close. Equivalent to `ip monitor address`.
   */
  events(options: AddressEventsOptions = {}): AsyncIterableIterator<AddressEvent> {
    checkOptions(options, EVENT_KEYS, 'addresses.events');
    const { link, ...rest } = options;
    if (link !== undefined) checkLinkRef(link, 'addresses.events');
    const base = addressEvents({ netns: this.ctx.netns, track: (c) => this.ctx.track(c) }, {
      ...rest, ...(typeof link === 'number' && { index: link }),
    });
    if (typeof link !== 'string') return base;
    // A name is looked up once; until then events queue in the socket.
    let index: Promise<number> | undefined;
    const it: AsyncIterableIterator<AddressEvent> = {
      [Symbol.asyncIterator]: () => it,
      next: async () => {
        index ??= this.index(link, 'addresses.events');
        const want = await index.catch(async (err: unknown) => {
          await base.return!();
          throw err;
        });
        for (;;) {
          const r = await base.next();
          if (r.done || r.value.type === 'overflow' || r.value.address.ifindex === want) return r;
        }
      },
      return: () => base.return!(),
    };
    return it;
  }
}
