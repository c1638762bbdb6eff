/**
 * IPVS operations as data: each builder checks its input (TypeError/RangeError before anything is
 * sent) and returns an {@link Operation} that a single call or a batch can carry.
 */
import { decodeRecord, type AttrRecord } from '../netlink/attr';
import { genlHeader, type GenlFamily } from '../netlink/genl';
import type { Operation } from '../netlink/operation';
import type { MessageOutcome } from '../netlink/protocol';
import { ipvsCmd } from '../schema/ipvs';
import {
  IPVS_CMD_DEL_DEST, IPVS_CMD_DEL_SERVICE, IPVS_CMD_GET_DEST, IPVS_CMD_GET_SERVICE, IPVS_CMD_NEW_DEST,
  IPVS_CMD_NEW_SERVICE, IPVS_CMD_SET_DEST, IPVS_CMD_SET_SERVICE, IPVS_CMD_FLUSH,
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

function message(family: GenlFamily, cmd: number, attrs: AttrRecord, flags = 0) {
  return { type: family.id, flags, fixed: genlHeader(cmd, family.version), schema: ipvsCmd, attrs };
}

/** Decodes every reply of a GET or dump with the command schema. */
function records(replies: Buffer, outcome: MessageOutcome, family?: number): AttrRecord[] {
  return outcome.replies.map((r) => decodeRecord(replies, r.payload + SIZEOF_GENLMSGHDR, r.end, ipvsCmd, 'ipvs', family));
}

function schedulerAdvice(scheduler: string | undefined): string {
  const s = scheduler ?? 'wlc';
  return `scheduler or persistence engine not found: is '${s}' right and its module loaded (modprobe ip_vs_${s})?`;
}

export function addServiceOp(f: GenlFamily, s: IpvsServiceOptions): Operation {
  const op = 'ipvs.addService';
  const attrs = serviceAttrs(s, op);
  return {
    op,
    message: message(f, IPVS_CMD_NEW_SERVICE, { service: attrs }),
    explain: (code) => code === 'EEXIST' ? `service ${describeService(s)} already exists`
      : code === 'ENOENT' ? schedulerAdvice(s.scheduler) : undefined,
  };
}

export function editServiceOp(f: GenlFamily, s: IpvsServiceOptions): Operation {
  const op = 'ipvs.editService';
  const attrs = serviceAttrs(s, op);
  return {
    op,
    message: message(f, IPVS_CMD_SET_SERVICE, { service: attrs }),
    explain: (code) => code === 'ESRCH' ? `service ${describeService(s)} not defined`
      : code === 'ENOENT' ? schedulerAdvice(s.scheduler) : undefined,
  };
}

export function deleteServiceOp(f: GenlFamily, k: IpvsServiceKey): Operation {
  const op = 'ipvs.deleteService';
  return {
    op,
    message: message(f, IPVS_CMD_DEL_SERVICE, { service: serviceKeyAttrs(k, op) }),
    explain: (code) => code === 'ESRCH' ? `service ${describeService(k)} not defined` : undefined,
  };
}

export function getServiceOp(f: GenlFamily, k: IpvsServiceKey): Operation<IpvsService> {
  const op = 'ipvs.getService';
  return {
    op,
    message: message(f, IPVS_CMD_GET_SERVICE, { service: serviceKeyAttrs(k, op) }),
    explain: (code) => code === 'ESRCH' ? `service ${describeService(k)} not defined` : undefined,
    decode: (replies, outcome) => {
      const rec = records(replies, outcome)[0];
      if (!rec?.service) throw new TypeError(`${op}: the kernel answered without a service`);
      return toService(rec.service as AttrRecord);
    },
  };
}

export function listServicesOp(f: GenlFamily): Operation<IpvsService[]> {
  return {
    op: 'ipvs.listServices',
    message: message(f, IPVS_CMD_GET_SERVICE, {}, NLM_F_DUMP),
    decode: (replies, outcome) => records(replies, outcome)
      .filter((r) => r.service)
      .map((r) => toService(r.service as AttrRecord)),
  };
}

export function flushOp(f: GenlFamily): Operation {
  return { op: 'ipvs.flush', message: message(f, IPVS_CMD_FLUSH, {}) };
}

function destExplain(s: IpvsServiceKey, d: IpvsDestinationKey) {
  return (code: string) => code === 'ESRCH' ? `service ${describeService(s)} not defined`
    : code === 'EEXIST' ? `destination ${describeDestination(d)} already exists in service ${describeService(s)}`
      : code === 'ENOENT' ? `destination ${describeDestination(d)} not found in service ${describeService(s)}`
        : undefined;
}

export function addDestinationOp(f: GenlFamily, s: IpvsServiceKey, d: IpvsDestinationOptions): Operation {
  const op = 'ipvs.addDestination';
  return {
    op,
    message: message(f, IPVS_CMD_NEW_DEST, { service: serviceKeyAttrs(s, op), dest: destinationAttrs(d, op) }),
    explain: destExplain(s, d),
  };
}

export function editDestinationOp(f: GenlFamily, s: IpvsServiceKey, d: IpvsDestinationOptions): Operation {
  const op = 'ipvs.editDestination';
  return {
    op,
    message: message(f, IPVS_CMD_SET_DEST, { service: serviceKeyAttrs(s, op), dest: destinationAttrs(d, op) }),
    explain: destExplain(s, d),
  };
}

export function deleteDestinationOp(f: GenlFamily, s: IpvsServiceKey, d: IpvsDestinationKey): Operation {
  const op = 'ipvs.deleteDestination';
  return {
    op,
    message: message(f, IPVS_CMD_DEL_DEST, { service: serviceKeyAttrs(s, op), dest: destinationKeyAttrs(d, op) }),
    explain: destExplain(s, d),
  };
}

export function listDestinationsOp(f: GenlFamily, s: IpvsServiceKey): Operation<IpvsDestination[]> {
  const op = 'ipvs.listDestinations';
  const key = serviceKeyAttrs(s, op);
  return {
    op,
    message: message(f, IPVS_CMD_GET_DEST, { service: key }, NLM_F_DUMP),
    explain: (code) => code === 'ESRCH' ? `service ${describeService(s)} not defined` : undefined,
    decode: (replies, outcome) => records(replies, outcome, key.af as number)
      .filter((r) => r.dest)
      .map((r) => toDestination(r.dest as AttrRecord, key.af as number)),
  };
}
