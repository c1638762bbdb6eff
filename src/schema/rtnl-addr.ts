/**
 * rtnetlink addresses (<linux/if_addr.h>): the ifaddrmsg header and the IFA_* attributes. The
 * address family comes from the header (ifa_family); the attribute's length (4 or 16) says the
 * same, so addresses decode without a sibling.
 */
import { defineSchema } from '../netlink/attr';
import { DecodeError } from '../netlink/errors';
import { CONSTANTS as K } from '../uapi/if-addr';
import { SIZEOF_IFADDRMSG } from '../uapi/rtnetlink';

/** `struct ifaddrmsg`. */
export interface Ifaddrmsg {
  /** AF_INET or AF_INET6 (AF_UNSPEC in a dump of both). */
  family: number;
  prefixlen: number;
  /** IFA_F_* low 8 bits (IFA_FLAGS carries all 32). */
  flags: number;
  /** RT_SCOPE_*. */
  scope: number;
  /** Interface index. */
  index: number;
}

export function encodeIfaddrmsg(h: Partial<Ifaddrmsg>): Buffer {
  const b = Buffer.alloc(SIZEOF_IFADDRMSG);
  b.writeUInt8(h.family ?? 0, 0);
  b.writeUInt8(h.prefixlen ?? 0, 1);
  b.writeUInt8(h.flags ?? 0, 2);
  b.writeUInt8(h.scope ?? 0, 3);
  b.writeUInt32LE((h.index ?? 0) >>> 0, 4);
  return b;
}

/**
 * The ifaddrmsg at `off` of a message whose payload ends at `end`: DecodeError (at `path`) when the
 * payload is shorter than the header, rather than reading past the buffer or into the next message.
 */
export function decodeIfaddrmsg(buf: Buffer, off: number, end: number, path = 'address'): Ifaddrmsg {
  if (end - off < SIZEOF_IFADDRMSG) throw new DecodeError(path, `payload length ${end - off} < ${SIZEOF_IFADDRMSG}, shorter than ifaddrmsg`);
  return {
    family: buf.readUInt8(off),
    prefixlen: buf.readUInt8(off + 1),
    flags: buf.readUInt8(off + 2),
    scope: buf.readUInt8(off + 3),
    index: buf.readUInt32LE(off + 4),
  };
}

/** RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR attributes. */
export const rtnlAddr = defineSchema('address', K, {
  address: { nla: 'IFA_ADDRESS', type: 'addr', doc: 'Prefix address; the peer on point-to-point links, else the same as IFA_LOCAL.' },
  local: { nla: 'IFA_LOCAL', type: 'addr', doc: 'Local address.' },
  label: { nla: 'IFA_LABEL', type: 'string', doc: 'IPv4 label: the link name, or NAME:SUFFIX.' },
  broadcast: { nla: 'IFA_BROADCAST', type: 'addr', doc: 'IPv4 broadcast address.' },
  anycast: { nla: 'IFA_ANYCAST', type: 'addr', doc: 'Anycast address.' },
  cacheinfo: {
    nla: 'IFA_CACHEINFO', type: 'struct32', fields: ['preferred', 'valid', 'cstamp', 'tstamp'],
    doc: 'struct ifa_cacheinfo: preferred and valid lifetimes (s; 0xffffffff forever), created and updated stamps.',
  },
  multicast: { nla: 'IFA_MULTICAST', type: 'addr', doc: 'Multicast address.' },
  flags: { nla: 'IFA_FLAGS', type: 'u32', doc: 'IFA_F_* flags, all 32 bits.' },
  rtPriority: { nla: 'IFA_RT_PRIORITY', type: 'u32', doc: 'Metric of the prefix route.' },
  targetNetnsid: { nla: 'IFA_TARGET_NETNSID', type: 's32', doc: 'Act in the namespace of this id.' },
  proto: { nla: 'IFA_PROTO', type: 'u8', doc: 'IFAPROT_*: who added it (kernel 5.18+).' },
});
