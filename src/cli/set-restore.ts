/**
 * `ipvs set restore`: `ipset restore` text read whole and checked before anything is applied
 * (every line parsed, every entry parsed with its set's type), then carried out as batches: one
 * commit for each run of create / add / del / flush NAME / destroy NAME lines, the entries in the
 * kernel's bulk form. rename, swap and flush or destroy of every set run on their own, in order.
 *
 * The lines `ipset save` writes (`add NAME 10.0.0.1`, `add NAME 10.0.0.1,tcp:80`, `10.0.0.0/24`)
 * are read by a tokenizer made for them; any other line goes to the library's restore parser,
 * whose words the errors keep.
 */
import { readText } from './process-io';
import { openHandle, parseIpsetEntry, parseIpsetRestore, type Handle, type IpsetEntry, type IpsetFamily, type IpsetRestoreCommand } from '../index';
import { checkEntryFamily } from '../ipset/entry';
import { TEXT_PARTS, fastTextCode, hasMore, type FastArrays, type FastValues } from '../batch/ipset-fast';
import type { ReadEntries } from '../batch/ipset';
import { UsageError, type CliIo, type GlobalOptions } from './types';
import { Refusals, progressLine, takeQuiet } from './restore-report';

/**
 * `add` (or `del`) lines of one set, one after another in the file: entry k is on line `line + k`.
 * A file of 50,000 entries is then a few commands rather than 50,000 objects that live until the
 * end (in the VM, each young-generation copy and each fresh page of them counts). The entries are
 * text as read; {@link parseEntries} replaces those the batch cannot read in place with objects.
 */
export interface EntryLines {
  kind: 'add' | 'del';
  set: string;
  line: number;
  entries: (string | IpsetEntry)[];
  /** Every entry read in place (all text of the fast shapes), for the set type then known. */
  read?: ReadEntries;
}

type Cmd = Exclude<IpsetRestoreCommand, { kind: 'add' | 'del' }> | EntryLines;

/** A decimal octet without leading zeros: what ipset save writes and the library keeps as given. */
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = `${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}`;
/** `ADDR`, `ADDR/CIDR`, `ADDR,PROTO:PORT`, `ADDR,PROTO:PORT,ADDR[/CIDR]`: nothing else is fast. */
const FAST_ENTRY = new RegExp(`^(${IPV4})(?:/(\\d{1,2}))?(?:,(tcp|udp|sctp):(\\d{1,5})(?:,(${IPV4})(?:/(\\d{1,2}))?)?)?$`);

/**
 * An entry of the shapes `ipset save` writes for IPv4 sets, as the object the library's parser
 * makes of it (unit tests compare the two); undefined for anything else.
 */
export function fastEntry(type: string, text: string): IpsetEntry | undefined {
  const parts = TEXT_PARTS[type];
  if (parts === undefined) return undefined;
  const m = FAST_ENTRY.exec(text);
  if (!m) return undefined;
  const have = m[3] === undefined ? 1 : m[5] === undefined ? 2 : 3;
  if (have !== parts) return undefined;
  const e: IpsetEntry = {};
  if (m[2] !== undefined) e.cidr = Number(m[2]);
  e.ip = m[1]!;
  if (have >= 2) {
    e.proto = m[3]!;
    e.port = Number(m[4]);
  }
  if (have === 3) {
    if (m[6] !== undefined) e.cidr2 = Number(m[6]);
    e.ip2 = m[5]!;
  }
  return e;
}

/** The set name of the last fast line: the next line's, mostly, which then needs no string of its own. */
let lastSet = '';
/** What {@link fastLine} read. */
const fast = { kind: 'add' as 'add' | 'del', set: '', entry: '' };

/**
 * `add NAME ENTRY` / `del NAME ENTRY` at [start, end) of the text, with a plain name and an entry
 * of one word, read in place into {@link fast} (the entry is the one string made); false otherwise.
 */
function fastLine(text: string, start: number, end: number): boolean {
  if (text.startsWith('add ', start)) fast.kind = 'add';
  else if (text.startsWith('del ', start)) fast.kind = 'del';
  else return false;
  const at = start + 4;
  const sp = text.indexOf(' ', at);
  if (sp <= at || sp + 1 >= end || sp - at > 31) return false;
  const entry = text.slice(sp + 1, end);
  // one word, no quotes, tabs or carriage returns: anything else is the general parser's (a
  // regular expression is machine code from the first line on; a loop here would be interpreted)
  if (NOT_ONE_WORD.test(entry)) return false;
  let set = lastSet;
  if (sp - at !== set.length || !text.startsWith(set, at)) {
    set = text.slice(at, sp);
    if (NOT_ONE_WORD.test(set)) return false;
    lastSet = set;
  }
  fast.set = set;
  fast.entry = entry;
  return true;
}
const NOT_ONE_WORD = /[ "\t\r]/;

const NONE = new Int32Array(0);

/** What a set is known as while the file is read: its type and family. */
interface SetInfo {
  type: string;
  family: IpsetFamily | undefined;
}

/**
 * Reads every line; returns the commands (consecutive add or del lines of one set as one
 * {@link EntryLines}), or the reasons of the lines that cannot be read.
 */
export function readRestoreText(text: string, refuse: (line: number, reason: string) => void): Cmd[] {
  const cmds: Cmd[] = [];
  let run: EntryLines | undefined;
  const entryLine = (kind: 'add' | 'del', set: string, entry: string, line: number) => {
    if (run !== undefined && run.kind === kind && run.set === set && run.line + run.entries.length === line) run.entries.push(entry);
    else cmds.push(run = { kind, set, line, entries: [entry] });
  };
  let line = 0;
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    if (end > start && fastLine(text, start, end)) {
      entryLine(fast.kind, fast.set, fast.entry, line);
      start = end + 1;
      continue;
    }
    const raw = end === start ? '' : text.slice(start, end).trim();
    start = end + 1;
    if (raw === '' || raw.startsWith('#') || raw === 'COMMIT') continue;
    try {
      const [c] = parseIpsetRestore(raw);
      if (c === undefined) continue;
      if (c.kind === 'add' || c.kind === 'del') entryLine(c.kind, c.set, c.entry, line);
      else cmds.push({ ...c, line } as Cmd); // (the add | del member is not narrowed away by two tests)
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      refuse(line, err.message.replace(/^ipset\.restore: line 1: /, ''));
    }
  }
  return cmds;
}

/**
 * Parses every add/del entry with its set's type, following the file's creates, renames, swaps
 * and destroys; the types of sets the file does not create are asked of the kernel. Entries the
 * batch reads as text in place stay text; the others become the library parser's objects.
 */
async function parseEntries(h: Handle, cmds: Cmd[], refuse: (line: number, reason: string) => void): Promise<void> {
  const known = new Map<string, SetInfo | null>();
  // sets named before any create in the file: their types are the kernel's
  const created = new Set<string>();
  const ask = new Set<string>();
  for (const c of cmds) {
    if (c.kind === 'create') created.add(c.set);
    else if ('set' in c && c.set !== undefined && !created.has(c.set)) ask.add(c.set);
    if ((c.kind === 'rename' || c.kind === 'swap') && !created.has(c.to)) ask.add(c.to);
  }
  const kernel = new Map<string, SetInfo | null>();
  await Promise.all([...ask].map(async (name) => {
    try {
      const s = await h.ipset.header(name);
      kernel.set(name, { type: s.type, family: s.family });
    } catch {
      kernel.set(name, null); // absent (or unreadable): its lines fail as ipset's would
    }
  }));
  const info = (name: string): SetInfo | null => (known.has(name) ? known.get(name)! : kernel.get(name) ?? null);
  const scratch: FastValues = { ip: 0, portProto: 0, ip2: 0, cidrs: 0 };
  for (const c of cmds) {
    switch (c.kind) {
      case 'create':
        known.set(c.set, { type: c.type, family: c.options.family });
        break;
      case 'destroy':
        if (c.set === undefined) {
          for (const k of new Set([...known.keys(), ...kernel.keys()])) known.set(k, null);
        } else known.set(c.set, null);
        break;
      case 'rename': {
        const a = info(c.set);
        known.set(c.to, a);
        known.set(c.set, null);
        break;
      }
      case 'swap': {
        const a = info(c.set), b = info(c.to);
        known.set(c.set, b);
        known.set(c.to, a);
        break;
      }
      case 'add': case 'del': {
        const t = info(c.set);
        const list = c.entries;
        if (!t) {
          for (let k = 0; k < list.length; k++) refuse(c.line + k, `the set ${c.set} does not exist`);
          break;
        }
        const op = `ipset.${c.kind}`;
        const v4 = t.family !== 'inet6';
        const n = list.length;
        // what the batch would read of them at commit, kept: it need not read them again
        const shapes = new Uint8Array(n);
        const values: FastArrays = { ips: new Int32Array(n), portProtos: new Int32Array(n), ip2s: NONE, cidrs: new Uint16Array(0) };
        let all = v4;
        for (let k = 0; k < n; k++) {
          const text = list[k] as string;
          // the common IPv4 shapes: checked in place and left as text (no object per entry)
          const code = v4 ? fastTextCode(t.type, text, scratch) : 0;
          if (code) {
            shapes[k] = code;
            values.ips[k] = scratch.ip;
            values.portProtos[k] = scratch.portProto;
            if (hasMore(code)) {
              if (values.ip2s.length === 0) {
                values.ip2s = new Int32Array(n);
                values.cidrs = new Uint16Array(n);
              }
              values.ip2s[k] = scratch.ip2;
              values.cidrs[k] = scratch.cidrs;
            }
            continue;
          }
          all = false;
          try {
            let e = v4 ? fastEntry(t.type, text) : undefined;
            if (!e) {
              e = parseIpsetEntry(t.type, text, op);
              checkEntryFamily(e, t.family, op);
            }
            list[k] = e;
          } catch (err) {
            if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
            refuse(c.line + k, err.message);
          }
        }
        if (all) c.read = { type: t.type, shapes, values };
        break;
      }
      default:
        break;
    }
  }
}

/** Whether a command travels in a batch (the batch has no rename, swap, or flush/destroy of every set). */
function batchable(c: Cmd): boolean {
  return c.kind === 'create' || c.kind === 'add' || c.kind === 'del' || ((c.kind === 'flush' || c.kind === 'destroy') && c.set !== undefined);
}

/** The line of each change of a batch: changes from `first[k]` on are on lines from `line[k]` on, one each. */
class LineMap {
  private readonly first: number[] = [];
  private readonly line: number[] = [];

  add(first: number, line: number): void {
    this.first.push(first);
    this.line.push(line);
  }

  of(index: number): number {
    let lo = 0, hi = this.first.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.first[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return this.line[lo]! + index - this.first[lo]!;
  }
}

/**
 * Queues commands `[i, j)` into a batch; the batch checks each entry's values as it is queued.
 * Returns the batch and the line of every change (lines of a refused entry are refused).
 */
function queue(h: Handle, cmds: Cmd[], i: number, j: number, exist: boolean, refuse: (line: number, reason: string) => void) {
  const b = h.batch();
  const lines = new LineMap();
  for (let x = i; x < j;) {
    const c = cmds[x]!;
    try {
      if (c.kind === 'add' || c.kind === 'del') {
        // runs of one set split by a comment or a blank line travel as one
        let y = x + 1;
        while (y < j && cmds[y]!.kind === c.kind && (cmds[y] as EntryLines).set === c.set) y++;
        const runs = cmds.slice(x, y) as EntryLines[];
        const list = runs.length === 1 ? c.entries : runs.flatMap((r) => r.entries);
        let first = b.length;
        try {
          if (runs.length === 1 && c.read) b.ipset.queueRead(c.kind, c.set, list as string[], c.read, { exist });
          else if (c.kind === 'add') b.ipset.add(c.set, list, { exist });
          else b.ipset.del(c.set, list, { exist });
        } catch (err) {
          if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
          // which entry: queue them one by one in a scratch batch for its line and reason
          const scratch = h.batch();
          for (const r of runs) {
            r.entries.forEach((e, k) => {
              try {
                if (c.kind === 'add') scratch.ipset.add(c.set, e, { exist });
                else scratch.ipset.del(c.set, e, { exist });
              } catch (why) {
                refuse(r.line + k, (why as Error).message);
              }
            });
          }
        }
        for (const r of runs) {
          lines.add(first, r.line);
          first += r.entries.length;
        }
        x = y;
        continue;
      }
      lines.add(b.length, c.line);
      if (c.kind === 'create') b.ipset.create(c.set, c.type, { ...c.options, exist });
      else if (c.kind === 'flush') b.ipset.flush(c.set!);
      else if (c.kind === 'destroy') b.ipset.destroy(c.set!);
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
      refuse(c.line, err.message);
    }
    x++;
  }
  return { b, lines };
}

/** Runs one command the batch does not carry. */
async function runOne(h: Handle, c: Cmd): Promise<void> {
  switch (c.kind) {
    case 'flush': return c.set === undefined ? h.ipset.flushAll() : h.ipset.flush(c.set);
    case 'destroy': return c.set === undefined ? h.ipset.destroyAll() : h.ipset.destroy(c.set);
    case 'rename': return h.ipset.rename(c.set, c.to);
    case 'swap': return h.ipset.swap(c.set, c.to);
    default: throw new Error(`set restore: unexpected ${c.kind}`);
  }
}

/** `ipvs set restore [-exist] [-f FILE] [-q]`; exit status 0, 1 after a refusal, 2 for a file that does not parse. */
export async function runSetRestore(args: string[], global: GlobalOptions, io: CliIo): Promise<number> {
  const exist = args.some((a) => a === '-exist' || a === '-!' || a === '--exist');
  const { rest, quiet } = takeQuiet(args.filter((a) => a !== '-exist' && a !== '-!' && a !== '--exist'));
  let file: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '-f' || rest[i] === '-file' || rest[i] === '--file') file = rest[++i];
    else throw new UsageError(`set restore: unexpected argument ${rest[i]!.slice(0, 60)}`);
  }
  const text = file === undefined || file === '-' ? await io.readStdin() : readText(file);
  const refusals = new Refusals(io, 'ipvs set restore');
  const refuse = (line: number, reason: string) => refusals.add(`line ${line}: ${reason}`);
  const cmds = readRestoreText(text, refuse);
  const h = openHandle(global.netns === undefined ? {} : { netns: global.netns });
  try {
    await parseEntries(h, cmds, refuse);
    // every batch queued (and so checked) before the first is sent
    const steps: (ReturnType<typeof queue> | Cmd)[] = [];
    for (let i = 0; i < cmds.length;) {
      if (!batchable(cmds[i]!)) {
        steps.push(cmds[i++]!);
        continue;
      }
      let j = i + 1;
      while (j < cmds.length && batchable(cmds[j]!)) j++;
      if (refusals.count === 0) steps.push(queue(h, cmds, i, j, exist, refuse));
      i = j;
    }
    if (refusals.count) {
      refusals.end();
      io.err(`ipvs set restore: ${refusals.count} line${refusals.count === 1 ? '' : 's'} not understood; nothing was applied\n`);
      return 2;
    }
    let done = 0;
    for (const s of steps) {
      if ('kind' in s) {
        try {
          await runOne(h, s);
        } catch (err) {
          io.err(`ipvs set restore: line ${s.line}: ${(err as Error).message}\n`);
          io.err(`ipvs set restore: ${done} change${done === 1 ? '' : 's'} applied before it; nothing after\n`);
          return 1;
        }
        done++;
        continue;
      }
      if (s.b.length === 0) continue;
      const progress = progressLine(io, quiet, 'ipvs set restore');
      const r = await s.b.commit({ onError: 'stop', ...(progress.onProgress && { onProgress: progress.onProgress }) });
      progress.end();
      done += r.applied;
      if (!r.ok) {
        for (const c of r.results) {
          if (c.status === 'error' || c.status === 'unknown') {
            refusals.add(`line ${s.lines.of(c.index)}: ${c.status === 'unknown' ? 'not known to be applied: ' : ''}${(c.error?.message ?? 'refused').replace(/ \(operation #\d+\)/, '')}`);
          }
        }
        refusals.end();
        io.err(`ipvs set restore: ${done} change${done === 1 ? '' : 's'} applied; ${r.failed} refused${r.skipped ? `, ${r.skipped} not sent` : ''}\n`);
        return 1;
      }
    }
    return 0;
  } finally {
    h.close();
  }
}
