/**
 * A small YAML subset, enough for a proxy's config file, that remembers the line of every value
 * so a mistake can be reported where it is. It reads:
 *
 * - block mappings (`key: value`) and block sequences (`- item`), nested by indentation (spaces);
 * - flow sequences and mappings (`[a, b]`, `{ a: 1 }`), which may span lines; this makes every
 *   JSON document readable too, so one parser serves `.json` and `.yaml` files;
 * - plain, single-quoted and double-quoted scalars (JSON escapes), `true`/`false`, `null`/`~`,
 *   integers and decimals; `#` comments; a leading `---`.
 *
 * Anchors, aliases, tags, block scalars (`|`, `>`) and multiple documents are refused with the
 * line they are on. Why not the `yaml` package: the library has no runtime dependency but Node,
 * and an example that needed one would not show that; this subset is about 250 lines and covers
 * what a config file needs.
 */

/** Where a value was written: 1-based line. */
export interface Located {
  line: number;
}
export type Node = ScalarNode | SeqNode | MapNode;
export interface ScalarNode extends Located {
  kind: 'scalar';
  value: string | number | boolean | null;
}
export interface SeqNode extends Located {
  kind: 'seq';
  items: Node[];
}
export interface MapNode extends Located {
  kind: 'map';
  /** In the order written. */
  entries: Map<string, { keyLine: number; value: Node }>;
}

/** A syntax error, with the line it is on. */
export class YamlError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'YamlError';
  }
}

/** Parses a document; an empty one is `null` (as a scalar on line 1). */
export function parseYaml(text: string): Node {
  return new Parser(text).document();
}

/** The plain JavaScript value of a node (for printing and tests). */
export function toPlain(n: Node): unknown {
  if (n.kind === 'scalar') return n.value;
  if (n.kind === 'seq') return n.items.map(toPlain);
  return Object.fromEntries([...n.entries].map(([k, v]) => [k, toPlain(v.value)]));
}

const PLAIN_END_FLOW = new Set([',', ']', '}']);

class Parser {
  private readonly lines: string[];
  private i = 0;

  constructor(text: string) {
    this.lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  }

  document(): Node {
    this.skipBlank();
    if (this.i < this.lines.length && /^---\s*(#.*)?$/.test(this.lines[this.i]!)) {
      this.i++;
      this.skipBlank();
    }
    if (this.i >= this.lines.length) return { kind: 'scalar', value: null, line: 1 };
    const node = this.block(0)!;
    this.skipBlank();
    if (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      if (/^(---|\.\.\.)(\s|$)/.test(l)) this.fail('only one document per file');
      this.fail(`unexpected content at indentation ${indentOf(l)}: check the indentation of this line`);
    }
    return node;
  }

  private fail(reason: string, line = this.i + 1): never {
    throw new YamlError(line, reason);
  }

  /** Moves past empty and comment-only lines; refuses a tab in the indentation of the next one. */
  private skipBlank(): void {
    while (this.i < this.lines.length && /^\s*(#.*)?$/.test(this.lines[this.i]!)) this.i++;
    if (this.i < this.lines.length && /^ *\t/.test(this.lines[this.i]!)) this.fail('tabs cannot indent YAML; use spaces');
  }

  /** The node starting at the current line, if its indentation is at least `min`; else null. */
  private block(min: number): Node | null {
    this.skipBlank();
    if (this.i >= this.lines.length) return null;
    const line = this.lines[this.i]!;
    const indent = indentOf(line);
    if (indent < min) return null;
    const content = line.slice(indent);
    if (content === '-' || content.startsWith('- ')) return this.sequence(indent);
    if (mappingKey(content) !== null) return this.mapping(indent);
    const node = this.inline(indent);
    return node;
  }

  private sequence(indent: number): SeqNode {
    const seq: SeqNode = { kind: 'seq', items: [], line: this.i + 1 };
    for (;;) {
      this.skipBlank();
      if (this.i >= this.lines.length) break;
      const line = this.lines[this.i]!;
      const ind = indentOf(line);
      const content = line.slice(ind);
      if (ind !== indent || !(content === '-' || content.startsWith('- '))) {
        if (ind > indent) this.fail('this line is indented more than the list item before it');
        break;
      }
      const rest = content.slice(1).replace(/^ +/, '');
      if (rest === '' || rest.startsWith('#')) {
        this.i++;
        const item = this.block(indent + 1);
        seq.items.push(item ?? { kind: 'scalar', value: null, line: seq.line });
        continue;
      }
      // Treat `- key: v` as a mapping whose keys sit at the column after the dash.
      const col = line.length - rest.length;
      this.lines[this.i] = ' '.repeat(col) + rest;
      seq.items.push(this.block(col)!);
    }
    return seq;
  }

  private mapping(indent: number): MapNode {
    const map: MapNode = { kind: 'map', entries: new Map(), line: this.i + 1 };
    for (;;) {
      this.skipBlank();
      if (this.i >= this.lines.length) break;
      const line = this.lines[this.i]!;
      const ind = indentOf(line);
      if (ind < indent) break;
      if (ind > indent) this.fail('this line is indented more than the key before it');
      const content = line.slice(ind);
      if (content === '-' || content.startsWith('- ') || /^(---|\.\.\.)(\s|$)/.test(content)) break;
      const k = mappingKey(content);
      if (k === null) this.fail(`expected 'key: value' here`);
      const keyLine = this.i + 1;
      if (map.entries.has(k.key)) this.fail(`'${k.key}' appears twice in this mapping (first on line ${map.entries.get(k.key)!.keyLine})`);
      const after = content.slice(k.end).replace(/^ +/, '');
      let value: Node;
      if (after === '' || after.startsWith('#')) {
        this.i++;
        this.skipBlank();
        const next = this.i < this.lines.length ? this.lines[this.i]! : '';
        const nextInd = indentOf(next);
        const nextContent = next.slice(nextInd);
        if (this.i < this.lines.length && nextInd === indent && (nextContent === '-' || nextContent.startsWith('- '))) {
          value = this.sequence(indent); // `key:` followed by a list at the key's own indentation
        } else {
          value = this.block(indent + 1) ?? { kind: 'scalar', value: null, line: keyLine };
        }
      } else {
        value = this.inline(line.length - after.length);
      }
      map.entries.set(k.key, { keyLine, value });
    }
    return map;
  }

  /** A scalar or flow collection starting at column `col` of the current line; consumes through its end. */
  private inline(col: number): Node {
    const line = this.lines[this.i]!;
    const c = line[col]!;
    if (c === '[' || c === '{') {
      const flow = new Flow(this.lines, this.i, col);
      const node = flow.value();
      flow.expectEnd();
      this.i = flow.line + 1;
      return node;
    }
    if (c === '|' || c === '>') this.fail('block scalars (| and >) are not supported by this YAML subset; use a quoted string');
    if (c === '&' || c === '*' || c === '!') this.fail('anchors, aliases and tags are not supported by this YAML subset');
    const lineNo = this.i + 1;
    let node: ScalarNode;
    let rest: string;
    if (c === '"' || c === "'") {
      const q = quoted(line, col, lineNo);
      node = { kind: 'scalar', value: q.value, line: lineNo };
      rest = line.slice(q.end);
    } else {
      const text = stripComment(line.slice(col)).trim();
      node = { kind: 'scalar', value: plainValue(text), line: lineNo };
      rest = '';
    }
    if (!/^\s*(#.*)?$/.test(rest)) this.fail(`unexpected '${rest.trim()}' after the value`);
    this.i++;
    return node;
  }
}

/** A flow collection (`[...]`, `{...}`), read character by character across lines. */
class Flow {
  constructor(
    private readonly lines: string[],
    public line: number,
    private col: number,
  ) {}

  private fail(reason: string): never {
    throw new YamlError(this.line + 1, reason);
  }

  /** Skips spaces, line ends and comments; returns the next character (undefined at the end of the text). */
  private skip(): string | undefined {
    for (;;) {
      const l = this.lines[this.line];
      if (l === undefined) return undefined;
      while (this.col < l.length && (l[this.col] === ' ' || l[this.col] === '\t')) this.col++;
      if (this.col >= l.length || l[this.col] === '#') {
        this.line++;
        this.col = 0;
        continue;
      }
      return l[this.col];
    }
  }

  value(): Node {
    const c = this.skip();
    const line = this.line + 1;
    if (c === undefined) this.fail('the text ends inside a [ ] or { }');
    if (c === '[') {
      this.col++;
      const seq: SeqNode = { kind: 'seq', items: [], line };
      for (;;) {
        const n = this.skip();
        if (n === undefined) throw new YamlError(line, 'this [ is never closed');
        if (n === ']') {
          this.col++;
          return seq;
        }
        seq.items.push(this.value());
        const sep = this.skip();
        if (sep === undefined) throw new YamlError(line, 'this [ is never closed');
        if (sep === ',') this.col++;
        else if (sep !== ']') this.fail(`expected ',' or ']' in the list that starts on line ${line}`);
      }
    }
    if (c === '{') {
      this.col++;
      const map: MapNode = { kind: 'map', entries: new Map(), line };
      for (;;) {
        const n = this.skip();
        if (n === undefined) throw new YamlError(line, 'this { is never closed');
        if (n === '}') {
          this.col++;
          return map;
        }
        if (n === ',' || n === ']') this.fail(`unexpected '${n}'`);
        const keyLine = this.line + 1;
        const key = this.scalar(true);
        if (typeof key.value === 'object' || key.value === null) this.fail('a mapping key must be a string');
        const k = String(key.value);
        if (this.skip() !== ':') this.fail(`expected ':' after '${k}'`);
        this.col++;
        if (map.entries.has(k)) this.fail(`'${k}' appears twice in this mapping (first on line ${map.entries.get(k)!.keyLine})`);
        map.entries.set(k, { keyLine, value: this.value() });
        const sep = this.skip();
        if (sep === undefined) throw new YamlError(line, 'this { is never closed');
        if (sep === ',') this.col++;
        else if (sep !== '}') this.fail(`expected ',' or '}' in the mapping that starts on line ${line}`);
      }
    }
    if (c === ']' || c === '}' || c === ',') this.fail(`unexpected '${c}'`);
    return this.scalar(false);
  }

  private scalar(isKey: boolean): ScalarNode {
    const l = this.lines[this.line]!;
    const line = this.line + 1;
    const c = l[this.col]!;
    if (c === '"' || c === "'") {
      const q = quoted(l, this.col, line);
      this.col = q.end;
      return { kind: 'scalar', value: q.value, line };
    }
    let end = this.col;
    while (end < l.length) {
      const ch = l[end]!;
      if (PLAIN_END_FLOW.has(ch)) break;
      if (ch === ':' && (isKey || end + 1 >= l.length || l[end + 1] === ' ')) break;
      if (ch === '#' && end > this.col && l[end - 1] === ' ') break;
      end++;
    }
    const text = l.slice(this.col, end).trim();
    if (text === '') this.fail('expected a value');
    this.col = end;
    return { kind: 'scalar', value: isKey ? text : plainValue(text), line };
  }

  expectEnd(): void {
    const l = this.lines[this.line] ?? '';
    if (!/^\s*(#.*)?$/.test(l.slice(this.col))) this.fail(`unexpected '${l.slice(this.col).trim()}' after the value`);
  }
}

function indentOf(line: string): number {
  return line.length - line.replace(/^ +/, '').length;
}

/** `key:` at the start of `content` (plain or quoted key, colon then space or end); null if none. */
function mappingKey(content: string): { key: string; end: number } | null {
  if (content.startsWith('"') || content.startsWith("'")) {
    try {
      const q = quoted(content, 0, 0);
      return content[q.end] === ':' && (q.end + 1 === content.length || content[q.end + 1] === ' ')
        ? { key: q.value, end: q.end + 1 }
        : null;
    } catch {
      return null;
    }
  }
  if (/^[[{#&*!|>%@`]/.test(content)) return null;
  const m = /^([^#]*?):(?: |$)/.exec(content);
  if (!m || m[1]!.trim() === '') return null;
  return { key: m[1]!.trim(), end: m[0].trimEnd().length };
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0' };

/** A quoted string starting at `col`: its value and the column after the closing quote. */
function quoted(line: string, col: number, lineNo: number): { value: string; end: number } {
  const q = line[col];
  let out = '';
  let i = col + 1;
  while (i < line.length) {
    const ch = line[i]!;
    if (q === "'" && ch === "'") {
      if (line[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      return { value: out, end: i + 1 };
    }
    if (q === '"' && ch === '"') return { value: out, end: i + 1 };
    if (q === '"' && ch === '\\') {
      const e = line[i + 1];
      if (e === 'u') {
        const hex = line.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new YamlError(lineNo, 'bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      if (e === undefined || ESCAPES[e] === undefined) throw new YamlError(lineNo, `unknown escape \\${e ?? ''}`);
      out += ESCAPES[e];
      i += 2;
      continue;
    }
    out += ch;
    i++;
  }
  throw new YamlError(lineNo, 'this quoted string is not closed on its line');
}

function stripComment(s: string): string {
  const m = /(^|\s)#/.exec(s);
  return m ? s.slice(0, m.index) : s;
}

function plainValue(text: string): string | number | boolean | null {
  if (text === '' || text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?\d+$/.test(text)) return Number(text);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return parseInt(text, 16);
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  return text;
}
