// How rtnetlink messages are framed in the golden fixtures (test/golden/rtnl-*): ifinfomsg for
// link messages, ifaddrmsg for address messages, and the library's schema for each.
import type { GoldenFamily } from './ipset-rtnl-golden';
import { decodeIfinfomsg, encodeIfinfomsg, rtnlLink, rtnlLinkRequest } from '../../src/schema/rtnl-link';
import { decodeIfaddrmsg, encodeIfaddrmsg, rtnlAddr } from '../../src/schema/rtnl-addr';
import * as R from '../../src/uapi/rtnetlink';

const LINK = new Set([R.RTM_NEWLINK, R.RTM_DELLINK, R.RTM_GETLINK, R.RTM_SETLINK]);
const ADDR = new Set([R.RTM_NEWADDR, R.RTM_DELADDR, R.RTM_GETADDR]);
const NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(R)) if (/^RTM_(NEW|DEL|GET|SET)(LINK|ADDR)$/.test(k)) NAMES.set(v as number, k);

export const rtnlFamily: GoldenFamily = {
  fixedSize: (type) => (LINK.has(type) ? R.SIZEOF_IFINFOMSG : ADDR.has(type) ? R.SIZEOF_IFADDRMSG : 0),
  decodeFixed: (buf, off, type) => {
    if (LINK.has(type)) return { ...decodeIfinfomsg(buf, off, buf.length) };
    if (ADDR.has(type)) return { ...decodeIfaddrmsg(buf, off, buf.length) };
    return {};
  },
  encodeFixed: (f, type) => (LINK.has(type) ? encodeIfinfomsg(f) : ADDR.has(type) ? encodeIfaddrmsg(f) : Buffer.alloc(0)),
  schemaFor: (type, dir) => (LINK.has(type) ? (dir === 'request' ? rtnlLinkRequest : rtnlLink) : ADDR.has(type) ? rtnlAddr : undefined),
  typeName: (type) => NAMES.get(type) ?? `type ${type}`,
};
