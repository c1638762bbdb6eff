/**
 * The text of `ipset save` / `ipset restore`, both ways, so files move between this library and
 * the ipset tool unchanged.
 */
import { formatEntry, tokenize, checkSetName } from './entry';
import { createOptionsOf, formatCreateOptions, parseCreateOptions, type IpsetCreateOptions, type IpsetSet } from './set';

/**
 * Sets in `ipset save` format: per set a `create NAME TYPE OPTIONS` line and an `add NAME ENTRY`
 * line per entry, list:set sets last (their members must exist before them on restore), as the
 * tool orders them.
 * @category ipset
 */
export function formatSave(sets: readonly IpsetSet[]): string {
  const ordered = [...sets.filter((s) => s.type !== 'list:set'), ...sets.filter((s) => s.type === 'list:set')];
  const lines: string[] = [];
  for (const s of ordered) {
    const opts = formatCreateOptions(s.type, createOptionsOf(s));
    lines.push(`create ${s.name} ${s.type}${opts ? ` ${opts}` : ''}`);
    for (const e of s.entries ?? []) lines.push(`add ${s.name} ${formatEntry(s.type, e)}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** One command of a restore file, with its 1-based line number. @category ipset */
export type IpsetRestoreCommand =
  | {
      /** `create NAME TYPE OPTIONS` (also `n`, `-N`). */
      kind: 'create';
      /** 1-based line number in the restore text. */
      line: number;
      /** Name of the set to create. */
      set: string;
      /** Set type, e.g. `hash:ip`. */
      type: string;
      /** The create options, parsed. */
      options: IpsetCreateOptions;
    }
  | {
      /** `add NAME ENTRY` (also `a`, `-A`) or `del NAME ENTRY` (also `d`, `-D`). */
      kind: 'add' | 'del';
      /** 1-based line number in the restore text. */
      line: number;
      /** Name of the set. */
      set: string;
      /** The entry as text, in the set type's syntax (`10.0.0.1,tcp:80 timeout 30`). */
      entry: string;
    }
  | {
      /** `flush [NAME]` (also `f`, `-F`) or `destroy [NAME]` (also `x`, `-X`). */
      kind: 'flush' | 'destroy';
      /** 1-based line number in the restore text. */
      line: number;
      /** Name of the set; absent: every set. */
      set?: string;
    }
  | {
      /** `rename FROM TO` (also `e`, `-E`) or `swap FROM TO` (also `w`, `-W`). */
      kind: 'rename' | 'swap';
      /** 1-based line number in the restore text. */
      line: number;
      /** The first set's name. */
      set: string;
      /** The second name: the new name (rename) or the set to swap with (swap). */
      to: string;
    };

const ALIASES: Record<string, string> = {
  create: 'create', n: 'create', '-N': 'create',
  add: 'add', a: 'add', '-A': 'add',
  del: 'del', d: 'del', '-D': 'del',
  flush: 'flush', f: 'flush', '-F': 'flush',
  destroy: 'destroy', x: 'destroy', '-X': 'destroy',
  rename: 'rename', e: 'rename', '-E': 'rename',
  swap: 'swap', w: 'swap', '-W': 'swap',
};

/**
 * Parses `ipset restore` text: the commands `ipset save` writes and the other set commands, one
 * per line; blank lines, `#` comments and `COMMIT` are skipped. Entries stay text here (their
 * syntax depends on the set's type, known when they run). Throws TypeError naming the line.
 * @category ipset
 */
export function parseRestore(text: string): IpsetRestoreCommand[] {
  const out: IpsetRestoreCommand[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#') || raw === 'COMMIT') continue;
    const op = `ipset.restore: line ${line}`;
    const words = tokenize(raw);
    const kind = ALIASES[words[0]!];
    if (!kind) throw new TypeError(`${op}: unknown command '${words[0]}'`);
    const set = words[1];
    switch (kind) {
      case 'create': {
        checkSetName(set, 'set name', op);
        const type = words[2];
        if (!type) throw new TypeError(`${op}: create needs a type`);
        out.push({ kind, line, set: set!, type, options: parseCreateOptions(words.slice(3), op) });
        break;
      }
      case 'add': case 'del': {
        checkSetName(set, 'set name', op);
        // The entry is the rest of the line as written (quotes kept for comments).
        const rest = raw.slice(raw.indexOf(set!, raw.indexOf(words[0]!) + words[0]!.length) + set!.length).trim();
        if (!rest) throw new TypeError(`${op}: ${kind} needs an entry`);
        out.push({ kind, line, set: set!, entry: rest });
        break;
      }
      case 'flush': case 'destroy':
        if (set !== undefined) checkSetName(set, 'set name', op);
        out.push(set === undefined ? { kind, line } : { kind, line, set });
        break;
      case 'rename': case 'swap': {
        checkSetName(set, 'set name', op);
        checkSetName(words[2], 'second set name', op);
        out.push({ kind, line, set: set!, to: words[2]! });
        break;
      }
    }
  }
  return out;
}
