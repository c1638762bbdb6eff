/**
 * Checks the shape of reconcile's input before anything is read or sent: every object of the
 * desired state and of the options may carry only the fields its type has (a misspelled
 * `destinatons` would otherwise leave a service with none). Values are checked by the diff.
 *
 * @module
 * @internal
 */
import { DESIRED_SERVICE_KEYS, serviceKeyAttrs } from '../ipvs/service';
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

function each(list: unknown, what: string, check: (item: unknown, where: string) => void): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new TypeError(`reconcile: ${what} must be an array, got ${quote(list)}`);
  for (let i = 0; i < list.length; i++) check(list[i], `reconcile: ${what}[${i}]`);
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
  each(desired.ipvs, 'ipvs', (s, where) => {
    // keys and their consistency (a fwmark beside an address); the values are the diff's
    serviceKeyAttrs(s as never, where, DESIRED_SERVICE_KEYS);
    const dests = (s as { destinations?: unknown }).destinations;
    if (Array.isArray(dests)) {
      for (let j = 0; j < dests.length; j++) {
        const d: unknown = dests[j];
        // the message (and its string) only for an object that fails: 50,000 of them cost a reconcile
        if (d !== null && typeof d === 'object' && !hasOnlyKeys(d, DEST_OPTION_KEYS)) checkKeys(d, DEST_OPTION_KEYS, `${where}.destinations[${j}]`);
      }
    }
  });
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
