import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';

/**
 * errno number (positive) to its name, from Node's own table (`os.constants.errno`). Where two
 * names share a number (Linux: EOPNOTSUPP and ENOTSUP are both 95, EWOULDBLOCK and EAGAIN 11),
 * the one Node itself gives a system error of that number (`util.getSystemErrorName`) wins:
 * `ENOTSUP`, `EAGAIN`. Code that switches on a code uses these names.
 */
let errnoNames: Map<number, string> | undefined;

/** Built on the first error, not at import: most processes never name one. */
function errnoTable(): Map<number, string> {
  if (errnoNames) return errnoNames;
  const t = new Map<number, string>();
  for (const [name, value] of Object.entries(constants.errno)) {
    if (!t.has(value)) t.set(value, name);
    else t.set(value, nodeName(value) ?? t.get(value)!);
  }
  return errnoNames = t;
}

function nodeName(errno: number): string | undefined {
  try {
    const name = getSystemErrorName(-errno);
    return /^E[A-Z0-9]+$/.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The symbolic name of an errno (`'EEXIST'`; `'ENOTSUP'` for 95, which Linux also calls
 * EOPNOTSUPP), or `'E<number>'` when the table lacks it.
 */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  return errnoTable().get(n) ?? `E${n}`;
}

/** The kernel's extended acknowledgement, when it sent one (NETLINK_EXT_ACK). @category Errors */
export interface ExtAck {
  /** NLMSGERR_ATTR_MSG: the kernel's own words. */
  message?: string;
  /** NLMSGERR_ATTR_OFFS: byte offset of the offending attribute within the request. */
  offset?: number;
}

/** Fields of a {@link NetlinkError}. @category Errors */
export interface NetlinkErrorInit {
  /** Symbolic code: `'EEXIST'`, `'ESRCH'`, `'ETIMEDOUT'`, or a family's own such as `'IPSET_ERR_EXIST'`. */
  code: string;
  /** Negative errno, as Node's own system errors carry it. */
  errno: number;
  /** The operation, named as the facade names it: `'ipvs.addService'`. */
  op: string;
  /** The operation's index in its batch, when it was part of one. */
  index?: number;
  /** What the kernel said beyond the errno. */
  extack?: ExtAck;
  /** The system call, for errors of the transport rather than of a request. */
  syscall?: string;
  /** A sentence in the user's terms; the code is appended in parentheses. */
  detail?: string;
}

/**
 * A refusal from the kernel, or a failure of the netlink transport, for one operation.
 *
 * The message reads `op: detail (CODE)`, e.g.
 * `ipvs.addDestination: service 10.0.0.1:80/tcp not defined (ESRCH)`.
 *
 * @example
 * ```ts
 * import { openHandle, NetlinkError } from 'ipvs';
 *
 * const h = openHandle();
 * try {
 *   await h.ipvs.deleteService({ protocol: 'tcp', address: '10.96.0.99', port: 80 });
 * } catch (err) {
 *   // ipvs.deleteService: service 10.96.0.99:80/tcp not defined (ESRCH)
 *   if (err instanceof NetlinkError && err.code === 'ESRCH') console.log('already gone:', err.message);
 *   else throw err;
 * }
 * h.close();
 * ```
 * @category Errors
 */
export class NetlinkError extends Error {
  /**
   * Symbolic code: an errno name (`'EEXIST'`, `'ESRCH'`, `'ENOENT'`, `'EPERM'`, `'ETIMEDOUT'`) or
   * a family's own (`'IPSET_ERR_EXIST'`). Switch on this, not on the message.
   */
  readonly code: string;
  /** Negative errno, as Node's own system errors carry it (`-17` for EEXIST). */
  readonly errno: number;
  /** The operation, named as the facade names it: `'ipvs.addService'`. */
  readonly op: string;
  /** The operation's index in its batch or `apply` list, when it was part of one. */
  readonly index: number | undefined;
  /** What the kernel said beyond the errno (NETLINK_EXT_ACK), when it said anything. */
  readonly extack: ExtAck | undefined;
  /** The system call, for errors of the transport (`'sendmsg'`, `'recvmsg'`) rather than of a request. */
  readonly syscall: string | undefined;

  /** Builds the error; the message reads `op: detail (CODE)`. */
  constructor(init: NetlinkErrorInit) {
    const detail = init.detail ?? init.extack?.message ?? defaultDetail(init.code);
    const kernelSaid = init.detail && init.extack?.message ? ` [kernel: ${init.extack.message}]` : '';
    const where = init.index === undefined ? '' : ` (operation #${init.index})`;
    super(`${init.op}${where}: ${detail}${kernelSaid} (${init.code})`);
    this.name = 'NetlinkError';
    this.code = init.code;
    this.errno = init.errno;
    this.op = init.op;
    this.index = init.index;
    this.extack = init.extack;
    this.syscall = init.syscall;
  }
}

function defaultDetail(code: string): string {
  switch (code) {
    case 'EPERM':
    case 'EACCES':
      return 'operation not permitted: this needs CAP_NET_ADMIN (run as root or grant the capability)';
    case 'ETIMEDOUT':
      return 'the kernel did not answer in time';
    case 'ENOBUFS':
      return 'the receive buffer overflowed: the outcome is unknown, read the state back to find out';
    case 'ECANCELED':
      return 'cancelled';
    default:
      return 'the kernel refused the request';
  }
}

/** Malformed bytes from the kernel (or a fixture), with the path to what was being decoded. @category Errors */
export class DecodeError extends Error {
  /** Where decoding failed: the schema path of what was being decoded, e.g. `ipvs.dest`. */
  readonly path: string;
  /** Builds the error; the message reads `path: detail`. */
  constructor(path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = 'DecodeError';
    this.path = path;
  }
}
