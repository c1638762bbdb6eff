// Every `@example` code block in the doc comments of src/ (what the API reference shows), and the
// README's TypeScript blocks, type-check against the package's types: each is written out as a
// module importing from 'ipvs' (mapped to src/index.ts) and the lot is compiled by tsc, strict,
// as an ES module with top-level await. Also checks that the main entry points have an example.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = join(__dirname, '..', '..');
const work = join(repo, '.vm', 'examples-compile');

interface Example {
  /** Where it came from: `src/ipvs/ipvs.ts:120 (addService)`. */
  where: string;
  /** The declaration the comment documents: `addService`, `openHandle`, `NetlinkError`. */
  documents: string;
  code: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** `@example` blocks of one file's doc comments, with the name of what each documents. */
function examplesOf(file: string): Example[] {
  const text = readFileSync(file, 'utf8');
  const out: Example[] = [];
  for (const c of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const lines = c[0].split('\n').map((l) => l.replace(/^\s*\/?\*{1,2}\/? ?/, ''));
    const body = lines.join('\n');
    const after = text.slice(c.index! + c[0].length);
    const decl = /^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:class|function|interface|type|const|let)?\s*\*?(\w+)/.exec(after);
    for (const m of body.matchAll(/@example\s*\n```ts\n([\s\S]*?)\n```/g)) {
      const line = text.slice(0, c.index!).split('\n').length + body.slice(0, m.index).split('\n').length - 1;
      out.push({ where: `${relative(repo, file)}:${line}`, documents: decl?.[1] ?? '?', code: m[1]! });
    }
  }
  return out;
}

function readmeExamples(): Example[] {
  const text = readFileSync(join(repo, 'README.md'), 'utf8');
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => ({
    where: `README.md:${text.slice(0, m.index).split('\n').length}`,
    documents: 'README',
    code: m[1]!,
  }));
}

function tsc(project: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const bin = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const child = spawn(process.execPath, [bin, '-p', project], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const examples = [...sourceFiles(join(repo, 'src')).flatMap(examplesOf), ...readmeExamples()];

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('@example blocks', () => {
  it('are on every main entry point', () => {
    const documented = new Set(examples.map((e) => e.documents));
    const entryPoints = [
      'openHandle', 'batch', 'reconcile', // Handle
      'addService', 'addDestination', 'listServices', 'listAll', // h.ipvs
      'create', 'add', 'list', // h.ipset (add and list also on h.addresses)
      'ensureDummy', // h.links
      'commit', // Batch
      'NetlinkError', 'IpvsStats',
    ];
    expect(entryPoints.filter((n) => !documented.has(n))).toEqual([]);
    expect(examples.filter((e) => e.documents === 'README').length).toBeGreaterThan(0);
  });

  it('type-check against the package types (tsc, strict, ES module, top-level await)', async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const files = examples.map((e, i) => {
      const name = `example-${String(i).padStart(3, '0')}.ts`;
      // the origin first, so that tsc's messages (file:line) lead back to the comment
      writeFileSync(join(work, name), `// ${e.where} (${e.documents})\n${e.code}\nexport {};\n`);
      return name;
    });
    writeFileSync(join(work, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', lib: ['ES2022'], module: 'esnext', moduleResolution: 'bundler', strict: true, noEmit: true,
        skipLibCheck: true, types: ['node'], typeRoots: [join(repo, 'node_modules', '@types')],
        paths: { ipvs: [join(repo, 'src', 'index.ts')] },
      },
      files,
    }));
    const r = await tsc(join(work, 'tsconfig.json'));
    // name each failing example by its origin
    const origins = r.out.replace(/(example-\d+\.ts)\((\d+),\d+\)/g, (all, f: string, line: string) => {
      const first = readFileSync(join(work, f), 'utf8').split('\n')[0]!.slice(3);
      return `${all} [${first}, line ${Number(line) - 1} of the example]`;
    });
    expect(origins).toBe('');
    expect(r.code).toBe(0);
  });
});
