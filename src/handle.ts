import { Connection } from './netlink/connection';
import { resolveFamily, type GenlFamily } from './netlink/genl';
import { NETLINK_GENERIC } from './native';
import { NetlinkError } from './netlink/errors';
import type { HandleContext } from './handle-context';
import { Ipvs } from './ipvs/ipvs';
import { Ipset } from './ipset/ipset';
import { Batch } from './batch/batch';

/** Options of {@link openHandle}. */
export interface HandleOptions {
  /**
   * Network namespace to work in, as a path: `/run/netns/NAME` (what `ip netns add` makes) or
   * `/proc/PID/ns/net`. Default: the caller's namespace. Node's own threads never change namespace.
   */
  netns?: string;
  /** Give up on a kernel that stays silent this long (ms). Default 10,000. */
  timeoutMs?: number;
  /** Receive buffer per socket, bytes (SO_RCVBUFFORCE when privileged). Default 4 MiB. */
  rcvbuf?: number;
}

/**
 * One handle per network namespace: IPVS, ipset and link/address operations hang off it.
 * Sockets open on first use and close with {@link Handle.close} (or at garbage collection).
 */
export class Handle {
  /** IPVS services and destinations. */
  readonly ipvs: Ipvs;
  /** ipsets: create, add and delete entries in bulk, list, save and restore. */
  readonly ipset: Ipset;
  private readonly connections = new Map<number, Connection>();
  private readonly families = new Map<string, Promise<GenlFamily>>();
  private closed = false;
  private readonly ctx: HandleContext;

  constructor(readonly options: HandleOptions = {}) {
    if (options.netns !== undefined && (typeof options.netns !== 'string' || options.netns === '')) {
      throw new TypeError('openHandle: netns must be a path such as /run/netns/NAME');
    }
    const ctx: HandleContext = this.ctx = {
      connection: (p) => this.connection(p),
      genlFamily: (name) => this.genlFamily(name),
      exchangeOptions: options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
    };
    this.ipvs = new Ipvs(ctx);
    this.ipset = new Ipset(ctx);
  }

  private connection(protocol: number): Connection {
    if (this.closed) throw new NetlinkError({ code: 'EBADF', errno: -9, op: 'handle', detail: 'the handle is closed' });
    let c = this.connections.get(protocol);
    if (!c) {
      c = new Connection(protocol, { netns: this.options.netns ?? null, rcvbuf: this.options.rcvbuf ?? 4 << 20 });
      this.connections.set(protocol, c);
    }
    return c;
  }

  private genlFamily(name: string): Promise<GenlFamily> {
    let p = this.families.get(name);
    if (!p) {
      p = resolveFamily(this.connection(NETLINK_GENERIC), name);
      p.catch(() => this.families.delete(name));
      this.families.set(name, p);
    }
    return p;
  }

  /**
   * A new batch: changes across IPVS, ipsets and links/addresses, committed in order with one
   * result per change. Not atomic; see {@link Batch}.
   */
  batch(): Batch {
    return new Batch(this.ctx);
  }

  /** Closes every socket now; operations in flight end with ECANCELED. Idempotent. */
  close(): void {
    this.closed = true;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}

/** Opens a handle, optionally bound to a network namespace. */
export function openHandle(options: HandleOptions = {}): Handle {
  return new Handle(options);
}
