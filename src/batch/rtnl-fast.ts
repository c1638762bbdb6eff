/**
 * The batch's fast path for IPv4 address changes without options (what kube-proxy and
 * reconcile queue by the thousand): the message is the builder's own, encoded once per kind for a
 * sample and patched per change, instead of an operation, a header Buffer and an attribute
 * record per address. Anything else goes through the builders; unit tests compare the bytes.
 *
 * @module
 * @internal
 */
import * as addrOps from '../address/ops';
import type { AddressOptions } from '../address/address';
import { encodeMessages } from '../netlink/message';
import type { Operation } from '../netlink/operation';
import { parseIPv4 } from '../netlink/address';
import { rtnlAddr } from '../schema/rtnl-addr';
import { AF_INET } from '../uapi/netlink';
import { attrSpans } from '../netlink/attr';

export type AddressKind = 'addAddress' | 'replaceAddress' | 'deleteAddress';

/** The builder's message for a sample address, and where its values sit. */
export interface AddressLayout {
  bytes: Buffer;
  /** Payload offsets of IFA_LOCAL and IFA_ADDRESS. */
  local: number;
  address: number;
}

/** Offsets in the message: ifaddrmsg's prefix length and link index. */
const PREFIXLEN_AT = 16 + 1;
const INDEX_AT = 16 + 4;
const SAMPLE_CIDR = '10.0.0.1/24';

/** The generic operation of an address change (the builders', with their checks and explanations). */
export function addressOp(kind: AddressKind, index: number, cidr: string, options: AddressOptions): Operation {
  return kind === 'addAddress' ? addrOps.addAddressOp(index, cidr, options)
    : kind === 'replaceAddress' ? addrOps.replaceAddressOp(index, cidr, options)
      : addrOps.deleteAddressOp(index, cidr);
}

const layouts = new Map<AddressKind, AddressLayout | null>();

/** The layout of a kind, read from the builder's message; null when it is not the one expected (everything then goes to the builder). */
export function addressLayout(kind: AddressKind): AddressLayout | null {
  let l = layouts.get(kind);
  if (l !== undefined) return l;
  const bytes = encodeMessages([addressOp(kind, 1, SAMPLE_CIDR, {}).message], 0);
  const attrs = attrSpans(bytes, 24, bytes.length);
  // the payload offset of a 4-byte attribute, else -1
  const v4At = (id: number) => {
    const a = attrs.find(([i]) => i === id);
    return a && a[2] - a[1] === 8 ? a[1] + 4 : -1;
  };
  const local = v4At(rtnlAddr.attrs.local!.id), address = v4At(rtnlAddr.attrs.address!.id);
  l = bytes[16] === AF_INET && local >= 0 && address >= 0 && attrs.length === 2 ? { bytes, local, address } : null;
  layouts.set(kind, l);
  return l;
}

/**
 * `A.B.C.D/LEN` as one number, `address * 64 + prefix length` (address as a u32), accepting
 * exactly what the builders accept for IPv4 (a prefix of digits, at most 32; none means /32);
 * -1 for anything else.
 */
export function parseIPv4Cidr(cidr: unknown): number {
  if (typeof cidr !== 'string') return -1;
  const slash = cidr.indexOf('/');
  const v4 = parseIPv4(cidr, slash < 0 ? cidr.length : slash);
  if (v4 < 0) return -1;
  if (slash < 0) return v4 * 64 + 32;
  if (slash === cidr.length - 1) return -1;
  let len = 0;
  for (let i = slash + 1; i < cidr.length; i++) {
    const c = cidr.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    len = len * 10 + (c - 48);
    if (len > 32) return -1;
  }
  return v4 * 64 + len;
}

/** Writes a change's message from its layout at `off`; `cidr` is {@link parseIPv4Cidr}'s number. */
export function writeAddress(l: AddressLayout, buf: Buffer, off: number, seq: number, index: number, cidr: number): void {
  const v4 = Math.floor(cidr / 64);
  buf.set(l.bytes, off);
  buf.writeUInt32LE(seq >>> 0, off + 8);
  buf[off + PREFIXLEN_AT] = cidr % 64;
  buf.writeUInt32LE(index, off + INDEX_AT);
  buf.writeUInt32BE(v4, off + l.local);
  buf.writeUInt32BE(v4, off + l.address);
}
