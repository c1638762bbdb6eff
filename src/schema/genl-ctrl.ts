import { defineSchema } from '../netlink/attr';
import { CONSTANTS as K } from '../uapi/genetlink';

/** A multicast group of a generic-netlink family (CTRL_ATTR_MCAST_GRP_*). */
export const ctrlMcastGroup = defineSchema('genl.ctrl.mcastGroup', K, {
  name: { nla: 'CTRL_ATTR_MCAST_GRP_NAME', type: 'string', doc: 'Group name.' },
  id: { nla: 'CTRL_ATTR_MCAST_GRP_ID', type: 'u32', doc: 'Group id to subscribe to.' },
});

/** An operation a family supports (CTRL_ATTR_OP_*). */
export const ctrlOp = defineSchema('genl.ctrl.op', K, {
  id: { nla: 'CTRL_ATTR_OP_ID', type: 'u32', doc: 'Command number.' },
  flags: { nla: 'CTRL_ATTR_OP_FLAGS', type: 'u32', doc: 'GENL_* flags of the command (GENL_ADMIN_PERM ...).' },
});

/** The generic-netlink controller's family description (CTRL_CMD_GETFAMILY). */
export const ctrlFamily = defineSchema('genl.ctrl', K, {
  familyId: { nla: 'CTRL_ATTR_FAMILY_ID', type: 'u16', doc: 'Numeric id: the nlmsg_type of the family\'s messages.' },
  familyName: { nla: 'CTRL_ATTR_FAMILY_NAME', type: 'string', doc: 'Family name, e.g. "IPVS".' },
  version: { nla: 'CTRL_ATTR_VERSION', type: 'u32', doc: 'Family version to put in genlmsghdr.' },
  hdrsize: { nla: 'CTRL_ATTR_HDRSIZE', type: 'u32', doc: 'Size of the family\'s user header.' },
  maxattr: { nla: 'CTRL_ATTR_MAXATTR', type: 'u32', doc: 'Highest attribute number the family knows.' },
  ops: { nla: 'CTRL_ATTR_OPS', type: 'list', itemId: 0, nested: ctrlOp, doc: 'Supported commands.' },
  mcastGroups: { nla: 'CTRL_ATTR_MCAST_GROUPS', type: 'list', itemId: 0, nested: ctrlMcastGroup, doc: 'Multicast groups.' },
});
