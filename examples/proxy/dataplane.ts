/**
 * The proxy's kernel side, over the library's public API: reconcile for IPVS, the dummy link's
 * addresses and the ipsets, and address events for early repair.
 */
import type { Cidr } from './cidr';
import type { DesiredPlane } from './desired';
import type { Dataplane, SyncReport } from './proxy';

/** What the proxy owns and where. */
export interface Scope {
  netns: string | undefined;
  link: string;
  cidrs: Cidr[];
  drainTimeoutMs: number;
}

export interface KernelDataplane extends Dataplane {
  /** Removes everything in scope; resolves with a one-line summary. */
  cleanup(): Promise<string>;
  close(): void;
}

export function createDataplane(scope: Scope): KernelDataplane {
  void scope;
  const missing = (): never => {
    throw new Error('the library has no reconcile yet (src/reconcile is still landing)');
  };
  return {
    sync: async (_plane: DesiredPlane): Promise<SyncReport> => missing(),
    cleanup: async () => missing(),
    close: () => undefined,
  };
}
