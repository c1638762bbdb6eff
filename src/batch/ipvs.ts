/**
 * IPVS in a batch: the sub-builder users call (`batch.ipvs.addDestination(...)`), the family's
 * driver (binding, undo), and the fast path that writes destination messages directly.
 *
 * @module
 */
import type { HandleContext } from '../handle-context';
import { NETLINK_GENERIC } from '../native';
import { dottedQuad, familyOf, formatAddress, parseAddress } from '../netlink/address';
import type { OutMessage } from '../netlink/message';
import { runOperations, type Operation } from '../netlink/operation';
import { IPVS_GENL_NAME } from '../uapi/ip-vs';
import { AF_INET } from '../uapi/netlink';
import * as ops from '../ipvs/ops';
import { isPort, type IpvsService, type IpvsServiceKey, type IpvsServiceOptions } from '../ipvs/service';
import { isInt31, type IpvsDestination, type IpvsDestinationKey, type IpvsDestinationOptions } from '../ipvs/destination';
import { DEST_KEY_KEYS, DEST_OPTION_KEYS } from '../ipvs/destination';
import { SERVICE_KEY_KEYS, SERVICE_OPTION_KEYS } from '../ipvs/service';
import { keysWithin } from '../validate';
import type { IpvsChange as IpvsCommand } from '../ipvs/change';
import type { BoundFamily, Change, Compensation, FamilyDriver, UndoPlanner } from './change';
import {
  FAST_FORWARDING, FastDestChange, IpvsChange, OP_NAMES, PROVISIONAL, buildOp, destLayout, keyText, parseIPv4, serviceEntry,
  serviceSettings, type AnyIpvsChange, type IpvsKind, type ServiceEntry,
} from './ipvs-fast';

export { FastDestChange, IpvsChange, parseIPv4, type AnyIpvsChange };

/** The fields of a service's settings; the builder reads no others. */
const SETTINGS_FIELDS = ['scheduler', 'persistent', 'netmask', 'onePacket', 'schedFlags', 'pe'] as const;

/** The settings fields of a service in text (with the key's traits that settings checks depend on), or undefined. */
function settingsSignature(kind: IpvsKind, entry: ServiceEntry, s: IpvsServiceOptions): string | undefined {
  const o = s as unknown as Record<string, unknown>;
  let sig = `${kind} ${entry.af} ${'fwmark' in s ? 'f' : `${String(o.protocol)} ${o.port === 0}`}`;
  for (const k of SETTINGS_FIELDS) {
    const v = o[k];
    if (v === undefined) continue;
    const t = typeof v;
    if (t === 'string' || t === 'number' || t === 'boolean') sig += `|${k}=${t}:${String(v)}`;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) sig += `|${k}=${JSON.stringify(v)}`;
    else return undefined;
  }
  return sig;
}

function int31(v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  return isInt31(v) ? v : -1;
}

const NO_SETTINGS = Buffer.alloc(0);

/**
 * IPVS changes of a batch. Each method checks its input at once (TypeError/RangeError, as the
 * facade does) and returns the change's index in the batch; nothing is sent before `commit()`.
 * The batch keeps references to the objects passed: do not change them before the commit ends.
 * @category Batch
 */
export class BatchIpvs {
  private readonly entries = new Map<string, ServiceEntry>();
  private readonly settings = new Map<string, Buffer | null>();
  /** The last key seen and its field values then (destinations usually follow their service). */
  private readonly last: { key: object | null; a: unknown; b: unknown; c: unknown; entry: ServiceEntry | undefined } = {
    key: null, a: undefined, b: undefined, c: undefined, entry: undefined,
  };

  /** @internal */
  constructor(private readonly push: (c: Change) => number) {}

  /** Queues `ipvsadm -A`: see {@link Ipvs.addService}. Its undo deletes the service. */
  addService(service: IpvsServiceOptions): number {
    return this.service('addService', service);
  }

  /** Queues `ipvsadm -E`: see {@link Ipvs.editService}. Its undo restores the settings read before the commit. */
  editService(service: IpvsServiceOptions): number {
    return this.service('editService', service);
  }

  /**
   * Queues `ipvsadm -D`: see {@link Ipvs.deleteService}. Its undo re-creates the service and its
   * destinations as read before the commit (not their counters or connections).
   */
  deleteService(service: IpvsServiceKey): number {
    return this.service('deleteService', service);
  }

  /** Queues `ipvsadm -a`: see {@link Ipvs.addDestination}. Its undo deletes the destination. */
  addDestination(service: IpvsServiceKey, destination: IpvsDestinationOptions): number {
    return this.destination('addDestination', service, destination, true);
  }

  /**
   * Queues one service or destination change as {@link Ipvs.apply} takes it (the six kinds a
   * batch carries): `ipvs restore`'s rules and reconcile's plan steps. @internal
   */
  change(c: IpvsCommand): number {
    switch (c.kind) {
      case 'addService': return this.addService(c.service);
      case 'editService': return this.editService(c.service);
      case 'deleteService': return this.deleteService(c.service);
      case 'addDestination': return this.addDestination(c.service, c.destination);
      case 'editDestination': return this.editDestination(c.service, c.destination);
      case 'deleteDestination': return this.deleteDestination(c.service, c.destination);
      default: throw new Error(`batch: ${c.kind} is not batched`);
    }
  }

  /**
   * {@link addDestination} of an IPv4 real server given as numbers, for a caller that checked them
   * (`address` a dotted quad's u32, `port` and `weight` 0-65535, no thresholds): `ipvs restore`
   * queues the lines of a rules file this way without an object per line. A service that is not
   * IPv4, or a key the builder must check, goes through {@link addDestination}. @internal
   */
  addIPv4Destination(service: IpvsServiceKey, address: number, port: number, forwarding: 'masq' | 'route', weight: number): number {
    const entry = this.entry(service, OP_NAMES.addDestination);
    const t = entry && entry.af === AF_INET ? destLayout('addDestination') : null;
    if (t !== null) return this.push(new FastDestChange(entry!, t, address | 0, (port << 8) | FAST_FORWARDING.get(forwarding)!, weight, 0, 0));
    const quad = dottedQuad(address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255);
    return this.addDestination(service, { address: quad, port, forwarding, weight, upperThreshold: 0, lowerThreshold: 0 });
  }

  /** Queues `ipvsadm -e`: see {@link Ipvs.editDestination}. Its undo restores the values read before the commit. */
  editDestination(service: IpvsServiceKey, destination: IpvsDestinationOptions): number {
    return this.destination('editDestination', service, destination, true);
  }

  /** Queues `ipvsadm -d`: see {@link Ipvs.deleteDestination}. Its undo re-adds it with the values read before. */
  deleteDestination(service: IpvsServiceKey, destination: IpvsDestinationKey): number {
    return this.destination('deleteDestination', service, destination, false);
  }

  /** The cached entry of a service key (validated by the builders' check the first time), or undefined for odd input. */
  private entry(service: IpvsServiceKey, op: string): ServiceEntry | undefined {
    if (service === null || typeof service !== 'object') return undefined;
    // Destinations usually follow their service: the same key object, unchanged, needs no lookup.
    const k = service as { protocol?: unknown; address?: unknown; port?: unknown; fwmark?: unknown; family?: unknown };
    const last = this.last;
    if (last.key === service && last.a === (k.address ?? k.fwmark) && last.b === (k.port ?? k.family) && last.c === k.protocol) {
      return last.entry;
    }
    const text = keyText(service);
    // odd fields, and a family beside an address (to be checked against it), go to the builder
    if (text === undefined || !keysWithin(service, SERVICE_KEY_KEYS) || (k.fwmark === undefined && k.family !== undefined)) return undefined;
    let entry = this.entries.get(text);
    if (!entry) {
      entry = serviceEntry(service, op);
      this.entries.set(text, entry);
    }
    last.key = service;
    last.a = k.address ?? k.fwmark;
    last.b = k.port ?? k.family;
    last.c = k.protocol;
    last.entry = entry;
    return entry;
  }

  private service(kind: IpvsKind, s: IpvsServiceOptions | IpvsServiceKey): number {
    const c = new IpvsChange(kind, s);
    const entry = this.entry(s, c.op);
    if (entry) {
      if (kind === 'deleteService') {
        c.setService(entry, NO_SETTINGS);
        return this.push(c);
      }
      // output-only fields (a listed service's stats) are a key's, not settings: the builder refuses them
      const sig = keysWithin(s, SERVICE_OPTION_KEYS) ? settingsSignature(kind, entry, s as IpvsServiceOptions) : undefined;
      if (sig !== undefined) {
        let settings = this.settings.get(sig);
        if (settings === undefined) {
          settings = serviceSettings(kind, s as IpvsServiceOptions);
          this.settings.set(sig, settings);
        }
        if (settings) {
          c.setService(entry, settings);
          return this.push(c);
        }
      }
    }
    c.generic = buildOp(PROVISIONAL, c) as Operation<unknown>;
    return this.push(c);
  }

  private destination(kind: IpvsKind, service: IpvsServiceKey, d: IpvsDestinationOptions, full: boolean): number {
    const entry = this.entry(service, OP_NAMES[kind]);
    // An IPv6 service takes IPv4 destinations only through tunnels: those go to the builder.
    const t = entry && entry.af === AF_INET ? destLayout(kind) : null;
    // unknown or output-only keys (a misspelled option): the builder names them
    let ok = t !== null && d !== null && typeof d === 'object' && typeof d.address === 'string'
      && keysWithin(d, full ? DEST_OPTION_KEYS : DEST_KEY_KEYS) && (d as { family?: unknown }).family === undefined;
    let addr = -1, fwd = 0, weight = 0, u = 0, l = 0;
    if (ok) {
      addr = parseIPv4(d.address);
      ok = addr >= 0 && isPort(d.port);
    }
    if (ok && full) {
      fwd = FAST_FORWARDING.get(d.forwarding ?? 'route') ?? -1;
      weight = int31(d.weight, 1);
      u = int31(d.upperThreshold, 0);
      l = int31(d.lowerThreshold, 0);
      ok = fwd >= 0 && weight >= 0 && u >= 0 && l >= 0 && l <= u
        && d.tunnelType === undefined && d.tunnelPort === undefined && d.tunnelChecksum === undefined;
    }
    // addr as int32 (a small integer in V8), not a boxed number per change
    if (ok) return this.push(new FastDestChange(entry!, t!, addr | 0, (d.port << 8) | fwd, weight, u, l));
    // Anything unusual (IPv6, tunnels, invalid input) goes through the builder, which also throws its errors.
    const c = new IpvsChange(kind, service, d);
    c.generic = buildOp(PROVISIONAL, c) as Operation<unknown>;
    return this.push(c);
  }
}

// ---- undo ---------------------------------------------------------------------------------------

/** Canonical text of a service key (addresses in RFC 5952 form), for matching user keys with read state. */
export function serviceId(k: IpvsServiceKey): string {
  if ('fwmark' in k && k.fwmark !== undefined) return `fwmark ${k.fwmark} ${k.family ?? 'inet'}`;
  const a = k as { protocol: string; address: string; port: number };
  return `${a.protocol} ${canonical(a.address)} ${a.port}`;
}

/** Canonical text of a destination key within its service. */
export function destinationId(d: IpvsDestinationKey): string {
  return `${canonical(d.address)} ${d.port}`;
}

function canonical(address: string): string {
  const f = familyOf(address);
  return f === undefined || f === AF_INET ? address : formatAddress(parseAddress(address), f, 'address');
}

/** The settings of a service read from the kernel, as addService/editService take them. */
export function serviceOptions(s: IpvsService): IpvsServiceOptions {
  const key: IpvsServiceKey = 'fwmark' in s
    ? { fwmark: s.fwmark, family: s.family }
    : { protocol: s.protocol, address: s.address, port: s.port };
  const o: IpvsServiceOptions = {
    ...key, scheduler: s.scheduler, persistent: s.persistent, netmask: s.netmask,
    onePacket: s.onePacket, schedFlags: [...(s.schedFlags ?? [])],
  };
  if (s.pe !== undefined) o.pe = s.pe;
  return o;
}

/** A destination read from the kernel, as addDestination/editDestination take it. */
export function destinationOptions(d: Omit<IpvsDestination, 'stats'>): IpvsDestinationOptions {
  const o: IpvsDestinationOptions = {
    address: d.address, port: d.port, forwarding: d.forwarding, weight: d.weight,
    upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold,
  };
  if (d.tunnelType !== undefined) o.tunnelType = d.tunnelType;
  if (d.tunnelPort !== undefined) o.tunnelPort = d.tunnelPort;
  if (d.tunnelChecksum !== undefined) o.tunnelChecksum = d.tunnelChecksum;
  return o;
}

/** What undo knows of one service: its settings (null: absent) and, when read, its destinations. */
interface ServiceState {
  settings: IpvsServiceOptions | null;
  /** Destinations by {@link destinationId}; undefined when they were not read. */
  dests: Map<string, IpvsDestinationOptions> | undefined;
}

/** Replays applied changes over the state read before the commit, yielding each one's compensation. */
class IpvsUndoPlanner implements UndoPlanner {
  constructor(private readonly state: Map<string, ServiceState>) {}

  compensate(applied: readonly Change[]): Compensation[] {
    const out: Compensation[] = [];
    const collect = (fn: (b: BatchIpvs) => void): Change[] => {
      const changes: Change[] = [];
      const b = new BatchIpvs((c) => changes.push(c));
      fn(b);
      return changes;
    };
    for (const change of applied) {
      const c = change as AnyIpvsChange;
      const sid = serviceId(c.service);
      let st = this.state.get(sid);
      if (!st) {
        // not read: no later change of this batch needs what it held before
        st = { settings: null, dests: undefined };
        this.state.set(sid, st);
      }
      const unread = (what: string): Compensation => ({ changes: null, reason: `${what} was not read before the commit` });
      switch (c.kind) {
        case 'addService':
          out.push({ changes: collect((b) => b.deleteService(c.service)) });
          st.settings = c.service as IpvsServiceOptions;
          st.dests = new Map();
          break;
        case 'editService': {
          const prior = st.settings;
          out.push(prior ? { changes: collect((b) => b.editService(prior)) } : unread('the service'));
          st.settings = c.service as IpvsServiceOptions;
          break;
        }
        case 'deleteService': {
          const prior = st.settings;
          const dests = st.dests;
          if (!prior || !dests) out.push(unread(prior ? 'its destinations' : 'the service'));
          else {
            out.push({
              changes: collect((b) => {
                b.addService(prior);
                for (const d of dests.values()) b.addDestination(prior, d);
              }),
              note: 'counters restart from zero; connections of the deleted service are not restored',
            });
          }
          st.settings = null;
          st.dests = new Map();
          break;
        }
        case 'addDestination': {
          const d = c.dest as IpvsDestinationOptions;
          out.push({ changes: collect((b) => b.deleteDestination(c.service, { address: d.address, port: d.port })) });
          st.dests?.set(destinationId(d), d);
          break;
        }
        case 'editDestination': {
          const d = c.dest as IpvsDestinationOptions;
          const prior = st.dests?.get(destinationId(d));
          out.push(prior ? { changes: collect((b) => b.editDestination(c.service, prior)) } : unread('the destination'));
          st.dests?.set(destinationId(d), d);
          break;
        }
        case 'deleteDestination': {
          const id = destinationId(c.dest!);
          const prior = st.dests?.get(id);
          out.push(prior
            ? { changes: collect((b) => b.addDestination(c.service, prior)), note: 'counters restart unless the kernel still holds it in its trash list' }
            : unread('the destination'));
          st.dests?.delete(id);
          break;
        }
      }
    }
    return out;
  }
}

/** The IPVS entry of the batch's family table. */
export const ipvsDriver: FamilyDriver = {
  key: 'ipvs',
  protocol: NETLINK_GENERIC,

  async bind(ctx: HandleContext): Promise<BoundFamily> {
    // Nothing to resolve but the family id: every change was checked and encoded when queued.
    const f = await ctx.genlFamily(IPVS_GENL_NAME);
    return {
      genlId: f.id,
      fixType: (_m: OutMessage) => f.id,
      operation: (c: Change) => {
        const ic = c as AnyIpvsChange;
        return ic.generic ?? (buildOp(f, ic) as Operation<unknown>);
      },
    };
  },

  async prepareUndo(ctx, bound, changes, signal): Promise<UndoPlanner> {
    // Services whose settings undo may restore, and services whose destinations it may need.
    const settings = new Map<string, IpvsServiceKey>();
    const withDests = new Map<string, IpvsServiceKey>();
    for (const change of changes) {
      const c = change as AnyIpvsChange;
      if (c.kind === 'addService' || c.kind === 'addDestination') continue;
      const id = serviceId(c.service);
      settings.set(id, c.service);
      if (c.kind !== 'editService') withDests.set(id, c.service);
    }
    const f = { ...PROVISIONAL, id: bound.genlId };
    const reads: Operation<unknown>[] = [];
    const ids = [...settings.keys()];
    for (const k of settings.values()) reads.push(ops.getServiceOp(f, k) as Operation<unknown>);
    const destIds = [...withDests.keys()];
    for (const k of withDests.values()) reads.push(ops.listDestinationsOp(f, k) as Operation<unknown>);
    const state = new Map<string, ServiceState>();
    if (reads.length === 0) return new IpvsUndoPlanner(state);
    const results = await runOperations(ctx.connection(NETLINK_GENERIC), reads, {
      ...ctx.exchangeOptions,
      // a GET's answer carries the whole service with its counters, far more than an ack
      maxChunkMessages: 256,
      ...(signal && { signal }),
    });
    ids.forEach((id, i) => {
      const r = results[i]!;
      if (r.status === 'ok') state.set(id, { settings: serviceOptions(r.value as IpvsService), dests: undefined });
      else if (r.error.code === 'ESRCH') state.set(id, { settings: null, dests: new Map() });
      else throw r.error;
    });
    destIds.forEach((id, i) => {
      const r = results[ids.length + i]!;
      const st = state.get(id)!;
      if (r.status === 'ok') {
        st.dests = new Map((r.value as IpvsDestination[]).map((d) => [destinationId(d), destinationOptions(d)]));
      } else if (r.error.code !== 'ESRCH') throw r.error;
    });
    return new IpvsUndoPlanner(state);
  },

  harmlessUndoError(c: Change, code: string): boolean {
    const kind = (c as AnyIpvsChange).kind;
    if (kind === 'deleteService') return code === 'ESRCH';
    if (kind === 'deleteDestination') return code === 'ENOENT';
    if (kind === 'addService' || kind === 'addDestination') return code === 'EEXIST';
    return false;
  },
};
