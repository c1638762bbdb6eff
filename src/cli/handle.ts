/** Opening a handle for one CLI verb (in `--netns` when given), closed when the verb is done. */
import { openHandle, type Handle } from '../index';
import type { GlobalOptions } from './types';

/** Runs `fn` with a handle opened in `global.netns` (or the current namespace), closing it afterwards. */
export async function withHandle<T>(global: GlobalOptions, fn: (h: Handle) => Promise<T>): Promise<T> {
  const h = openHandle(global.netns === undefined ? {} : { netns: global.netns });
  try {
    return await fn(h);
  } finally {
    h.close();
  }
}
