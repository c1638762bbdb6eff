#!/usr/bin/env node
// `npm run docs`: the API reference (typedoc, from src/index.ts, into docs/api/) with the guides
// (docs/guides/*.md) built into the same site, then a link check of the Markdown a reader meets
// outside that site (README.md, docs/guides/*.md, examples/**/README.md).
//
// typedoc.json turns on every validation typedoc has (a symbol referenced but not exported, an
// export without a doc comment, a {@link} or relative path that goes nowhere) and treats every
// warning as an error, so this exits non-zero until the public API is fully documented. At the end
// it counts the problems per source file, so whoever owns a file can see what to fix.
//
//   node scripts/docs.mjs [--links-only]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rel = (p) => path.relative(repo, p);

/**
 * Entries of exported tables that document themselves: each `name: { kind, doc: '...' }` of
 * IPVS_SYSCTLS carries its text in `doc` (shown in the reference's type of the constant), so
 * typedoc is told not to ask for a doc comment on the entry and its fields as well.
 */
function selfDocumentedEntries() {
  const text = fs.readFileSync(path.join(repo, 'src', 'ipvs', 'sysctl.ts'), 'utf8');
  const table = /export const IPVS_SYSCTLS = \{\n([\s\S]*?)\n\} as const/.exec(text);
  if (!table) return [];
  return [...table[1].matchAll(/^ {2}(\w+): \{([^}]*)\}/gm)].flatMap(([, name, body]) =>
    ['', ...[...body.replace(/'[^']*'/g, "''").matchAll(/\b(\w+):/g)].map((f) => `.__type.${f[1]}`)].map((f) => `IPVS_SYSCTLS.__type.${name}${f}`));
}

function runTypedoc() {
  return new Promise((resolve, reject) => {
    const bin = path.join(repo, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const quiet = selfDocumentedEntries().flatMap((n) => ['--intentionallyNotDocumented', n]);
    const child = spawn(process.execPath, [bin, '--options', path.join(repo, 'typedoc.json'), ...quiet], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (stream) => (b) => {
      out += b.toString();
      stream.write(b);
    };
    child.stdout.on('data', take(process.stdout));
    child.stderr.on('data', take(process.stderr));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

/** Problems per source file, from typedoc's "defined in <project>/<file>" wording. */
function summarize(out) {
  const lines = stripVTControlCharacters(out).split('\n').filter((l) => /^\[(warning|error)\]/.test(l));
  const perFile = new Map();
  for (const l of lines) {
    if (/^\[\w+\] Found \d+ errors/.test(l)) continue;
    const m = /defined in (?:[^/\s]+\/)?(\S+?)(?::\d+)?,/.exec(l);
    const file = m ? m[1] : 'other';
    const kind = /does not have any documentation/.test(l) ? 'undocumented' : /not included in the documentation/.test(l) ? 'referenced, not exported' : 'other';
    const f = perFile.get(file) ?? new Map();
    f.set(kind, (f.get(kind) ?? 0) + 1);
    perFile.set(file, f);
  }
  return perFile;
}

const REPO_URL = /^https:\/\/github\.com\/ipvs-js\/ipvs\/(?:blob|tree)\/main\/(.+)$/;

const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_~]/g, '')
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');

function anchorsOf(file) {
  const text = fs.readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1])));
}

/** Relative links and #anchors in Markdown files that do not resolve. */
function checkLinks() {
  const files = [path.join(repo, 'README.md')];
  const walk = (dir, pick) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== 'node_modules' && e.name !== 'api') walk(p, pick);
      else if (e.isFile() && pick(e.name)) files.push(p);
    }
  };
  walk(path.join(repo, 'docs'), (n) => n.endsWith('.md'));
  walk(path.join(repo, 'examples'), (n) => n === 'README.md');
  const problems = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n');
    let fenced = false;
    lines.forEach((line, i) => {
      if (/^\s*```/.test(line)) fenced = !fenced;
      if (fenced) return;
      for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        let target = m[1];
        // the README's links to this repository on GitHub (so that they work on the npm page) are
        // checked as the files they name
        const own = REPO_URL.exec(target);
        if (own) target = path.relative(path.dirname(file), path.join(repo, own[1]));
        else if (/^[a-z]+:/i.test(target)) continue; // http:, https:, mailto:
        const [p, anchor] = target.split('#');
        const dest = p ? path.resolve(path.dirname(file), p) : file;
        if (!fs.existsSync(dest)) {
          problems.push(`${rel(file)}:${i + 1}: link to ${target}: no such file`);
          continue;
        }
        if (anchor && dest.endsWith('.md') && !anchorsOf(dest).has(anchor)) {
          problems.push(`${rel(file)}:${i + 1}: link to ${target}: no heading #${anchor} in ${rel(dest)}`);
        }
      }
    });
  }
  return { files: files.length, problems };
}

async function main() {
  const linksOnly = process.argv.includes('--links-only');
  let failed = false;
  if (!linksOnly) {
    const r = await runTypedoc();
    if (r.code !== 0) {
      failed = true;
      const perFile = summarize(r.out);
      if (perFile.size) {
        process.stderr.write('\ndocs: problems per source file (fix the doc comments or the exports there):\n');
        for (const [file, kinds] of [...perFile].sort()) {
          process.stderr.write(`  ${file}: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}\n`);
        }
      }
    } else {
      process.stdout.write(`docs: API reference written to ${rel(path.join(repo, 'docs', 'api'))}/index.html\n`);
    }
  }
  const links = checkLinks();
  for (const p of links.problems) process.stderr.write(`docs: ${p}\n`);
  if (links.problems.length) failed = true;
  process.stdout.write(`docs: checked links in ${links.files} Markdown files: ${links.problems.length} broken\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`docs: ${err.stack}\n`);
    process.exitCode = 1;
  },
);
