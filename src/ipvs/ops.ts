/**
 * IPVS operations as data: each builder checks its input (TypeError/RangeError before anything is
 * sent) and returns an {@link Operation} that a single call or a batch can carry. Messages carry
 * their attributes in the order ipvsadm writes them, so requests match its bytes.
 */
import { decodeRecord, type AttrRecord, type Schema } from '../netlink/attr';
import { genlHeader, type GenlFamily } from '../netlink/genl';
import { NetlinkError } from '../netlink/errors';
import type { Operation } from '../netlink/operation';
import type { MessageOutcome } from '../netlink/protocol';
import type { OutMessage } from '../netlink/message';
import { ipvsCmd, ipvsInfo } from '../schema/ipvs';
import {
  IPVS_CMD_DEL_DAEMON, IPVS_CMD_DEL_DEST, IPVS_CMD_DEL_SERVICE, IPVS_CMD_FLUSH, IPVS_CMD_GET_CONFIG,
  IPVS_CMD_GET_DAEMON, IPVS_CMD_GET_DEST, IPVS_CMD_GET_INFO, IPVS_CMD_GET_SERVICE, IPVS_CMD_NEW_DAEMON,
  IPVS_CMD_NEW_DEST, IPVS_CMD_NEW_SERVICE, IPVS_CMD_SET_CONFIG, IPVS_CMD_SET_DEST, IPVS_CMD_SET_SERVICE,
  IPVS_CMD_ZERO,
} from '../uapi/ip-vs';
import { NLM_F_DUMP } from '../uapi/netlink';
import { SIZEOF_GENLMSGHDR } from '../uapi/genetlink';
import {
  describeService, serviceAttrs, serviceKeyAttrs, toService, type IpvsService, type IpvsServiceKey, type IpvsServiceOptions,
} from './service';
import {
  describeDestination, destinationAttrs, destinationKeyAttrs, toDestination,
  type IpvsDestination, type IpvsDestinationKey, type IpvsDestinationOptions,
} from './destination';
import { daemonAttrs, daemonStateNumber, toDaemon, type IpvsDaemon, type IpvsDaemonOptions, type IpvsDaemonState } from './daemon';
import { timeoutAttrs, toInfo, toTimeouts, type IpvsInfo, type IpvsTimeouts, type IpvsTimeoutsOptions } from './config';

/** An IPVS request message (generic netlink, the family's id and version). */
export function ipvsMessage(family: GenlFamily, cmd: number, attrs: AttrRecord, flags = 0): OutMessage {
  return { type: family.id, flags, fixed: genlHeader(cmd, family.version), schema: ipvsCmd, attrs };
}

/** Decodes every data reply of a GET or dump with a first-level schema. */
function records(replies: Buffer, outcome: MessageOutcome, schema: Schema = ipvsCmd, family?: number): AttrRecord[] {
  return outcome.replies.map((r) => decodeRecord(replies, r.payload + SIZEOF_GENLMSGHDR, r.end, schema, schema.name, family));
}

function schedulerAdvice(s: IpvsServiceOptions): string {
  const sched = s.scheduler ?? 'wlc';
  const pe = s.pe === undefined ? '' : ` or persistence engine '${s.pe}'`;
  const modules = `ip_vs_${sched}${s.pe === undefined ? '' : `, ip_vs_pe_${s.pe}`}`;
  return `scheduler '${sched}'${pe} not found: the kernel has no such module or cannot load it (${modules})`;
}

/** The service of a destination call refused with ESRCH, and the other codes a destination call has. */
function destExplain(s: IpvsServiceKey, d: IpvsDestinationKey) {
  return (code: string): string | undefined => {
    switch (code) {
      case 'ESRCH': return `service ${describeService(s)} not defined`;
      case 'EEXIST': return `destination ${describeDestination(d)} already exists in service ${describeService(s)}`;
      case 'ENOENT': return `destination ${describeDestination(d)} not found in service ${describeService(s)}`;
      case 'ERANGE': return `destination ${describeDestination(d)}: weight or thresholds out of range (lower threshold above upper?)`;
      case 'EINVAL': return `destination ${describeDestination(d)} refused: address not unicast, loopback down, or a mixed-family destination while a sync daemon runs`;
      default: return undefined;
    }
  };
}

/** `ipvsadm -A`: IPVS_CMD_NEW_SERVICE. EEXIST: exists; ENOENT: scheduler or persistence engine unknown. */
export function addServiceOp(f: GenlFamily, s: IpvsServiceOptions): Operation {
  const op = 'ipvs.addService';
  const attrs = serviceAttrs(s, op);
  return {
    op,
    message: ipvsMessage(f, IPVS_CMD_NEW_SERVICE, { service: attrs }),
    explain: (code) => code === 'EEXIST' ? `service ${describeService(s)} already exists`
      : code === 'ENOENT' ? schedulerAdvice(s) : undefined,
  };
}

/** `ipvsadm -E`: IPVS_CMD_SET_SERVICE. ESRCH: no such service; ENOENT: scheduler or persistence engine unknown. */
export function editServiceOp(f: GenlFamily, s: IpvsServiceOptions): Operation {
  const op = 'ipvs.editService';
  const attrs = serviceAttrs(s, op);
  return {
    op,
    message: ipvsMessage(f, IPVS_CMD_SET_SERVICE, { service: attrs }),
    explain: (code) => code === 'ESRCH' ? `service ${describeService(s)} not defined`
      : code === 'ENOENT' ? schedulerAdvice(s) : undefined,
  };
}

/** `ipvsadm -D`: IPVS_CMD_DEL_SERVICE. ESRCH: no such service. */
export function deleteServiceOp(f: GenlFamily, k: IpvsServiceKey): Operation {
  const op = 'ipvs.deleteService';
  return {
    op,
    message: ipvsMessage(f, IPVS_CMD_DEL_SERVICE, { service: serviceKeyAttrs(k, op) }),
    explain: (code) => code === 'ESRCH' ? `service ${describeService(k)} not defined` : undefined,
  };
}

/** IPVS_CMD_GET_SERVICE for one service. ESRCH: no such service. */
export function getServiceOp(f: GenlFamily, k: IpvsServiceKey): Operation<IpvsService> {
  const op = 'ipvs.getService';
  return {
    op,
    message: ipvsMessage(f, IPVS_CMD_GET_SERVICE, { service: serviceKeyAttrs(k, op) }),
    explain: (code) => code === 'ESRCH' ? `service ${describeService(k)} not defined` : undefined,
    decode: (replies, outcome) => {
      const rec = records(replies, outcome)[0];
      if (!rec?.service) throw new NetlinkError({ code: 'EPROTO', errno: -71, op, detail: 'the kernel answered without a service' });
      return toService(rec.service as AttrRecord);
    },
  };
}

/** IPVS_CMD_GET_SERVICE dump: every service, in the kernel's hash-table order. */
export function listServicesOp(f: GenlFamily): Operation<IpvsService[]> {
  return {
    op: 'ipvs.listServices',
    message: ipvsMessage(f, IPVS_CMD_GET_SERVICE, {}, NLM_F_DUMP),
    decode: (replies, outcome) => records(replies, outcome)
      .filter((r) => r.service)
      .map((r) => toService(r.service as AttrRecord)),
  };
}

/** `ipvsadm -C`: IPVS_CMD_FLUSH. */
export function flushOp(f: GenlFamily): Operation {
  return { op: 'ipvs.flush', message: ipvsMessage(f, IPVS_CMD_FLUSH, {}) };
}

/** `ipvsadm -Z [service]`: IPVS_CMD_ZERO, of one service or (without a key) of all. ESRCH: no such service. */
export function zeroOp(f: GenlFamily, k?: IpvsServiceKey): Operation {
  const op = 'ipvs.zero';
  const attrs: AttrRecord = k === undefined ? {} : { service: serviceKeyAttrs(k, op) };
  return {
    op,
    message: ipvsMessage(f, IPVS_CMD_ZERO, attrs),
    explain: (code) => code === 'ESRCH' && k !== undefined ? `service ${describeService(k)} not defined` : undefined,
  };
}

/** `ipvsadm -a`: IPVS_CMD_NEW_DEST. ESRCH: no such service; EEXIST: destination exists; ERANGE; EINVAL. */
export function addDestinationOp(f: GenlFamily, s: IpvsServiceKey, d: IpvsDestinationOptions): Operation {
  const op = 'ipvs.addDestination';
  const service = serviceKeyAttrs(s, op);
  return {
    op,
    message: ipvsMessage(f, IPVS_CMD_NEW_DEST, { service, dest: destinationAttrs(d, op, service.af as number) }),
    explain: destExplain(s, d),
  };
}

/** `ipvsadm -e`: IPVS_CMD_SET_DEST. ESRCH: no such service; ENOENT: no such destination. */
export function editDestinationOp(f: GenlFamily, s: IpvsServiceKey, d: IpvsDestinationOptions): Operation {
  const op = 'ipvs.editDestination';
  const service = serviceKeyAttrs(s, op);
  return {
    op,
    message: ipvsMessage(f, IPVS_CMD_SET_DEST, { service, dest: destinationAttrs(d, op, service.af as number) }),
    explain: destExplain(s, d),
  };
}

/** `ipvsadm -d`: IPVS_CMD_DEL_DEST. ESRCH: no such service; ENOENT: no such destination. */
export function deleteDestinationOp(f: GenlFamily, s: IpvsServiceKey, d: IpvsDestinationKey): Operation {
  const op = 'ipvs.deleteDestination';
  return {
    op,
    message: ipvsMessage(f, IPVS_CMD_DEL_DEST, { service: serviceKeyAttrs(s, op), dest: destinationKeyAttrs(d, op) }),
    explain: destExplain(s, d),
  };
}

/**
 * IPVS_CMD_GET_DEST dump: a service's destinations. The kernel answers an empty dump for a
 * service that does not exist (ip_vs_genl_dump_dests), so this cannot tell the two apart.
 */
export function listDestinationsOp(f: GenlFamily, s: IpvsServiceKey): Operation<IpvsDestination[]> {
  const op = 'ipvs.listDestinations';
  const key = serviceKeyAttrs(s, op);
  return {
    op,
    message: ipvsMessage(f, IPVS_CMD_GET_DEST, { service: key }, NLM_F_DUMP),
    explain: (code) => code === 'ESRCH' ? `service ${describeService(s)} not defined` : undefined,
    // destinations of kernels before 4.3 carry no family of their own: theirs is the service's
    decode: (replies, outcome) => records(replies, outcome, ipvsCmd, key.af as number)
      .filter((r) => r.dest)
      .map((r) => toDestination(r.dest as AttrRecord, key.af as number)),
  };
}

/** `ipvsadm -L --timeout`: IPVS_CMD_GET_CONFIG. */
export function getTimeoutsOp(f: GenlFamily): Operation<IpvsTimeouts> {
  return {
    op: 'ipvs.getTimeouts',
    message: ipvsMessage(f, IPVS_CMD_GET_CONFIG, {}),
    decode: (replies, outcome) => toTimeouts(records(replies, outcome)[0] ?? {}),
  };
}

/** `ipvsadm --set tcp tcpfin udp`: IPVS_CMD_SET_CONFIG. */
export function setTimeoutsOp(f: GenlFamily, t: IpvsTimeoutsOptions): Operation {
  const op = 'ipvs.setTimeouts';
  return { op, message: ipvsMessage(f, IPVS_CMD_SET_CONFIG, timeoutAttrs(t, op)) };
}

/** IPVS_CMD_GET_INFO: version and connection table size. */
export function getInfoOp(f: GenlFamily): Operation<IpvsInfo> {
  return {
    op: 'ipvs.getInfo',
    message: ipvsMessage(f, IPVS_CMD_GET_INFO, {}),
    // the reply's attributes are IPVS_INFO_ATTR_*, whose ids overlap the command attributes
    decode: (replies, outcome) => toInfo(records(replies, outcome, ipvsInfo)[0] ?? {}),
  };
}

/** `ipvsadm --start-daemon`: IPVS_CMD_NEW_DAEMON. EEXIST: one of that state runs; ENODEV: no such interface. */
export function startDaemonOp(f: GenlFamily, d: IpvsDaemonOptions): Operation {
  const op = 'ipvs.startDaemon';
  const attrs = daemonAttrs(d, op);
  return {
    op,
    message: ipvsMessage(f, IPVS_CMD_NEW_DAEMON, { daemon: attrs }),
    explain: (code) => code === 'EEXIST' ? `a ${d.state} sync daemon is already running`
      : code === 'ENODEV' ? `no interface named '${d.interface}'`
        : code === 'EINVAL' ? `${d.state} sync daemon refused: a service has destinations of another address family (the sync protocol cannot carry them), or a value is out of range`
          : undefined,
  };
}

/**
 * `ipvsadm --stop-daemon`: IPVS_CMD_DEL_DAEMON. ESRCH: none of that state runs.
 *
 * The kernel may send no answer at all: stopping a sync thread that has not begun to run yet (a
 * stop right after a start) makes kthread_stop() return -EINTR, and netlink_rcv_skb() sends no
 * acknowledgement for -EINTR, although the daemon is stopped. So never send this message last in
 * an exchange: follow it with any request (Ipvs.stopDaemon and Ipvs.apply add a GET_INFO), whose
 * answer shows the stop was processed.
 */
export function stopDaemonOp(f: GenlFamily, state: IpvsDaemonState): Operation {
  const op = 'ipvs.stopDaemon';
  const n = daemonStateNumber(state, op);
  return {
    op,
    message: ipvsMessage(f, IPVS_CMD_DEL_DAEMON, { daemon: { state: n } }),
    explain: (code) => code === 'ESRCH' ? `no ${state} sync daemon is running` : undefined,
  };
}

/** `ipvsadm -L --daemon`: IPVS_CMD_GET_DAEMON dump (master first, then backup). */
export function listDaemonsOp(f: GenlFamily): Operation<IpvsDaemon[]> {
  return {
    op: 'ipvs.listDaemons',
    message: ipvsMessage(f, IPVS_CMD_GET_DAEMON, {}, NLM_F_DUMP),
    decode: (replies, outcome) => records(replies, outcome)
      .map((r) => (r.daemon ? toDaemon(r.daemon as AttrRecord) : undefined))
      .filter((d): d is IpvsDaemon => d !== undefined),
  };
}
