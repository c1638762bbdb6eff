/**
 * Address change notifications (RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR) as an async iterator,
 * on a socket of their own: a long-running proxy notices an address removed behind its back.
 */
import { native, NETLINK_ROUTE, type NativeSocket } from '../native';
import { parseMessages } from '../netlink/header';
import { NetlinkError } from '../netlink/errors';
import { RTM_DELADDR, RTM_NEWADDR, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR } from '../uapi/rtnetlink';
import { decodeAddressMessage } from './ops';
import type { Address } from './address';

/** One change of an address, or word that some were lost. @category Links and addresses */
export type AddressEvent =
  /** RTM_NEWADDR: added (or changed: flags, lifetimes, the end of IPv6 duplicate address detection). */
  | {
      /** The address was added or changed. */
      type: 'added';
      /** The address as it is now. */
      address: Address;
    }
  /** RTM_DELADDR: removed. */
  | {
      /** The address was removed. */
      type: 'removed';
      /** The address as it was. */
      address: Address;
    }
  /**
   * The kernel dropped notifications (the socket's receive buffer overflowed, ENOBUFS): list the
   * addresses again to learn the current state. The stream goes on.
   */
  | {
      /** Notifications were lost. */
      type: 'overflow';
    };

/** Options of addresses.events(). */
export interface AddressEventOptions {
  /** Only this link's addresses (by index). */
  index?: number;
  /** Only one family. */
  family?: 'inet' | 'inet6';
  /** Ends the iteration. */
  signal?: AbortSignal;
  /** Receive buffer, bytes (default 1 MiB): room for bursts between reads. */
  rcvbuf?: number;
}

/** What the stream needs from its handle. @internal */
export interface EventSource {
  netns: string | null;
  /** Registers the stream so that closing the handle ends it; returns the unregister function. */
  track(closeable: { close(): void }): () => void;
}

/**
 * Subscribes at once (events from this call on are kept), then yields each change. Ends when the
 * signal aborts, the loop breaks, or the handle closes.
 */
export function addressEvents(source: EventSource, options: AddressEventOptions = {}): AsyncIterableIterator<AddressEvent> {
  const b = native();
  let sock: NativeSocket | null = b.open(NETLINK_ROUTE, { netns: source.netns, rcvbuf: options.rcvbuf ?? 1 << 20 });
  const close = () => {
    if (sock) b.close(sock);
    sock = null;
  };
  try {
    if (options.family !== 'inet6') b.subscribe(sock, RTNLGRP_IPV4_IFADDR);
    if (options.family !== 'inet') b.subscribe(sock, RTNLGRP_IPV6_IFADDR);
  } catch (err) {
    close();
    throw err;
  }
  const untrack = source.track({ close });
  const onAbort = () => close();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const pending: AddressEvent[] = [];
  let done = false;

  const finish = () => {
    done = true;
    options.signal?.removeEventListener('abort', onAbort);
    untrack();
    close();
  };

  const iterator: AsyncIterableIterator<AddressEvent> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next(): Promise<IteratorResult<AddressEvent>> {
      while (pending.length === 0) {
        if (done || !sock || options.signal?.aborted) {
          finish();
          return { done: true, value: undefined };
        }
        const r = await b.receive(sock).catch((err: { code?: string }) => {
          if (err.code === 'EBADF') return { messages: Buffer.alloc(0), error: { code: 'ECANCELED', errno: -125, syscall: 'close' } };
          throw err;
        });
        for (const m of parseMessages(r.messages, 0, r.messages.length, 'address.events')) {
          if (m.type !== RTM_NEWADDR && m.type !== RTM_DELADDR) continue;
          const address = decodeAddressMessage(r.messages, m);
          if (options.index !== undefined && address.ifindex !== options.index) continue;
          pending.push({ type: m.type === RTM_NEWADDR ? 'added' : 'removed', address });
        }
        if (r.error) {
          if (r.error.code === 'ENOBUFS') pending.push({ type: 'overflow' });
          else if (r.error.code === 'ECANCELED') done = true;
          else {
            finish();
            throw new NetlinkError({ code: r.error.code, errno: r.error.errno, op: 'addresses.events', syscall: r.error.syscall });
          }
        }
      }
      return { done: false, value: pending.shift()! };
    },
    async return(): Promise<IteratorResult<AddressEvent>> {
      finish();
      return { done: true, value: undefined };
    },
  };
  return iterator;
}
