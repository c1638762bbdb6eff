/**
 * Address operations as data (rtnetlink, NETLINK_ROUTE): each builder checks its input
 * (TypeError/RangeError before anything is sent) and returns an {@link Operation} that a single
 * call or a batch can carry. Links are given by index here (the facade resolves names); the
 * messages are the ones iproute2's `ip addr` sends.
 */
import { decodeRecord, type AttrRecord } from '../netlink/attr';
import { align4 } from '../netlink/header';
import type { OutMessage } from '../netlink/message';
import type { Operation } from '../netlink/operation';
import type { MessageOutcome } from '../netlink/protocol';
import { decodeIfaddrmsg, encodeIfaddrmsg, rtnlAddr, type Ifaddrmsg } from '../schema/rtnl-addr';
import { RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR, SIZEOF_IFADDRMSG } from '../uapi/rtnetlink';
import { AF_INET, AF_INET6, AF_UNSPEC, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE } from '../uapi/netlink';
import { addressRequest, parseCidr, toAddress, type Address, type AddressOptions } from './address';
import { isLinkIndex } from '../link/link';
import { quote } from '../validate';

function message(type: number, header: Partial<Ifaddrmsg>, attrs: AttrRecord, flags = 0): OutMessage {
  return { type, flags, fixed: encodeIfaddrmsg(header), schema: rtnlAddr, attrs };
}

function checkIndex(index: unknown, op: string): number {
  if (!isLinkIndex(index)) {
    throw new RangeError(`${op}: link index must be a positive integer, got ${quote(index)}`);
  }
  return index as number;
}

/** Decodes an RTM_NEWADDR/RTM_DELADDR message (reply or notification) at `r`. */
export function decodeAddressMessage(buf: Buffer, r: { payload: number; end: number }): Address {
  const h = decodeIfaddrmsg(buf, r.payload, r.end);
  return toAddress(h, decodeRecord(buf, r.payload + align4(SIZEOF_IFADDRMSG), r.end, rtnlAddr));
}

function explain(cidr: string, index: number) {
  return (code: string) => code === 'EEXIST' ? `${cidr} is already on link #${index}`
    : code === 'EADDRNOTAVAIL' ? `${cidr} is not on link #${index}`
      : code === 'ENODEV' ? `link #${index} does not exist`
        : undefined;
}

/**
 * RTM_NEWADDR with NLM_F_CREATE | NLM_F_EXCL. Equivalent to `ip addr add CIDR dev LINK [label L]
 * [nodad] [noprefixroute]`. Errors: EEXIST already there; ENODEV no such link.
 */
export function addAddressOp(index: number, cidr: string, options: AddressOptions = {}): Operation {
  const op = 'addresses.add';
  const r = addressRequest(checkIndex(index, op), parseCidr(cidr, op), options, op);
  return { op, message: message(RTM_NEWADDR, r.header, r.attrs, NLM_F_CREATE | NLM_F_EXCL), explain: explain(cidr, index) };
}

/**
 * RTM_NEWADDR with NLM_F_CREATE | NLM_F_REPLACE: adds, or updates flags and lifetimes of an
 * address already there. Equivalent to `ip addr replace CIDR dev LINK ...`. Errors: ENODEV.
 */
export function replaceAddressOp(index: number, cidr: string, options: AddressOptions = {}): Operation {
  const op = 'addresses.replace';
  const r = addressRequest(checkIndex(index, op), parseCidr(cidr, op), options, op);
  return { op, message: message(RTM_NEWADDR, r.header, r.attrs, NLM_F_CREATE | NLM_F_REPLACE), explain: explain(cidr, index) };
}

/** RTM_DELADDR. Equivalent to `ip addr del CIDR dev LINK`. Errors: EADDRNOTAVAIL not on the link; ENODEV. */
export function deleteAddressOp(index: number, cidr: string): Operation {
  const op = 'addresses.delete';
  const c = parseCidr(cidr, op);
  const r = addressRequest(checkIndex(index, op), c, {}, op);
  return { op, message: message(RTM_DELADDR, { ...r.header, scope: 0 }, r.attrs), explain: explain(cidr, index) };
}

/** Filters of {@link listAddressesOp}. */
export interface AddressFilter {
  /** Only this link's addresses: the kernel filters when the socket checks strictly (Linux 4.20+), the decoder always. */
  index?: number;
  family?: 'inet' | 'inet6';
}

/** RTM_GETADDR dump. Equivalent to `ip -j addr show [dev LINK] [-4|-6]`. */
export function listAddressesOp(filter: AddressFilter = {}): Operation<Address[]> {
  const op = 'addresses.list';
  if (filter.index !== undefined) checkIndex(filter.index, op);
  if (filter.family !== undefined && filter.family !== 'inet' && filter.family !== 'inet6') {
    throw new TypeError(`${op}: family must be 'inet' or 'inet6', got ${quote(filter.family)}`);
  }
  const family = filter.family === 'inet' ? AF_INET : filter.family === 'inet6' ? AF_INET6 : AF_UNSPEC;
  return {
    op,
    message: message(RTM_GETADDR, { family, index: filter.index ?? 0 }, {}, NLM_F_DUMP),
    decode: (replies: Buffer, outcome: MessageOutcome) => outcome.replies
      .filter((r) => r.type === RTM_NEWADDR)
      .map((r) => decodeAddressMessage(replies, r))
      .filter((a) => (filter.index === undefined || a.ifindex === filter.index) && (filter.family === undefined || a.family === filter.family)),
  };
}
