// The README's quick start runs as written: its JavaScript block, taken from README.md at test
// time, saved as app.mjs and run with `node app.mjs` inside a fresh network namespace
// (`ip netns exec`, as the README suggests), prints what the README says it prints and leaves
// the state ipvsadm and ip then read; run a second time it changes nothing. Imports 'ipvs' as a
// user would: here the repository's own node_modules/ipvs link to this package, so dist/ must be
// fresh (npm run build:ts).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNetns } from './helpers/netns';

const repo = join(__dirname, '..', '..');
const work = join(repo, '.vm', 'quick-start');
const netns = useNetns();

/** The fenced blocks of one language in the README's "Quick start" section, in order. */
function quickStartBlocks(lang: string): string[] {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Quick start\n');
  expect(start, 'README.md has a "## Quick start" section').toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => m[1]!);
}

let app: string;
let expected: string;

beforeAll(() => {
  if (!existsSync(join(repo, 'dist', 'index.mjs'))) throw new Error('dist/ is missing: run npm run build:ts');
  const js = quickStartBlocks('js');
  const text = quickStartBlocks('text');
  expect(js.length, 'one JavaScript block in the quick start').toBe(1);
  expect(text.length, 'one block of printed output in the quick start').toBe(1);
  expected = text[0]!;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  app = join(work, 'app.mjs');
  writeFileSync(app, js[0]!);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the README's quick start", () => {
  it('runs with node app.mjs inside ip netns exec and prints what the README shows', async () => {
    const r = await netns().exec(process.execPath, [app]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected);

    // what ipvsadm and ip read in that namespace
    const save = (await netns().run('ipvsadm', ['-Sn'])).stdout.trim().split('\n');
    expect(save).toEqual([
      '-A -t 10.96.0.10:80 -s rr',
      '-a -t 10.96.0.10:80 -r 10.244.1.5:8080 -m -w 1',
      '-a -t 10.96.0.10:80 -r 10.244.1.6:8080 -m -w 1',
    ]);
    const link = JSON.parse((await netns().run('ip', ['-d', '-j', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout) as {
      linkinfo?: { info_kind?: string };
      addr_info: { family: string; local: string; prefixlen: number }[];
    }[];
    expect(link[0]!.linkinfo?.info_kind).toBe('dummy');
    expect(link[0]!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.96.0.10/32']);
  });

  it('changes nothing when run again (reconcile), and prints the same', async () => {
    const before = (await netns().run('ipvsadm', ['-Sn'])).stdout;
    const r = await netns().exec(process.execPath, [app]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected);
    expect((await netns().run('ipvsadm', ['-Sn'])).stdout).toBe(before);
  });
});
