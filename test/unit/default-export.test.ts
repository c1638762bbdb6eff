// `import ipvs from 'ipvs'` type-checks and works, as the ES-module face of the package
// (dist/index.mjs and dist/index.d.mts, written by scripts/esm-entry.mjs) promises: compiled by tsc
// as a user's ES module would be (module nodenext and moduleResolution bundler), then run by Node.
// Uses dist/ as `npm install` or `npm run build:ts` left it; resolves 'ipvs' through the
// repository's node_modules/ipvs (the workspace link to this package).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(__dirname, '..', '..');
const work = join(repo, '.vm', 'default-export');
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

function typecheck(dir: string, compilerOptions: Record<string, unknown>, files: Record<string, string>) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'ES2022', types: ['node'], typeRoots: [join(repo, 'node_modules', '@types')], ...compilerOptions },
    files: Object.keys(files),
  }));
  // asynchronously: tsc takes tens of seconds on a loaded machine, and a blocked worker loses vitest's RPC
  return new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const esmSource = `
import ipvs from 'ipvs';
import { openHandle, NetlinkError, type Handle } from 'ipvs';
const open: typeof openHandle = ipvs.openHandle;
const Err: typeof NetlinkError = ipvs.NetlinkError;
export const check = (h: Handle): Promise<unknown> => h.ipvs.listAll();
export { open, Err };
`;

beforeAll(() => {
  if (!existsSync(join(repo, 'dist', 'index.d.mts'))) throw new Error('dist/ is missing: run npm run build:ts');
  // the face as this checkout's scripts/esm-entry.mjs makes it, not an older one
  execFileSync(process.execPath, [join(repo, 'scripts', 'esm-entry.mjs')]);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("import ipvs from 'ipvs'", () => {
  it('type-checks in an ES module with module nodenext, typed as the module (a name it lacks is an error)', async () => {
    const r = await typecheck(join(work, 'nodenext'), { module: 'nodenext', moduleResolution: 'nodenext' }, {
      'app.mts': esmSource,
      // the negative control: were the default export \`any\`, this would pass too
      'bad.mts': "import ipvs from 'ipvs';\nipvs.noSuchExport();\n",
    });
    expect(r.out.trim().split('\n')).toEqual([expect.stringMatching(/^bad\.mts\(2,6\): error TS2339: Property 'noSuchExport' does not exist/)]);
    expect(r.code).toBe(2);
  });

  it('type-checks with moduleResolution bundler', async () => {
    const r = await typecheck(join(work, 'bundler'), { module: 'esnext', moduleResolution: 'bundler' }, { 'app.ts': esmSource });
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it('is at run time the object require() returns, with every named export', () => {
    const script = `
      import ipvs, * as named from 'ipvs';
      import { createRequire } from 'node:module';
      const cjs = createRequire(import.meta.url)('ipvs');
      const names = Object.keys(named).filter((n) => n !== 'default').sort();
      console.log(JSON.stringify({ same: ipvs === cjs, open: typeof ipvs.openHandle, names, missing: names.filter((n) => ipvs[n] !== named[n]) }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8' });
    const r = JSON.parse(out) as { same: boolean; open: string; names: string[]; missing: string[] };
    expect(r.same).toBe(true);
    expect(r.open).toBe('function');
    expect(r.names).toContain('openHandle');
    expect(r.names).toContain('NetlinkError');
    expect(r.missing).toEqual([]);
  });
});
