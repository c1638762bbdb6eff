/**
 * Light pieces the CLI needs before it knows its command (its version, whether the words are an
 * ipvsadm command line): nothing here loads the library.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

let version: string | undefined;
/** This package's version, from its package.json (one level above src/ and dist/; two above dist/cli.js's bundle is one). */
export function packageVersion(): string {
  if (version !== undefined) return version;
  for (const up of [['..', '..'], ['..']]) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(__dirname, ...up, 'package.json'), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'ipvs') return (version = pkg.version);
    } catch {
      // try the next place
    }
  }
  return (version = 'unknown');
}

/** The options that make `ipvs ARGS` an ipvsadm command line: the command options. */
const COMMAND_SHORT = new Set(['A', 'E', 'D', 'C', 'L', 'l', 'Z', 'a', 'e', 'd', 'R', 'S']);
const COMMAND_LONG = new Set([
  '--add-service', '--edit-service', '--delete-service', '--clear', '--list', '--zero', '--add-server',
  '--edit-server', '--delete-server', '--set', '--restore', '--save', '--start-daemon', '--stop-daemon',
]);

/** Whether `arg`, the first word after the global options, starts an ipvsadm command line. */
export function isIpvsadmCommand(arg: string | undefined): boolean {
  if (arg === undefined) return false;
  if (arg.startsWith('--')) return COMMAND_LONG.has(arg.split('=')[0]!);
  return /^-[A-Za-z]/.test(arg) && COMMAND_SHORT.has(arg[1]!);
}

/** Whether the words ask for help: `--help` or `-h` before any `--`. */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** A name looked up in a table of verbs, own keys only (`constructor`, `__proto__` are not verbs). */
export function ownEntry<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}
