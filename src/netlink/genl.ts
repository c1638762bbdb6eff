import type { Connection } from './connection';
import { decodeRecord } from './attr';
import { NetlinkError, errnoName } from './errors';
import { ctrlFamily } from '../schema/genl-ctrl';
import { CTRL_CMD_GETFAMILY, GENL_ID_CTRL, SIZEOF_GENLMSGHDR } from '../uapi/genetlink';
import { NLM_F_ACK } from '../uapi/netlink';

/** A generic-netlink family as the controller describes it. @category Advanced protocol */
export interface GenlFamily {
  /** Family name (CTRL_ATTR_FAMILY_NAME): `'IPVS'`. */
  name: string;
  /** nlmsg_type of the family's messages. */
  id: number;
  /** Version of the family's protocol (CTRL_ATTR_VERSION), sent in each genlmsghdr. */
  version: number;
  /** Bytes of family-specific header after the genlmsghdr (CTRL_ATTR_HDRSIZE); 0 for IPVS. */
  hdrsize: number;
  /** Highest attribute number the family accepts (CTRL_ATTR_MAXATTR). */
  maxattr: number;
  /** Command numbers the kernel supports. */
  commands: Set<number>;
  /** Multicast group name to id. */
  groups: Map<string, number>;
}

/** The 4-byte genlmsghdr: command, version, reserved. */
export function genlHeader(cmd: number, version: number): Buffer {
  // from the shared pool, not an ArrayBuffer of its own: every genl request has one
  const b = Buffer.allocUnsafe(SIZEOF_GENLMSGHDR).fill(0);
  b[0] = cmd;
  b[1] = version;
  return b;
}

/** Per-family advice when the kernel does not know the family. */
const MISSING_FAMILY_ADVICE: Record<string, string> = {
  IPVS: 'the kernel has no IPVS: load the ip_vs module (modprobe ip_vs) or build a kernel with CONFIG_IP_VS',
};

/**
 * Asks the controller for a family by name (CTRL_CMD_GETFAMILY).
 * Surfaces ENOENT with advice when the family is absent.
 */
export async function resolveFamily(conn: Connection, name: string): Promise<GenlFamily> {
  const ex = await conn.exchange([{
    type: GENL_ID_CTRL,
    flags: NLM_F_ACK,
    fixed: genlHeader(CTRL_CMD_GETFAMILY, 1),
    schema: ctrlFamily,
    attrs: { familyName: name },
  }]);
  const op = 'genl.resolveFamily';
  const o = ex.outcomes[0]!;
  if (ex.error && o.status === 'unknown') {
    throw new NetlinkError({ code: ex.error.code, errno: ex.error.errno, op, syscall: ex.error.syscall });
  }
  if (o.status === 'error') {
    const code = errnoName(o.errno);
    const detail = code === 'ENOENT'
      ? (MISSING_FAMILY_ADVICE[name] ?? `the kernel has no generic-netlink family '${name}'`)
      : undefined;
    throw new NetlinkError({ code, errno: o.errno, op, ...(o.extack && { extack: o.extack }), ...(detail && { detail }) });
  }
  const reply = o.replies[0];
  if (!reply) throw new NetlinkError({ code: 'EPROTO', errno: -71, op, detail: 'the controller sent no family description' });
  const rec = decodeRecord(ex.replies, reply.payload + SIZEOF_GENLMSGHDR, reply.end, ctrlFamily);
  const groups = new Map<string, number>();
  for (const g of (rec.mcastGroups as { name?: string; id?: number }[] | undefined) ?? []) {
    if (g.name !== undefined && g.id !== undefined) groups.set(g.name, g.id);
  }
  const commands = new Set<number>();
  for (const c of (rec.ops as { id?: number }[] | undefined) ?? []) if (c.id !== undefined) commands.add(c.id);
  return {
    name: rec.familyName as string,
    id: rec.familyId as number,
    version: (rec.version as number | undefined) ?? 1,
    hdrsize: (rec.hdrsize as number | undefined) ?? 0,
    maxattr: (rec.maxattr as number | undefined) ?? 0,
    commands,
    groups,
  };
}
