/**
 * ipset's own options for `ipvs set`, taken where ipset takes them: before or after the command
 * and among its arguments (`ipvs set -exist add s 10.0.0.1`, `ipvs set add s 10.0.0.1 -exist`,
 * `ipvs set list -o save -sorted s`, `ipvs set -f FILE restore`), and the `list` / `save`
 * output they select, text for text with ipset 7.17.
 *
 * | option               | ipset                     | here                                         |
 * |----------------------|---------------------------|----------------------------------------------|
 * | `-o plain\|save`     | output mode of list/save  | the same; the last one given wins            |
 * | `-s`, `-sorted`      | hash members sorted       | the same order (ipset/sort.ts)               |
 * | `-q`, `-quiet`       | no warnings nor errors    | nothing on standard error; same exit status  |
 * | `-!`, `-exist`       | ignore "exists" refusals  | create, add, del, restore                    |
 * | `-f FILE`, `-file`   | restore from / list to    | restore reads it, list and save write it     |
 * | `-t`, `-terse`       | headers only              | the same                                     |
 * | `-n`, `-name`        | names only                | the same (`--netns` is the namespace option) |
 */
import { writeFileSync } from 'node:fs';
import {
  formatIpsetCreateOptions, formatIpsetEntry, formatIpsetSave, sortIpsetEntries, type IpsetSet,
} from '../index';
import { UsageError, type CliIo, type GlobalOptions } from './types';
import { withHandle } from './handle';

/** ipset's options, wherever they stood on the command line. */
export interface SetCliOptions {
  /** `-o plain|save`: the output of list and save (list: plain, save: save, by default). */
  output?: 'plain' | 'save';
  /** `-s` / `-sorted`: members of hash sets sorted as ipset sorts them. */
  sorted: boolean;
  /** `-q` / `-quiet`: no warnings or errors on standard error. */
  quiet: boolean;
  /** `-!` / `-exist`: creating an existing set, adding a present or deleting a missing entry is no error. */
  exist: boolean;
  /** `-f FILE` / `-file FILE`: restore from FILE; list and save write to it. */
  file?: string;
  /** `-t` / `-terse`: headers only. */
  terse: boolean;
  /** `-n` / `-name`: set names only. */
  names: boolean;
  /** `--json`: the sets as JSON (list). */
  json: boolean;
}

const FLAGS: Record<string, keyof SetCliOptions> = {
  '-s': 'sorted', '-sorted': 'sorted', '--sorted': 'sorted',
  '-q': 'quiet', '-quiet': 'quiet', '--quiet': 'quiet',
  '-!': 'exist', '-exist': 'exist', '--exist': 'exist',
  '-t': 'terse', '-terse': 'terse', '--terse': 'terse',
  '-n': 'names', '-name': 'names', '--name': 'names',
  '--json': 'json',
};

/**
 * Splits `ipvs set` arguments into the command, its own arguments and ipset's options, which may
 * stand anywhere. Throws UsageError for an option without its value or an output mode ipset
 * does not know (in ipset's words).
 */
export function parseSetArgs(args: readonly string[]): { command: string | undefined; rest: string[]; options: SetCliOptions } {
  const options: SetCliOptions = { sorted: false, quiet: false, exist: false, terse: false, names: false, json: false };
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const flag = Object.prototype.hasOwnProperty.call(FLAGS, a) ? FLAGS[a] : undefined;
    if (flag) {
      (options as unknown as Record<string, boolean>)[flag] = true;
    } else if (a === '-o' || a === '-output' || a === '--output') {
      const mode = args[++i];
      if (mode === undefined) throw new UsageError(`set: ${a} needs an output mode (plain or save)`);
      if (mode === 'xml') throw new UsageError("set: output mode 'xml' is not supported here (plain or save)");
      if (mode !== 'plain' && mode !== 'save') throw new UsageError(`set: Syntax error: unknown output mode '${mode}'`);
      options.output = mode;
    } else if (a === '-f' || a === '-file' || a === '--file') {
      const file = args[++i];
      if (file === undefined) throw new UsageError(`set: ${a} needs a file name`);
      options.file = file;
    } else {
      words.push(a);
    }
  }
  const [command, ...rest] = words;
  return { command, rest, options };
}

/** Writes command output where `-f` says, else to standard output. */
function emit(text: string, options: SetCliOptions, io: CliIo): void {
  if (options.file !== undefined && options.file !== '-') writeFileSync(options.file, text);
  else io.out(text);
}

/** The text of `ipset list` for one set; `-t` (`terse`) leaves out the `Members:` line (a header-only read has no members). */
export function formatIpsetList(s: IpsetSet, terse = false): string {
  const create = formatIpsetCreateOptions(s.type, {
    ...(s.family && !s.type.startsWith('bitmap:') && { family: s.family }),
    ...(s.range !== undefined && { range: s.range }),
    ...(s.markmask !== undefined && { markmask: s.markmask }),
    ...(s.hashsize !== undefined && { hashsize: s.hashsize }),
    ...(s.maxelem !== undefined && { maxelem: s.maxelem }),
    ...(s.netmask !== undefined && { netmask: s.netmask }),
    ...(s.size !== undefined && { size: s.size }),
    ...(s.timeout !== undefined && { timeout: s.timeout }),
    ...(s.counters && { counters: true }), ...(s.comment && { comment: true }),
    ...(s.skbinfo && { skbinfo: true }), ...(s.forceadd && { forceadd: true }),
    ...(s.bucketsize !== undefined && { bucketsize: s.bucketsize }),
    ...(s.initval !== undefined && { initval: s.initval }),
  });
  const lines = [
    `Name: ${s.name}`, `Type: ${s.type}`, `Revision: ${s.revision}`, `Header: ${create}`,
    `Size in memory: ${s.memsize}`, `References: ${s.references}`, `Number of entries: ${s.elements}`,
  ];
  if (!terse) lines.push('Members:');
  for (const e of s.entries ?? []) lines.push(formatIpsetEntry(s.type, e));
  return `${lines.join('\n')}\n`;
}

/**
 * `ipvs set list` and `ipvs set save`: the named set or every set, in the output mode `-o` picks
 * (list: plain, save: save by default), members sorted with `-sorted`, headers only with `-t`,
 * names only with `-name` (plain only: ipset's save mode ignores it), to `-f FILE` when given.
 */
export async function runListSave(command: 'list' | 'save', args: string[], options: SetCliOptions, global: GlobalOptions, io: CliIo): Promise<number> {
  if (args.length > 1 && command === 'list') throw new UsageError(`set list: Unknown argument ${args[1]}`);
  const mode = options.output ?? (command === 'list' ? 'plain' : 'save');
  // ipset 7.17's rules: save mode ignores -name and -t; only `list` asks the kernel for headers
  // alone (`save -o plain -t` prints the members, without their `Members:` line)
  const namesOnly = options.names && mode !== 'save';
  const headerOnly = namesOnly || (options.terse && command === 'list' && mode !== 'save');
  await withHandle(global, async (h) => {
    let sets = args.length > 0
      ? await Promise.all(args.map((n) => (headerOnly ? h.ipset.header(n) : h.ipset.list(n))))
      : await h.ipset.listAll({ headerOnly });
    if (options.sorted) sets = sets.map((s) => (s.entries ? { ...s, entries: sortIpsetEntries(s.type, s.entries) } : s));
    let text: string;
    if (options.json) text = `${JSON.stringify(namesOnly ? sets.map((s) => s.name) : sets, null, 2)}\n`;
    else if (namesOnly) text = sets.map((s) => `${s.name}\n`).join('');
    else if (mode === 'save') text = formatIpsetSave(sets);
    else text = sets.map((s) => formatIpsetList(s, options.terse)).join('\n');
    emit(text, options, io);
  });
  return 0;
}
