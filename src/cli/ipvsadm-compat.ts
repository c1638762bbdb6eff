/**
 * ipvsadm's own command line: `ipvs -A -t 10.0.0.1:80 -s rr`, `ipvs -a -t ... -r ... -m -w 2`,
 * `-E -e -d -D -C -L -Ln -S -R -Z --set --start-daemon --stop-daemon`, with ipvsadm's exit
 * statuses for the same refusals (2 for a command line ipvsadm would not take, 255 for a kernel
 * refusal, 1 for listing a service that does not exist) and its words for the common ones, so a
 * script that calls ipvsadm works when pointed at `ipvs` or at the `ipvsadm-compat` command.
 *
 * Host names are read and printed as ipvsadm reads and prints them (names.ts). Differences: `-h`
 * / `-v` print this tool's usage and version.
 */
import { checkIpvsChange, NetlinkError, type IpvsChange } from '../index';
import type { CliIo, GlobalOptions } from './types';
import { withHandle } from './handle';
import { IpvsadmArgsError, parseIpvsadmArgs, toChange, type IpvsadmCommand } from './ipvs-args';
import { ipvsCommands } from './ipvs-commands';
import { etcServices, withHostNames } from './names';
import { isIpvsadmCommand, packageVersion } from './version';

export { isIpvsadmCommand, packageVersion };

/** ipvsadm's exit status for a command line it refuses, and for a refusal by the kernel. */
export const EXIT_USAGE = 2;
export const EXIT_KERNEL = 255;

/** ipvsadm's words for the kernel's refusals (libipvs ipvs_strerror), by command and code. */
const WORDS: Partial<Record<IpvsadmCommand, Record<string, string>>> = {
  'add-service': { EEXIST: 'Service already exists', ENOENT: 'Scheduler or persistence engine not found' },
  'edit-service': { ESRCH: 'No such service', ENOENT: 'Scheduler or persistence engine not found' },
  'delete-service': { ESRCH: 'No such service' },
  'add-server': { ESRCH: 'Service not defined', EEXIST: 'Destination already exists' },
  'edit-server': { ESRCH: 'Service not defined', ENOENT: 'No such destination' },
  'delete-server': { ESRCH: 'Service not defined', ENOENT: 'No such destination' },
  zero: { ESRCH: 'No such service' },
  'start-daemon': { EEXIST: 'Daemon has already run' },
  'stop-daemon': { ESRCH: 'No daemon is running' },
};

function refusal(command: IpvsadmCommand, err: NetlinkError): string {
  if (err.code === 'EPERM' || err.code === 'EACCES') return 'Permission denied (you must be root)';
  return WORDS[command]?.[err.code] ?? err.message;
}

const USAGE = `usage (ipvsadm's command line, as \`ipvs\` or \`ipvsadm-compat\` takes it):
  -A|-E -t|-u|--sctp-service|-f SERVICE [-s SCHED] [-p [TIMEOUT]] [-M NETMASK] [-o] [--pe NAME] [-b FLAGS]
  -D -t|-u|--sctp-service|-f SERVICE
  -C
  -R                 rules on standard input
  -S [-n]            rules to standard output (names unless -n)
  -a|-e -t|-u|--sctp-service|-f SERVICE -r SERVER[:PORT] [-g|-i|-m] [-w WEIGHT] [-x UPPER] [-y LOWER] [--tun-type ...]
  -d -t|-u|--sctp-service|-f SERVICE -r SERVER[:PORT]
  -L|-l [-n] [-c] [--stats|--rate|--thresholds|--persistent-conn|--tun-info] [--exact] [--nosort] [--timeout] [--daemon] [SERVICE]
  -Z [SERVICE]
  --set TCP TCPFIN UDP
  --start-daemon master|backup --mcast-interface IF [--syncid ID] [--sync-maxlen N] [--mcast-group G] [--mcast-port P] [--mcast-ttl T]
  --stop-daemon master|backup
  -h, --help  -v, --version
`;

/** A verb's arguments: the line without its command option (`-L`, `-l`, `--list`; `-S`, `--save`), also inside a bundle such as -Ln. */
function withoutCommand(argv: readonly string[], short: string, long: string): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (a === long || (a.length === 2 && a[0] === '-' && short.includes(a[1]!))) continue;
    if (/^-[A-Za-z]+$/.test(a) && [...short].some((c) => a.includes(c))) {
      const rest = [...a.slice(1)].filter((c) => !short.includes(c)).join('');
      if (rest) out.push(`-${rest}`);
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * Runs one ipvsadm command line (`argv` without the program name) in `global.netns` and returns
 * ipvsadm's exit status for it. With no arguments it lists, as ipvsadm does.
 */
export async function runIpvsadm(argv: readonly string[], global: GlobalOptions, io: CliIo, program = 'ipvsadm'): Promise<number> {
  if (argv.length === 0) argv = ['-L'];
  if (argv.some((a) => a === '-h' || a === '--help')) {
    io.out(`${program} ${packageVersion()} (ipvsadm-compatible)\n${USAGE}`);
    return 0;
  }
  if (argv.some((a) => a === '-v' || a === '--version')) {
    io.out(`${program} ${packageVersion()} (ipvsadm v1.31 compatible, the ipvs library over netlink)\n`);
    return 0;
  }
  let change: IpvsChange | null;
  let command: IpvsadmCommand;
  try {
    const a = await withHostNames((hosts) => parseIpvsadmArgs(argv, etcServices(), hosts));
    command = a.command;
    if (command === 'list' || command === 'save' || command === 'restore') {
      const verb = ipvsCommands[command]!;
      const args = command === 'list' ? withoutCommand(argv, 'Ll', '--list')
        : command === 'save' ? withNames(withoutCommand(argv, 'S', '--save')) : [];
      return await listLike(command, () => verb.run(args, global, io), io);
    }
    change = toChange(a);
    if (change) checkIpvsChange(change);
  } catch (err) {
    if (err instanceof IpvsadmArgsError || err instanceof TypeError || err instanceof RangeError) {
      io.err(`${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (!change) return 0;
  const [result] = await withHandle(global, (h) => h.ipvs.apply([change!]));
  if (result!.status === 'ok') return 0;
  io.err(`${refusal(command, result!.error)}\n`);
  return EXIT_KERNEL;
}

/** `-S` without `-n` prints names, as ipvsadm does; `ipvs save` needs `--names` for that. */
function withNames(args: string[]): string[] {
  return args.some((a) => a === '-n' || a === '--numeric' || /^-[A-Za-z]*n/.test(a)) ? args : [...args, '--names'];
}

/** Listing a service that does not exist is exit status 1 in ipvsadm; other kernel refusals 255. */
async function listLike(command: IpvsadmCommand, run: () => Promise<number>, io: CliIo): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof NetlinkError)) throw err;
    if (command === 'list' && err.code === 'ESRCH') {
      io.err('No such service\n');
      return 1;
    }
    io.err(`${refusal(command, err)}\n`);
    return EXIT_KERNEL;
  }
}
