/**
 * ipset's own error codes (IPSET_ERR_*, 4096 and up) as typed codes with the ipset tool's meanings
 * (lib/errcode.c). Codes from IPSET_ERR_TYPE_SPECIFIC up mean different things per set type, so
 * they are named with the type when it is known.
 */
import { CONSTANTS as K } from '../uapi/ipset';
import { CONSTANTS as H } from '../uapi/ipset-hash';
import { CONSTANTS as B } from '../uapi/ipset-bitmap';
import { CONSTANTS as L } from '../uapi/ipset-list';
import { errnoName, NetlinkError, type ExtAck } from '../netlink/errors';
import { IPSET_CMD_ADD, IPSET_CMD_CREATE, IPSET_CMD_DEL, IPSET_CMD_DESTROY, IPSET_CMD_PROTOCOL, IPSET_CMD_RENAME, IPSET_CMD_SWAP, IPSET_CMD_TYPE } from '../uapi/ipset';

function names(mod: Record<string, unknown>): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(mod)) if (k.startsWith('IPSET_ERR_') && typeof v === 'number' && !m.has(v)) m.set(v, k);
  return m;
}

/** The name tables, built the first time an ipset error is named (not at start-up). */
let tables: { core: Map<number, string>; hash: Map<number, string>; bitmap: Map<number, string>; list: Map<number, string> } | undefined;
function errorTables(): NonNullable<typeof tables> {
  if (!tables) {
    const core = names(K);
    core.delete(K.IPSET_ERR_TYPE_SPECIFIC);
    tables = { core, hash: names(H), bitmap: names(B), list: names(L) };
  }
  return tables;
}

function typeTable(type: string | undefined): Map<number, string> | undefined {
  if (!type) return undefined;
  if (type.startsWith('hash:')) return errorTables().hash;
  if (type.startsWith('bitmap:')) return errorTables().bitmap;
  if (type.startsWith('list:')) return errorTables().list;
  return undefined;
}

/**
 * The code of a (negative) errno from an ipset command: `'IPSET_ERR_EXIST'`, `'IPSET_ERR_HASH_FULL'`
 * (with `type`), `'IPSET_ERR_TYPE_SPECIFIC+1'` (type-specific without a known type), or the
 * system name (`'ENOENT'`).
 */
export function ipsetErrorCode(errno: number, type?: string): string {
  const n = Math.abs(errno);
  if (n < K.IPSET_ERR_PRIVATE) return errnoName(errno);
  if (n >= K.IPSET_ERR_TYPE_SPECIFIC) {
    const name = typeTable(type)?.get(n);
    return name ?? `IPSET_ERR_TYPE_SPECIFIC+${n - K.IPSET_ERR_TYPE_SPECIFIC}`;
  }
  return errorTables().core.get(n) ?? `IPSET_ERR_${n}`;
}

/** The set types Linux has (net/netfilter/ipset), each in a module of its own. */
const KERNEL_SET_TYPES = new Set([
  'bitmap:ip', 'bitmap:ip,mac', 'bitmap:port', 'hash:ip', 'hash:ip,mac', 'hash:ip,mark', 'hash:ip,port', 'hash:ip,port,ip',
  'hash:ip,port,net', 'hash:mac', 'hash:net', 'hash:net,iface', 'hash:net,net', 'hash:net,port', 'hash:net,port,net', 'list:set',
]);

/**
 * The kernel module of a set type: `ip_set_hash_ipport` for `hash:ip,port` (the module's file name;
 * the kernel asks for it by the alias `ip_set_hash:ip,port`); undefined for a type Linux does not have.
 */
export function ipsetTypeModule(type: string): string | undefined {
  return KERNEL_SET_TYPES.has(type) ? `ip_set_${type.replace(':', '_').replace(/,/g, '')}` : undefined;
}

/**
 * Advice for a kernel without the ip_set module. nfnetlink answers a message for a subsystem
 * nobody registered with a bare EINVAL (nfnetlink.c, after trying to load `nfnetlink-subsys-6`),
 * and the first message a handle sends is IPSET_CMD_PROTOCOL.
 */
export const IPSET_MISSING_ADVICE = 'the kernel has no ipset: load the ip_set module (modprobe ip_set) or build a kernel with CONFIG_IP_SET';

// The tool's meanings, per command where it has one (0: any command).
const MEANINGS: [string, number, string][] = [
  ['EINVAL', IPSET_CMD_PROTOCOL, IPSET_MISSING_ADVICE],
  ['ENOENT', 0, 'the set does not exist'],
  ['EMSGSIZE', 0, 'the kernel could not build its reply message'],
  ['IPSET_ERR_PROTOCOL', 0, 'ipset protocol error: the kernel refused the message format'],
  ['EEXIST', IPSET_CMD_CREATE, 'a set with that name already exists'],
  ['IPSET_ERR_FIND_TYPE', 0, 'the kernel does not support this set type (or revision, or family)'],
  ['IPSET_ERR_MAX_SETS', 0, 'the kernel\'s maximal number of sets is reached'],
  ['IPSET_ERR_INVALID_NETMASK', 0, 'the netmask value is invalid'],
  ['IPSET_ERR_INVALID_MARKMASK', 0, 'the markmask value is invalid'],
  ['IPSET_ERR_INVALID_FAMILY', 0, 'the set type does not support this protocol family'],
  ['IPSET_ERR_BUSY', IPSET_CMD_DESTROY, 'the set is in use by a kernel component (a rule or a list:set)'],
  ['IPSET_ERR_EXIST_SETNAME2', IPSET_CMD_RENAME, 'a set with the new name already exists'],
  ['IPSET_ERR_REFERENCED', IPSET_CMD_RENAME, 'the set is in use by another component and cannot be renamed'],
  ['IPSET_ERR_EXIST_SETNAME2', IPSET_CMD_SWAP, 'the second set does not exist'],
  ['IPSET_ERR_TYPE_MISMATCH', IPSET_CMD_SWAP, 'the sets cannot be swapped: their types differ'],
  ['IPSET_ERR_INVALID_CIDR', 0, 'the CIDR prefix length of the address is invalid'],
  ['IPSET_ERR_TIMEOUT', 0, 'timeout cannot be used: the set was created without timeout support'],
  ['IPSET_ERR_IPADDR_IPV4', 0, 'an IPv4 address is expected, but not received'],
  ['IPSET_ERR_IPADDR_IPV6', 0, 'an IPv6 address is expected, but not received'],
  ['IPSET_ERR_COUNTER', 0, 'packet/byte counters cannot be used: the set was created without counter support'],
  ['IPSET_ERR_COMMENT', 0, 'comment cannot be used: the set was created without comment support'],
  ['IPSET_ERR_SKBINFO', 0, 'skbinfo cannot be used: the set was created without skbinfo support'],
  ['IPSET_ERR_EXIST', IPSET_CMD_ADD, 'the element is already in the set'],
  ['IPSET_ERR_EXIST', IPSET_CMD_DEL, 'the element is not in the set'],
  ['EEXIST', IPSET_CMD_TYPE, 'the kernel does not support this set type'],
  ['IPSET_ERR_BITMAP_RANGE', 0, 'the element is out of the range of the set'],
  ['IPSET_ERR_BITMAP_RANGE_SIZE', IPSET_CMD_CREATE, 'the range exceeds the size limit of the set type'],
  ['IPSET_ERR_HASH_FULL', 0, 'the hash is full, no more elements can be added'],
  ['IPSET_ERR_HASH_ELEM', 0, 'a null-valued element cannot be stored in a hash set'],
  ['IPSET_ERR_INVALID_PROTO', 0, 'invalid protocol'],
  ['IPSET_ERR_MISSING_PROTO', 0, 'the protocol is missing but must be given'],
  ['IPSET_ERR_HASH_RANGE_UNSUPPORTED', 0, 'a range is not supported in the "net" component of the element'],
  ['IPSET_ERR_HASH_RANGE', 0, 'invalid range: it covers the whole address space'],
  ['IPSET_ERR_NAME', 0, 'the set to be added, deleted or tested as an element does not exist'],
  ['IPSET_ERR_LOOP', 0, 'a list:set cannot be a member of a list:set'],
  ['IPSET_ERR_BEFORE', 0, 'no reference set was given'],
  ['IPSET_ERR_NAMEREF', 0, 'the set named with before/after does not exist'],
  ['IPSET_ERR_LIST_FULL', 0, 'the list:set is full, no more members can be added'],
  ['IPSET_ERR_REF_EXIST', 0, 'the set named with before/after is not a member of the list'],
];

/**
 * The ipset tool's meaning of a code for command `cmd`, if it has one. With the set's `type`, a
 * type the kernel cannot find names the module that holds it (for the types Linux has).
 */
export function ipsetErrorMeaning(code: string, cmd: number, type?: string): string | undefined {
  const m = code === 'IPSET_ERR_FIND_TYPE' && type ? ipsetTypeModule(type) : undefined;
  if (m) {
    return `the kernel has no set type ${type} (or not this revision or family): load the ${m} module (modprobe ${m})`;
  }
  let generic: string | undefined;
  for (const [c, forCmd, text] of MEANINGS) {
    if (c !== code) continue;
    if (forCmd === cmd) return text;
    if (forCmd === 0) generic ??= text;
  }
  return generic;
}

/** Fields of an {@link IpsetEntryError} beyond those of NetlinkError. @category Errors */
export interface IpsetEntryErrorInit {
  /** Symbolic code: `'IPSET_ERR_EXIST'`, `'IPSET_ERR_HASH_FULL'`, or a system name such as `'ENOENT'`. */
  code: string;
  /** Negative errno, as the kernel returned it (ipset's own codes are 4096 and up). */
  errno: number;
  /** The operation, named as the facade names it: `'ipset.add'`. */
  op: string;
  /** A sentence in the user's terms; the code is appended in parentheses. */
  detail: string;
  /** The operation's index in its batch, when it was part of one. */
  index?: number;
  /** What the kernel said beyond the errno. */
  extack?: ExtAck;
  /** Index of the refused entry in the list the caller passed. */
  entryIndex: number;
  /** The refused entry as text, in the set's syntax (or JSON when the type is unknown). */
  entryText: string;
  /** How many entries before it were applied (all earlier ones: the kernel stops at the refusal). */
  applied: number;
}

/**
 * A refusal of one entry of a bulk add, delete or test. The kernel applies the entries of a bulk
 * message in order and stops at the first refusal, so every earlier entry was applied and none
 * after it: `applied` is `entryIndex`.
 * @category Errors
 */
export class IpsetEntryError extends NetlinkError {
  /** Index of the refused entry in the list the caller passed. */
  readonly entryIndex: number;
  /** The refused entry as text, in the set's syntax (or JSON when the type is unknown). */
  readonly entryText: string;
  /** How many entries before it were applied: equal to `entryIndex`. */
  readonly applied: number;
  /** Builds the error; `init` adds the entry's position and text to {@link NetlinkError}'s fields. */
  constructor(init: IpsetEntryErrorInit) {
    super(init);
    this.name = 'IpsetEntryError';
    this.entryIndex = init.entryIndex;
    this.entryText = init.entryText;
    this.applied = init.applied;
  }
}
