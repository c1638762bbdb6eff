import type { GenlFamily } from '../netlink/genl';
import type { Operation, OperationResult } from '../netlink/operation';
import type { IpvsServiceKey, IpvsServiceOptions } from './service';
import type { IpvsDestinationKey, IpvsDestinationOptions } from './destination';
import type { IpvsDaemonOptions, IpvsDaemonState } from './daemon';
import type { IpvsTimeoutsOptions } from './config';
import * as ops from './ops';

/**
 * One IPVS change as plain data, for {@link Ipvs.apply}: the same verbs as the facade's methods
 * (and as ipvsadm's commands), so a rules file or a plan becomes a list of these.
 */
export type IpvsChange =
  | { kind: 'addService'; service: IpvsServiceOptions }
  | { kind: 'editService'; service: IpvsServiceOptions }
  | { kind: 'deleteService'; service: IpvsServiceKey }
  | { kind: 'addDestination'; service: IpvsServiceKey; destination: IpvsDestinationOptions }
  | { kind: 'editDestination'; service: IpvsServiceKey; destination: IpvsDestinationOptions }
  | { kind: 'deleteDestination'; service: IpvsServiceKey; destination: IpvsDestinationKey }
  | { kind: 'flush' }
  | { kind: 'zero'; service?: IpvsServiceKey }
  | { kind: 'setTimeouts'; timeouts: IpvsTimeoutsOptions }
  | { kind: 'startDaemon'; daemon: IpvsDaemonOptions }
  | { kind: 'stopDaemon'; state: IpvsDaemonState };

/** What became of one change: `ok`, `error` (the kernel refused it), or `unknown` (the exchange stopped first). */
export type IpvsChangeResult = OperationResult<void>;

/** A fake family for checking input without a kernel: builders only read its id and version. */
const CHECK_FAMILY: GenlFamily = { name: 'IPVS', id: 0, version: 1, hdrsize: 0, maxattr: 0, commands: new Set(), groups: new Map() };

/** The operation for a change. Throws TypeError/RangeError for invalid input. */
export function changeOp(f: GenlFamily, c: IpvsChange): Operation {
  if (c === null || typeof c !== 'object') throw new TypeError('ipvs.apply: a change must be an object');
  switch (c.kind) {
    case 'addService': return ops.addServiceOp(f, c.service);
    case 'editService': return ops.editServiceOp(f, c.service);
    case 'deleteService': return ops.deleteServiceOp(f, c.service);
    case 'addDestination': return ops.addDestinationOp(f, c.service, c.destination);
    case 'editDestination': return ops.editDestinationOp(f, c.service, c.destination);
    case 'deleteDestination': return ops.deleteDestinationOp(f, c.service, c.destination);
    case 'flush': return ops.flushOp(f);
    case 'zero': return ops.zeroOp(f, c.service);
    case 'setTimeouts': return ops.setTimeoutsOp(f, c.timeouts);
    case 'startDaemon': return ops.startDaemonOp(f, c.daemon);
    case 'stopDaemon': return ops.stopDaemonOp(f, c.state);
    default:
      throw new TypeError(`ipvs.apply: unknown change kind '${String((c as { kind?: unknown }).kind)}'`);
  }
}

/**
 * Checks a change as {@link Ipvs.apply} would, without a kernel: throws the same TypeError or
 * RangeError (naming the operation) for input that would be refused before sending.
 */
export function checkIpvsChange(change: IpvsChange): void {
  changeOp(CHECK_FAMILY, change);
}
