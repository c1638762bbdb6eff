/**
 * Files under `/proc` as a network namespace sees them. `/proc/thread-self/net/*` (the IPVS
 * connection table) and `/proc/sys/net/*` (sysctls) show the namespace of the thread that opens
 * them, and an open file keeps showing it: the addon opens the file on a thread inside the
 * namespace and hands back the descriptor, and the reads and writes are ordinary asynchronous
 * I/O on Node's thread pool.
 *
 * Errors are {@link NetlinkError}s (the library's one error class for the kernel's refusals)
 * with the system call (`open`, `read`, `write`, `setns`) and the path.
 *
 * @module
 */
import { close, read, write } from 'node:fs';
import { native } from '../native';
import { NetlinkError } from '../netlink/errors';

/** The path of a per-namespace /proc/net file for the thread that opens it. */
export function procNetPath(name: string): string {
  // /proc/self/net follows the thread-group leader; only thread-self follows the opening thread
  return `/proc/thread-self/net/${name}`;
}

function wrap(err: unknown, op: string, detail: string): never {
  const e = err as { code?: unknown; errno?: unknown; syscall?: unknown; message?: unknown };
  if (typeof e?.code !== 'string' || typeof e.errno !== 'number') throw err;
  throw new NetlinkError({
    code: e.code,
    errno: e.errno,
    op,
    ...(typeof e.syscall === 'string' && { syscall: e.syscall }),
    detail: `${detail}: ${typeof e.message === 'string' ? e.message : e.code}`,
  });
}

function openIn(path: string, mode: 'r' | 'w', netns: string | null, op: string): number {
  try {
    return native().openFile(path, mode, netns);
  } catch (err) {
    return wrap(err, op, `cannot open ${path}${netns ? ` in ${netns}` : ''}`);
  }
}

function readAt(fd: number, buf: Buffer, off: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}

/**
 * Reads a /proc file of namespace `netns` (null: the caller's) in chunks, handing each chunk's
 * complete lines to `onLines(buf, start, end)` (`end` just past a newline) as they arrive, so a
 * table of 100,000 lines is never held as one string. Bytes of an unfinished last line are carried
 * into the next chunk; a file that does not end with a newline has its tail passed last.
 */
export async function readLines(
  path: string,
  netns: string | null,
  op: string,
  onLines: (buf: Buffer, start: number, end: number) => void,
  chunkBytes = 256 * 1024,
): Promise<void> {
  const fd = openIn(path, 'r', netns, op);
  let buf = Buffer.allocUnsafe(chunkBytes);
  let have = 0;
  try {
    for (;;) {
      if (have === buf.length) {
        // one line longer than the buffer: grow rather than split it
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      let n: number;
      try {
        n = await readAt(fd, buf, have);
      } catch (err) {
        return wrap(err, op, `cannot read ${path}`);
      }
      if (n === 0) {
        if (have > 0) onLines(buf, 0, have);
        return;
      }
      const end = have + n;
      const cut = buf.lastIndexOf(10, end - 1) + 1;
      if (cut > 0) onLines(buf, 0, cut);
      buf.copy(buf, 0, cut, end);
      have = end - cut;
    }
  } finally {
    await closeFd(fd);
  }
}

/** The whole text of a small /proc file of namespace `netns` (a sysctl value). */
export async function readText(path: string, netns: string | null, op: string): Promise<string> {
  let text = '';
  await readLines(path, netns, op, (buf, start, end) => {
    text += buf.toString('latin1', start, end);
  }, 4096);
  return text;
}

/** Writes `text` to a /proc file of namespace `netns` in one write (how sysctl files take a value). */
export async function writeText(path: string, netns: string | null, op: string, text: string): Promise<void> {
  const fd = openIn(path, 'w', netns, op);
  const data = Buffer.from(text, 'latin1');
  try {
    await new Promise<void>((resolve, reject) => {
      write(fd, data, 0, data.length, null, (err, n) => {
        if (err) reject(err);
        else if (n !== data.length) reject(Object.assign(new Error(`short write: ${n} of ${data.length} bytes`), { code: 'EIO', errno: -5, syscall: 'write' }));
        else resolve();
      });
    });
  } catch (err) {
    wrap(err, op, `cannot write '${text.trim()}' to ${path}`);
  } finally {
    await closeFd(fd);
  }
}

/** The names in a /proc directory as namespace `netns` sees it (sorted). */
export function listDir(path: string, netns: string | null, op: string): string[] {
  try {
    return native().readDir(path, netns).sort();
  } catch (err) {
    return wrap(err, op, `cannot list ${path}${netns ? ` in ${netns}` : ''}`);
  }
}
