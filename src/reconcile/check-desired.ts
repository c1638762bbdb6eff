/**
 * Checks the shape of reconcile's input before anything is read or sent: every object of the
 * desired state and of the options may carry only the fields its type has (a misspelled
 * `destinatons` would otherwise leave a service with none). Values are checked by the diff.
 *
 * @module
 * @internal
 */
import { DESIRED_SERVICE_KEYS, isPort, serviceKeyAttrs } from '../ipvs/service';
import { parseIPv4 } from '../netlink/address';
import { DEST_OPTION_KEYS } from '../ipvs/destination';
import { ENTRY_KEYS } from '../ipset/entry';
import { IPSET_CREATE_KEYS } from '../ipset/set';
import { checkKeys, checkObject, checkOptions, hasOnlyKeys, keySet, quote } from '../validate';
import type { DesiredState, ReconcileOptions } from './reconcile';

const DESIRED_KEYS = keySet(['ipvs', 'sets', 'addresses'], 'desired state part');
const OPTION_KEYS = keySet(['scope', 'dryRun', 'onError', 'drain', 'current', 'read', 'onProgress', 'signal']);
const SCOPE_KEYS = keySet(['services', 'sets', 'addresses'], 'scope');
const SERVICE_SCOPE_KEYS = keySet(['addresses', 'fwmarks'], 'service scope');
const DRAIN_KEYS = keySet(['timeoutMs', 'pollMs', 'signal'], 'drain option');
const READ_KEYS = keySet(['strategy', 'sockets', 'stats'], 'read option');
const SET_KEYS = keySet(['name', 'type', 'options', 'entries'], 'desired set field');
const LINK_KEYS = keySet(['link', 'addresses', 'create'], 'desired link field');

/** `list` as an array (undefined: none); throws TypeError for anything else. */
function arrayOf(list: unknown, what: string): readonly unknown[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError(`reconcile: ${what} must be an array, got ${quote(list)}`);
  return list;
}

function each(list: unknown, what: string, check: (item: unknown, where: string) => void): void {
  const items = arrayOf(list, what);
  for (let i = 0; i < items.length; i++) check(items[i], `reconcile: ${what}[${i}]`);
}

/**
 * A desired service keyed by a valid IPv4 address, port and protocol, with only the fields it may
 * have: all {@link serviceKeyAttrs} would check, without building its attributes or its name (a
 * reconcile of 5,000 services does this for each). No fwmark, no family: those are checked whole.
 */
function plainIpv4Service(s: object): boolean {
  const o = s as { protocol?: unknown; address?: unknown; port?: unknown; fwmark?: unknown; family?: unknown };
  const p = o.protocol;
  return (p === 'tcp' || p === 'udp' || p === 'sctp') && typeof o.address === 'string' && isPort(o.port)
    && o.fwmark === undefined && o.family === undefined && parseIPv4(o.address) >= 0 && hasOnlyKeys(s, DESIRED_SERVICE_KEYS);
}

/** Throws TypeError for a field reconcile's input does not have, or a service keyed two ways. */
export function checkReconcileInput(desired: DesiredState, options: ReconcileOptions): void {
  checkObject(desired, 'reconcile', 'desired');
  checkKeys(desired, DESIRED_KEYS, 'reconcile');
  checkOptions(options, OPTION_KEYS, 'reconcile');
  const scope = options.scope;
  checkOptions(scope, SCOPE_KEYS, 'reconcile', 'scope');
  if (scope?.services !== undefined && typeof scope.services !== 'function') checkOptions(scope.services, SERVICE_SCOPE_KEYS, 'reconcile', 'scope.services');
  if (options.drain !== undefined && options.drain !== false) checkOptions(options.drain, DRAIN_KEYS, 'reconcile', 'drain');
  checkOptions(options.read, READ_KEYS, 'reconcile', 'read');
  const services = arrayOf(desired.ipvs, 'ipvs');
  for (let i = 0; i < services.length; i++) {
    const s = services[i];
    // keys and their consistency (a fwmark beside an address); the other values are the diff's.
    // Names (`reconcile: ipvs[7]`) are built only for input that fails.
    if (s === null || typeof s !== 'object' || !plainIpv4Service(s)) serviceKeyAttrs(s as never, `reconcile: ipvs[${i}]`, DESIRED_SERVICE_KEYS);
    const dests = (s as { destinations?: unknown }).destinations;
    if (Array.isArray(dests)) {
      for (let j = 0; j < dests.length; j++) {
        const d: unknown = dests[j];
        if (d !== null && typeof d === 'object' && !hasOnlyKeys(d, DEST_OPTION_KEYS)) checkKeys(d, DEST_OPTION_KEYS, `reconcile: ipvs[${i}].destinations[${j}]`);
      }
    }
  }
  each(desired.sets, 'sets', (s, where) => {
    checkObject(s, where, 'a desired set');
    checkKeys(s, SET_KEYS, where);
    const o = s as { options?: unknown; entries?: unknown };
    checkOptions(o.options, IPSET_CREATE_KEYS, where, 'options');
    if (Array.isArray(o.entries)) {
      for (let j = 0; j < o.entries.length; j++) {
        const e: unknown = o.entries[j];
        if (e !== null && typeof e === 'object' && !hasOnlyKeys(e, ENTRY_KEYS)) checkKeys(e, ENTRY_KEYS, `${where}.entries[${j}]`);
      }
    }
  });
  each(desired.addresses, 'addresses', (a, where) => {
    checkObject(a, where, 'a desired link');
    checkKeys(a, LINK_KEYS, where);
  });
}
