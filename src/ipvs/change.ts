import type { GenlFamily } from '../netlink/genl';
import type { Operation, OperationResult } from '../netlink/operation';
import type { IpvsServiceKey, IpvsServiceOptions } from './service';
import type { IpvsDestinationKey, IpvsDestinationOptions } from './destination';
import type { IpvsDaemonOptions, IpvsDaemonState } from './daemon';
import type { IpvsTimeoutsOptions } from './config';
import * as ops from './ops';
import { checkKeys, keySet, quote, type KeySet } from '../validate';

/**
 * One IPVS change as plain data, for {@link Ipvs.apply}: the same verbs as the facade's methods
 * (and as ipvsadm's commands), so a rules file or a plan becomes a list of these.
 * @category IPVS
 */
export type IpvsChange =
  | {
      /** Add a virtual service: {@link Ipvs.addService}, `ipvsadm -A`. */
      kind: 'addService';
      /** The service's key and settings. */
      service: IpvsServiceOptions;
    }
  | {
      /** Change a service's settings: {@link Ipvs.editService}, `ipvsadm -E`. */
      kind: 'editService';
      /** The service's key and its new settings (omitted ones take ipvsadm's defaults). */
      service: IpvsServiceOptions;
    }
  | {
      /** Delete a service and its destinations: {@link Ipvs.deleteService}, `ipvsadm -D`. */
      kind: 'deleteService';
      /** The service to delete. */
      service: IpvsServiceKey;
    }
  | {
      /** Add a destination: {@link Ipvs.addDestination}, `ipvsadm -a`. */
      kind: 'addDestination';
      /** The service it belongs to. */
      service: IpvsServiceKey;
      /** The destination's address, port and settings. */
      destination: IpvsDestinationOptions;
    }
  | {
      /** Change a destination: {@link Ipvs.editDestination}, `ipvsadm -e`. */
      kind: 'editDestination';
      /** The service it belongs to. */
      service: IpvsServiceKey;
      /** The destination's address, port and new settings. */
      destination: IpvsDestinationOptions;
    }
  | {
      /** Remove a destination: {@link Ipvs.deleteDestination}, `ipvsadm -d`. */
      kind: 'deleteDestination';
      /** The service it belongs to. */
      service: IpvsServiceKey;
      /** The destination to remove. */
      destination: IpvsDestinationKey;
    }
  | {
      /** Remove every service and destination: {@link Ipvs.flush}, `ipvsadm -C`. */
      kind: 'flush';
    }
  | {
      /** Zero counters: {@link Ipvs.zero}, `ipvsadm -Z`. */
      kind: 'zero';
      /** Only this service's counters; absent: every service's. */
      service?: IpvsServiceKey;
    }
  | {
      /** Set connection time-outs: {@link Ipvs.setTimeouts}, `ipvsadm --set`. */
      kind: 'setTimeouts';
      /** The time-outs in seconds; absent ones stay as they are. */
      timeouts: IpvsTimeoutsOptions;
    }
  | {
      /** Start a connection-sync daemon: {@link Ipvs.startDaemon}, `ipvsadm --start-daemon`. */
      kind: 'startDaemon';
      /** The daemon's role, interface and multicast settings. */
      daemon: IpvsDaemonOptions;
    }
  | {
      /** Stop a connection-sync daemon: {@link Ipvs.stopDaemon}, `ipvsadm --stop-daemon`. */
      kind: 'stopDaemon';
      /** Which one: `master` or `backup`. */
      state: IpvsDaemonState;
    };

/** What became of one change: `ok`, `error` (the kernel refused it), or `unknown` (the exchange stopped first). @category IPVS */
export type IpvsChangeResult = OperationResult<void>;

/** A fake family for checking input without a kernel: builders only read its id and version. */
export const CHECK_FAMILY: GenlFamily = { name: 'IPVS', id: 0, version: 1, hdrsize: 0, maxattr: 0, commands: new Set(), groups: new Map() };

const changeKeys = (...names: string[]): KeySet => keySet(['kind', ...names], 'change field');
const CHANGE_KEYS: Record<IpvsChange['kind'], KeySet> = {
  addService: changeKeys('service'), editService: changeKeys('service'), deleteService: changeKeys('service'),
  addDestination: changeKeys('service', 'destination'), editDestination: changeKeys('service', 'destination'),
  deleteDestination: changeKeys('service', 'destination'), flush: changeKeys(), zero: changeKeys('service'),
  setTimeouts: changeKeys('timeouts'), startDaemon: changeKeys('daemon'), stopDaemon: changeKeys('state'),
};

/** The operation for a change. Throws TypeError/RangeError for invalid input. */
export function changeOp(f: GenlFamily, c: IpvsChange): Operation {
  if (c === null || typeof c !== 'object') throw new TypeError('ipvs.apply: a change must be an object');
  const keys = typeof c.kind === 'string' && Object.prototype.hasOwnProperty.call(CHANGE_KEYS, c.kind) ? CHANGE_KEYS[c.kind] : undefined;
  if (keys) checkKeys(c, keys, `ipvs.apply: ${c.kind}`);
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
      throw new TypeError(`ipvs.apply: unknown change kind ${quote((c as { kind?: unknown }).kind)}`);
  }
}

/**
 * Checks a change as {@link Ipvs.apply} would, without a kernel: throws the same TypeError or
 * RangeError (naming the operation) for input that would be refused before sending.
 * @category IPVS
 */
export function checkIpvsChange(change: IpvsChange): void {
  changeOp(CHECK_FAMILY, change);
}
