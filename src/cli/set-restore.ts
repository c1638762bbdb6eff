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
import { TEXT_PARTS, fastTextCode, partsOf, scanTextEntry, storeValues, type FastArrays, type FastValues } from '../batch/ipset-fast';
import type { ReadEntries } from '../batch/ipset';
import { UsageError, type CliIo, type GlobalOptions } from './types';
import { Refusals, progressLine, takeQuiet } from './restore-report';

/**
 * `add` (or `del`) lines of one set, one after another in the file: entry k is on line `line + k`.
 * A file of 50,000 entries is then a few commands rather than 50,000 objects that live until the
 * end (in the VM, each young-generation copy and each fresh page of them counts). The entries of
 * the shapes `ipset save` writes are read in place ({@link ScannedEntries}, no string each); the
 * others are text, which {@link parseEntries} replaces with the parser's objects.
 */
export interface EntryLines {
  kind: 'add' | 'del';
  set: string;
  line: number;
  /** The entries as text, then objects; empty when they were read in place. */
  entries: (string | IpsetEntry)[];
  /** The entries read in place, when they were. */
  scanned?: ScannedRun;
  /** What the batch takes of scanned entries, once their set's type is known to fit them. */
  read?: ReadEntries;
}

/** Entries of one {@link EntryLines} read in place: `n` of the file's {@link ScannedEntries} from `from` on. */
export interface ScannedRun {
  of: ScannedEntries;
  from: number;
  n: number;
  /** Which numbers of parts (see partsOf) its entries have, as bits. */
  parts: number;
}

/** How many entries (and lines) an {@link EntryLines} has. */
const countOf = (r: EntryLines) => (r.scanned ? r.scanned.n : r.entries.length);

/** The entries of an {@link EntryLines} as they were read: text (or the objects parseEntries made of it). */
export function entriesOf(r: EntryLines): (string | IpsetEntry)[] {
  const sc = r.scanned;
  return sc ? Array.from({ length: sc.n }, (_, k) => sc.of.textAt(sc.from + k)) : r.entries;
}

/**
 * Every entry of a file read in place (see scanTextEntry), in the order read: where each starts,
 * its shape code and values, in typed arrays grown as lines are read. One for the whole file, so
 * that a file whose lines alternate between sets costs no more than one that does not.
 */
export class ScannedEntries {
  n = 0;
  private starts = new Int32Array(256);
  private shapes = new Uint8Array(256);
  private values: FastArrays = { ips: new Int32Array(256), portProtos: new Int32Array(256), ip2s: NONE, cidrs: new Uint16Array(0) };

  constructor(private readonly text: string) {}

  /** Appends an entry to `run` (which must end at the last entry appended). */
  push(run: ScannedRun, start: number, code: number, v: FastValues): void {
    const k = this.n++;
    if (k === this.starts.length) this.grow(k * 2);
    this.starts[k] = start;
    storeValues(this.shapes, this.values, k, code, v, this.starts.length);
    run.n++;
    run.parts |= 1 << partsOf(code);
  }

  private grow(size: number): void {
    const to = <T extends Int32Array | Uint8Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      if (a.length === 0) return a;
      const b = make(size);
      b.set(a);
      return b;
    };
    const v = this.values;
    this.starts = to(this.starts, (n) => new Int32Array(n));
    this.shapes = to(this.shapes, (n) => new Uint8Array(n));
    this.values = {
      ips: to(v.ips, (n) => new Int32Array(n)), portProtos: to(v.portProtos, (n) => new Int32Array(n)),
      ip2s: to(v.ip2s, (n) => new Int32Array(n)), cidrs: to(v.cidrs, (n) => new Uint16Array(n)),
    };
  }

  /** Entry k as text: from its start to the end of its line. */
  textAt(k: number): string {
    const start = this.starts[k]!;
    const end = this.text.indexOf('\n', start);
    return this.text.slice(start, end < 0 ? this.text.length : end);
  }

  /** What the batch takes of `run`'s entries, for a set of `type`. */
  readFor(run: ScannedRun, type: string): ReadEntries {
    const a = run.from, b = run.from + run.n;
    const v = this.values;
    const more = v.ip2s.length > 0;
    return {
      type,
      shapes: this.shapes.subarray(a, b),
      values: {
        ips: v.ips.subarray(a, b), portProtos: v.portProtos.subarray(a, b),
        ip2s: more ? v.ip2s.subarray(a, b) : NONE, cidrs: more ? v.cidrs.subarray(a, b) : v.cidrs,
      },
    };
  }
}

type Cmd = Exclude<IpsetRestoreCommand, { kind: 'add' | 'del' }> | EntryLines;

const NONE = new Int32Array(0);

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
  const scanned = new ScannedEntries(text);
  let run: EntryLines | undefined;
  /** `KIND SET ` of the run when its entries are read in place: a line that starts so extends it. */
  let prefix = '';
  const v: FastValues = { ip: 0, portProto: 0, ip2: 0, cidrs: 0 };
  const textLine = (kind: 'add' | 'del', set: string, entry: string, line: number) => {
    if (run !== undefined && !run.scanned && run.kind === kind && run.set === set && run.line + run.entries.length === line) run.entries.push(entry);
    else cmds.push(run = { kind, set, line, entries: [entry] });
  };
  let line = 0;
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const scan = run?.scanned;
    // the next line of a run read in place: its prefix, and an entry that reads in place too
    if (scan !== undefined && run!.line + scan.n === line && text.startsWith(prefix, start)) {
      const at = start + prefix.length;
      const code = scanTextEntry(text, at, end, v);
      if (code !== 0) {
        scanned.push(scan, at, code, v);
        start = end + 1;
        continue;
      }
    }
    if (end > start && fastLine(text, start, end)) {
      const at = end - fast.entry.length;
      const code = scanTextEntry(text, at, end, v);
      if (code !== 0) {
        const scan: ScannedRun = { of: scanned, from: scanned.n, n: 0, parts: 0 };
        scanned.push(scan, at, code, v);
        cmds.push(run = { kind: fast.kind, set: fast.set, line, entries: [], scanned: scan });
        prefix = `${fast.kind} ${fast.set} `;
      } else {
        textLine(fast.kind, fast.set, fast.entry, line);
      }
      start = end + 1;
      continue;
    }
    const raw = end === start ? '' : text.slice(start, end).trim();
    start = end + 1;
    if (raw === '' || raw.startsWith('#') || raw === 'COMMIT') continue;
    try {
      const [c] = parseIpsetRestore(raw);
      if (c === undefined) continue;
      if (c.kind === 'add' || c.kind === 'del') textLine(c.kind, c.set, c.entry, line);
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
        if (!t) {
          for (let k = 0; k < countOf(c); k++) refuse(c.line + k, `the set ${c.set} does not exist`);
          break;
        }
        const sc = c.scanned;
        if (sc !== undefined) {
          // read in place already: fit for its set when the type takes entries of those parts
          const parts = TEXT_PARTS[t.type];
          if (t.family !== 'inet6' && parts !== undefined && sc.parts === 1 << parts) {
            c.read = sc.of.readFor(sc, t.type);
            break;
          }
          c.entries = entriesOf(c);
          delete c.scanned;
        }
        const op = `ipset.${c.kind}`;
        const v4 = t.family !== 'inet6';
        const list = c.entries;
        for (let k = 0; k < list.length; k++) {
          const text = list[k] as string;
          // the common IPv4 shapes: checked in place and left as text, which the batch reads the
          // same way (no object per entry)
          if (v4 && fastTextCode(t.type, text, scratch)) continue;
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
        const sc = c.scanned;
        if (sc !== undefined) {
          // parseEntries gave every run read in place what the batch takes, or made it text
          if (c.read === undefined) throw new Error(`set restore: line ${c.line}: entries read without their set's type`);
          lines.add(b.length, c.line);
          b.ipset.queueRead(c.kind, c.set, sc.n, (k) => sc.of.textAt(sc.from + k), c.read, { exist });
          x++;
          continue;
        }
        // runs of text of one set split by a comment or a blank line travel as one
        let y = x + 1;
        while (y < j && cmds[y]!.kind === c.kind && (cmds[y] as EntryLines).set === c.set && !(cmds[y] as EntryLines).scanned) y++;
        const runs = cmds.slice(x, y) as EntryLines[];
        const list = runs.length === 1 ? c.entries : runs.flatMap((r) => r.entries);
        let first = b.length;
        try {
          if (c.kind === 'add') b.ipset.add(c.set, list, { exist });
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
