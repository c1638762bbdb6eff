/**
 * The only module that loads the C++ addon (src-native/). It declares the binding's exact shape;
 * every other module imports these types and calls {@link native} for the functions.
 *
 * The addon is loaded on first use, not at import, so the pure codec modules can be imported (and
 * tested) on any platform.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Netlink protocol numbers from `<linux/netlink.h>`. */
export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;
export const NETLINK_GENERIC = 16;

/** An open netlink socket: an opaque handle made by {@link Binding.open}. */
export interface NativeSocket {
  readonly __nativeSocket: true;
}

/** Options of {@link Binding.open}. */
export interface OpenOptions {
  /** Network namespace to open the socket in: a path such as `/run/netns/NAME` or `/proc/PID/ns/net`. Absent or null: the caller's. */
  netns?: string | null;
  /** Receive buffer in bytes: SO_RCVBUFFORCE, falling back silently to SO_RCVBUF (capped by `net.core.rmem_max`). The kernel doubles the value. */
  rcvbuf?: number;
  /** Send buffer in bytes; at least 4 MiB is asked for (SO_SNDBUFFORCE, falling back to SO_SNDBUF capped by `net.core.wmem_max`). */
  sndbuf?: number;
  /** NETLINK_EXT_ACK: error replies carry the kernel's message and the offending attribute's offset. Default true. */
  extAck?: boolean;
  /** NETLINK_CAP_ACK: error replies do not echo the whole request. Default true. */
  capAck?: boolean;
  /** NETLINK_GET_STRICT_CHK: strict checking of GET and dump requests (Linux 4.20+; ignored on older kernels). Default false. */
  strictCheck?: boolean;
}

/** Options of {@link Binding.transact}. */
export interface TransactOptions {
  /** Longest wait, in milliseconds, without a reply belonging to the request. Default 10000. */
  timeoutMs?: number;
  /** Bytes per sendmsg (further capped by the socket's send buffer). A single larger message is still sent, alone. Default 262144. */
  maxChunkBytes?: number;
  /**
   * Upper bound on messages per sendmsg. The engine always keeps every reply to one chunk within
   * the socket's actual SO_RCVBUF, counting 1536 bytes per message plus twice its length (an error
   * reply may echo its request); so by default `floor(rcvbuf / 1536)` small messages. Set it lower
   * for non-dump GETs, whose data replies are larger than an ack (a few KiB each).
   */
  maxChunkMessages?: number;
  /** Send no further chunk after a chunk that drew an error reply. Default false. */
  stopOnError?: boolean;
  /**
   * A buffer to receive the replies into while they fit (the engine writes it from its thread
   * until the Promise settles: leave it alone meanwhile). The result then has `replies` null and
   * `repliesLength`; replies that do not fit come as a new `replies` Buffer holding them all.
   */
  into?: Buffer;
}

/** A failed system call, as Node's own system errors describe one. */
export interface NativeError {
  /** `'ENOBUFS'`, `'ETIMEDOUT'`, `'ECANCELED'`, ... */
  code: string;
  /** Negative errno. */
  errno: number;
  /** The call that failed: `'recvmsg'`, `'sendmsg'`, `'poll'`; `'cancel'` or `'close'` for ECANCELED. */
  syscall: string;
}

/** The outcome of one {@link Binding.transact}. */
export interface TransactResult {
  /**
   * Every reply whose seq is one of the request's, each NLMSG_ALIGNed, in arrival order; null
   * when they all fit `into` (the first `repliesLength` bytes of it).
   */
  replies: Buffer | null;
  /** With `replies` null: how many bytes of `into` hold the replies. */
  repliesLength?: number;
  /** Bytes of the request handed to the kernel. */
  sentBytes: number;
  /** Length of the request prefix (whole chunks) known to be fully processed: acked or dump done. */
  doneBytes: number;
  /** Some reply carried NLM_F_DUMP_INTR: a dump saw the kernel's state change; retry it. */
  dumpInterrupted: boolean;
  /**
   * Why the transaction ended early, or null. ENOBUFS: the kernel dropped a reply, so the outcome
   * of the unacknowledged part is unknown (read back by dumping). ETIMEDOUT: no reply within
   * timeoutMs. ECANCELED: {@link Binding.cancel} or {@link Binding.close}. EMSGSIZE: a reply did
   * not fit the receive buffer. Others: the failed syscall's errno.
   */
  error: NativeError | null;
}

/** The addon's exports. */
export interface Binding {
  /**
   * Opens and binds a netlink socket (the kernel assigns the port id).
   * @throws Error with code/errno/syscall, e.g. ENOENT (`open`: no such netns path), EINVAL
   *   (`setns`: not a network namespace), EPERM (`setns`: needs CAP_SYS_ADMIN), EPROTONOSUPPORT
   *   (`socket`: protocol not built in). TypeError/RangeError for bad arguments.
   */
  open(protocol: number, options?: OpenOptions): NativeSocket;
  /**
   * Sends `request` (one or more whole netlink messages; copied at call time, so the Buffer may be
   * reused at once) in paced chunks, setting NLM_F_ACK on the last message of every non-dump
   * chunk, and collects the replies by seq. Each message should carry its own seq. Runs on a
   * libuv worker thread. Resolves for I/O failures (see {@link TransactResult.error}).
   * @throws TypeError synchronously for a Buffer that is not a sequence of netlink messages.
   * @returns a Promise rejected with code EBUSY while another transact runs on this socket, and
   *   EBADF once the socket is closed.
   */
  transact(sock: NativeSocket, request: Buffer, options?: TransactOptions): Promise<TransactResult>;
  /** Makes an in-flight transact resolve promptly with error ECANCELED; a no-op when idle. */
  cancel(sock: NativeSocket): void;
  /** Closes the socket; idempotent. An in-flight transact resolves with ECANCELED and the fd closes when it has finished. */
  close(sock: NativeSocket): void;
  /** The socket's netlink port id (nl_pid). @throws EBADF once closed. */
  portId(sock: NativeSocket): number;
  /** The socket's actual SO_RCVBUF in bytes (the kernel doubles what was asked). @throws EBADF once closed. */
  rcvbuf(sock: NativeSocket): number;
  /**
   * Joins a multicast group (NETLINK_ADD_MEMBERSHIP), e.g. RTNLGRP_IPV4_IFADDR: the kernel then
   * sends the socket a notification (seq 0) for each change. Use a socket that does nothing else:
   * transact discards datagrams that are not replies to it.
   * @throws TypeError/RangeError for a bad group; EBADF once closed; the setsockopt errno (EINVAL
   *   for a group the protocol does not have).
   */
  subscribe(sock: NativeSocket, group: number): void;
  /**
   * Waits on a libuv worker thread for datagrams nobody asked for (notifications of subscribed
   * groups) and resolves with those queued when the first arrives, at most 64 datagrams.
   * @returns a Promise rejected with EBUSY while a transact or receive runs on this socket, and
   *   EBADF once it is closed.
   */
  receive(sock: NativeSocket, options?: ReceiveOptions): Promise<ReceiveResult>;
  /**
   * Opens a file under `/proc/` as the network namespace at `netns` sees it (null: the caller's):
   * the open happens on a short-lived thread inside the namespace, and the descriptor keeps showing
   * that namespace (`/proc/thread-self/net/*`, `/proc/sys/net/*`). Returns the fd; the caller
   * closes it. `mode` 'r' is O_RDONLY, 'w' O_WRONLY; both O_CLOEXEC.
   * @throws TypeError for a path outside /proc/ or a bad mode; Error with code/errno/syscall
   *   (`open` of the namespace or the file, `setns`).
   */
  openFile(path: string, mode: 'r' | 'w', netns?: string | null): number;
  /**
   * The names in a `/proc/` directory as the namespace at `netns` sees it (without `.` and `..`).
   * @throws as {@link Binding.openFile}, with syscall `opendir` or `readdir` for the directory.
   */
  readDir(path: string, netns?: string | null): string[];
}

/** Options of {@link Binding.receive}. */
export interface ReceiveOptions {
  /** Longest wait in milliseconds; absent: until a datagram arrives, or cancel/close. */
  timeoutMs?: number;
}

/** The outcome of one {@link Binding.receive}. */
export interface ReceiveResult {
  /** The datagrams received, each NLMSG_ALIGNed, concatenated. */
  messages: Buffer;
  /**
   * Why it ended without (or with fewer) messages, or null. ENOBUFS: the kernel dropped
   * notifications because the receive buffer was full; state must be read again. ETIMEDOUT:
   * nothing within timeoutMs. ECANCELED: {@link Binding.cancel} or {@link Binding.close}.
   * EMSGSIZE: a datagram did not fit the buffer.
   */
  error: NativeError | null;
}

let binding: Binding | undefined;

/** The platforms the package ships a prebuilt addon for (`prebuilds/linux-<arch>/ipvs.<libc>.node`). */
export const PREBUILT_PLATFORMS = ['linux-x64 glibc', 'linux-x64 musl', 'linux-arm64 glibc', 'linux-arm64 musl'] as const;

/**
 * musl or glibc, from the C library this process has mapped: musl's dynamic loader is also its
 * libc, mapped as `/lib/ld-musl-<arch>.so.1` (Alpine) or through that symlink as
 * `/usr/lib/<arch>-linux-musl/libc.so` (Debian's musl package). Reading /proc/self/maps costs well
 * under a millisecond, where `process.report.getReport()` (what detect-libc asks) costs tens.
 */
function runningLibc(): 'glibc' | 'musl' {
  try {
    return /\/ld-musl-|-linux-musl\/libc\.so/.test(readFileSync('/proc/self/maps', 'latin1')) ? 'musl' : 'glibc';
  } catch {
    return 'glibc';
  }
}

/**
 * Where the addon may be, best first: a local build (`npm run build:native` in a clone), then the
 * prebuild for this architecture and C library. `root` is the package root (one level above both
 * `src/` and `dist/`).
 */
export function addonCandidates(root: string, arch: string = process.arch, libc: 'glibc' | 'musl' = runningLibc()): string[] {
  return [path.join(root, 'build', 'Release', 'ipvs_native.node'), path.join(root, 'prebuilds', `linux-${arch}`, `ipvs.${libc}.node`)];
}

/**
 * Loads the addon from the first of {@link addonCandidates} that exists.
 * @throws Error when none does, saying which platforms ship and how to build from source.
 */
export function loadAddon(root: string, arch: string = process.arch, libc: 'glibc' | 'musl' = runningLibc()): Binding {
  const found = addonCandidates(root, arch, libc).find((f) => existsSync(f));
  if (found === undefined) {
    throw new Error(
      `ipvs: no prebuilt addon for linux-${arch} ${libc}; the package ships ${PREBUILT_PLATFORMS.join(', ')}. ` +
        'To build from source: clone the repository, npm install, npm run build:native (needs python3, make and a C++17 compiler), ' +
        `and copy build/Release/ipvs_native.node to ${path.join(root, 'build', 'Release')}/`,
    );
  }
  return loadFile(found);
}

function loadFile(file: string): Binding {
  const mod = { exports: {} as Binding };
  process.dlopen(mod, file);
  return mod.exports;
}

/**
 * The addon, loaded on first call from `build/Release/` or `prebuilds/` at the package root (one
 * level above both `src/` and `dist/`). No install script runs: the package carries its binaries.
 * The environment variable `IPVS_ADDON`, when set, names the addon file to load instead (a
 * sanitizer build: `npm run test:sanitize` uses it).
 * @throws Error on any platform but Linux, and as {@link loadAddon} does.
 */
export function native(): Binding {
  if (binding === undefined) {
    if (process.platform !== 'linux') {
      throw new Error(`ipvs: needs Linux; this is ${process.platform}`);
    }
    const override = process.env.IPVS_ADDON;
    binding = override ? loadFile(path.resolve(override)) : loadAddon(path.join(__dirname, '..'));
  }
  return binding;
}
