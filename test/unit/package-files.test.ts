// What `npm pack` puts in the tarball, read from npm itself (--dry-run): the licence, changelog and
// README beside dist/, and no source maps (dist/*.map would point at src/*.ts, which is not
// shipped; the build makes none: tsconfig.build.json has sourceMap off, and package.json's files
// leaves out any a stale dist/ still has).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = join(__dirname, '..', '..');

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let files: string[];

beforeAll(async () => {
  const r = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts']);
  expect(r.code, r.stderr).toBe(0);
  files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
});

describe('the packed file list', () => {
  it('carries LICENSE, CHANGELOG.md, README.md and the ES-module face', () => {
    for (const f of ['LICENSE', 'CHANGELOG.md', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/index.mjs', 'dist/index.d.mts']) {
      expect(files).toContain(f);
    }
  });

  it('ships no source maps, and the build makes none', async () => {
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--showConfig']);
    expect(r.code, r.stderr).toBe(0);
    const opts = (JSON.parse(r.stdout) as { compilerOptions: Record<string, unknown> }).compilerOptions;
    expect(opts.sourceMap).toBe(false);
    expect(opts.declarationMap ?? false).toBe(false);
  });
});
