/**
 * Link operations as data (rtnetlink, NETLINK_ROUTE): each builder checks its input
 * (TypeError/RangeError before anything is sent) and returns an {@link Operation} that a single
 * call or a batch can carry. Messages are the ones iproute2's `ip link` sends.
 */
import { decodeRecord, type AttrRecord } from '../netlink/attr';
import { align4 } from '../netlink/header';
import type { OutMessage } from '../netlink/message';
import type { Operation } from '../netlink/operation';
import type { MessageOutcome } from '../netlink/protocol';
import { NetlinkError } from '../netlink/errors';
import { decodeIfinfomsg, encodeIfinfomsg, rtnlLink, rtnlLinkRequest, type Ifinfomsg } from '../schema/rtnl-link';
import { RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK, RTEXT_FILTER_SKIP_STATS, SIZEOF_IFINFOMSG } from '../uapi/rtnetlink';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL } from '../uapi/netlink';
import { IFF_UP } from '../uapi/if';
import { checkLinkName, checkLinkRef, describeLink, toLink, type Link, type LinkRef } from './link';
import { checkKeys, checkObject, checkOptions, keySet, quote } from '../validate';

const DUMMY_KEYS = keySet(['up', 'mtu', 'address']);
const SETTINGS_KEYS = keySet(['up', 'mtu'], 'link setting');

function checkUp(up: unknown, op: string): void {
  if (up !== undefined && typeof up !== 'boolean') throw new TypeError(`${op}: up must be a boolean, got ${quote(up)}`);
}

function message(type: number, header: Partial<Ifinfomsg>, attrs: AttrRecord, flags = 0): OutMessage {
  return { type, flags, fixed: encodeIfinfomsg(header), schema: rtnlLinkRequest, attrs };
}

/** A link reference as iproute2 sends it: an index in the header, or IFLA_IFNAME. */
function refParts(ref: LinkRef): { header: Partial<Ifinfomsg>; attrs: AttrRecord } {
  return typeof ref === 'number' ? { header: { index: ref }, attrs: {} } : { header: {}, attrs: { ifname: ref } };
}

/** Decodes every RTM_NEWLINK reply of a GET or dump. */
export function linkReplies(replies: Buffer, outcome: MessageOutcome): Link[] {
  return outcome.replies.filter((r) => r.type === RTM_NEWLINK).map((r) => {
    const h = decodeIfinfomsg(replies, r.payload, r.end);
    return toLink(h, decodeRecord(replies, r.payload + align4(SIZEOF_IFINFOMSG), r.end, rtnlLink));
  });
}

function linkExplain(ref: LinkRef) {
  return (code: string) => code === 'ENODEV' ? `${describeLink(ref)} does not exist`
    : code === 'EEXIST' ? `${describeLink(ref)} already exists`
      : code === 'ENOTSUP' ? 'the kernel has no dummy links: load the dummy module (modprobe dummy) or build a kernel with CONFIG_DUMMY'
        : undefined;
}

/** Options of {@link Links.addDummy} (`ip link add NAME [address HW] [mtu N] type dummy`). @category Links and addresses */
export interface DummyLinkOptions {
  /** Bring it up in the same message (default false, like `ip link add`). */
  up?: boolean;
  /** MTU in bytes, at least 68 (`mtu N`); default the kernel's (1500 for dummy links). */
  mtu?: number;
  /** Hardware address `aa:bb:cc:dd:ee:ff` (default: random). */
  address?: string;
}

function parseHwaddr(text: string, op: string): Buffer {
  if (typeof text !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text)) throw new TypeError(`${op}: ${quote(text)} is not a MAC address aa:bb:cc:dd:ee:ff`);
  return Buffer.from(text.split(':').map((x) => parseInt(x, 16)));
}

function checkMtu(mtu: unknown, op: string): number {
  if (!Number.isInteger(mtu) || (mtu as number) < 68 || (mtu as number) > 0xffffffff) throw new RangeError(`${op}: mtu must be an integer of at least 68, got ${quote(mtu)}`);
  return mtu as number;
}

/**
 * RTM_NEWLINK with NLM_F_CREATE | NLM_F_EXCL and IFLA_LINKINFO { IFLA_INFO_KIND "dummy" }.
 * Equivalent to `ip link add NAME type dummy`. Errors: EEXIST the name is taken; ENOTSUP (errno
 * 95, also called EOPNOTSUPP) the kernel has no dummy links.
 */
export function addDummyOp(name: string, options: DummyLinkOptions = {}): Operation {
  const op = 'links.addDummy';
  checkLinkName(name, op);
  checkOptions(options, DUMMY_KEYS, op);
  checkUp(options.up, op);
  const attrs: AttrRecord = { ifname: name };
  if (options.mtu !== undefined) attrs.mtu = checkMtu(options.mtu, op);
  if (options.address !== undefined) attrs.address = parseHwaddr(options.address, op);
  attrs.linkinfo = { kind: 'dummy' };
  const up = options.up ? { flags: IFF_UP, change: IFF_UP } : {};
  return { op, message: message(RTM_NEWLINK, up, attrs, NLM_F_CREATE | NLM_F_EXCL), explain: linkExplain(name) };
}

/** RTM_DELLINK. Equivalent to `ip link del NAME`. Errors: ENODEV no such link. */
export function deleteLinkOp(ref: LinkRef): Operation {
  const op = 'links.delete';
  const r = refParts(checkLinkRef(ref, op));
  return { op, message: message(RTM_DELLINK, r.header, r.attrs), explain: linkExplain(ref) };
}

/** Settings of {@link Links.set} (`ip link set NAME up|down [mtu N]`); absent ones stay as they are. @category Links and addresses */
export interface LinkSettings {
  /** Up (`ip link set NAME up`) or down. */
  up?: boolean;
  /** MTU in bytes, at least 68 (`ip link set NAME mtu N`). */
  mtu?: number;
}

/** RTM_NEWLINK without NLM_F_CREATE: changes an existing link. Equivalent to `ip link set NAME up|down [mtu N]`. Errors: ENODEV no such link. */
export function setLinkOp(ref: LinkRef, settings: LinkSettings): Operation {
  const op = 'links.set';
  const r = refParts(checkLinkRef(ref, op));
  checkObject(settings, op, 'settings');
  checkKeys(settings, SETTINGS_KEYS, op);
  checkUp(settings.up, op);
  const header: Partial<Ifinfomsg> = { ...r.header };
  if (settings.up !== undefined) {
    header.flags = settings.up ? IFF_UP : 0;
    header.change = IFF_UP;
  }
  const attrs = { ...r.attrs };
  if (settings.mtu !== undefined) attrs.mtu = checkMtu(settings.mtu, op);
  return { op, message: message(RTM_NEWLINK, header, attrs), explain: linkExplain(ref) };
}

/** RTM_GETLINK of one link (without statistics). Equivalent to `ip -j link show dev NAME`. Errors: ENODEV no such link. */
export function getLinkOp(ref: LinkRef): Operation<Link> {
  const op = 'links.get';
  const r = refParts(checkLinkRef(ref, op));
  return {
    op,
    message: message(RTM_GETLINK, r.header, { ...r.attrs, extMask: RTEXT_FILTER_SKIP_STATS }),
    explain: linkExplain(ref),
    decode: (replies, outcome) => {
      const [link] = linkReplies(replies, outcome);
      if (!link) throw new NetlinkError({ code: 'EPROTO', errno: -71, op, detail: `the kernel sent no link for ${describeLink(ref)}` });
      return link;
    },
  };
}

/** RTM_GETLINK dump of every link. Equivalent to `ip -j link`. */
export function listLinksOp(): Operation<Link[]> {
  return {
    op: 'links.list',
    message: message(RTM_GETLINK, {}, { extMask: RTEXT_FILTER_SKIP_STATS }, NLM_F_DUMP),
    decode: linkReplies,
  };
}
