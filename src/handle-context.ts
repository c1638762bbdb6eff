import type { Connection, ExchangeOptions } from './netlink/connection';
import type { GenlFamily } from './netlink/genl';

/** What a facade needs from its handle: sockets per protocol, family look-ups, defaults. @internal */
export interface HandleContext {
  /** The handle's socket of a netlink protocol, opened on first use. */
  connection(protocol: number): Connection;
  /** A generic-netlink family, resolved through the handle's socket. */
  genlFamily(name: string): Promise<GenlFamily>;
  readonly exchangeOptions: ExchangeOptions;
  /** The handle's network namespace path, for sockets a facade opens itself (notifications). */
  readonly netns: string | null;
  /** Closes `closeable` when the handle closes; returns the function that forgets it. */
  track(closeable: { close(): void }): () => void;
}
