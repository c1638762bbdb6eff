// Shared by the ipvs-*.test.ts kernel tests: ipvsadm in the test's namespace, the CLI in-process,
// and a little traffic so counters move.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { main } from '../../src/cli/main';
import type { Netns } from './helpers/netns';

/** `ipvsadm ARGS` in the namespace; rejects when it fails. */
export async function ipvsadm(ns: Netns, ...args: string[]): Promise<string> {
  return (await ns.run('ipvsadm', args)).stdout;
}

/** `ipvsadm -Sn`, one rule per entry. */
export async function saved(ns: Netns): Promise<string[]> {
  return (await ipvsadm(ns, '-Sn')).split('\n').filter((l) => l !== '');
}

/** Feeds `text` to a command's standard input in the namespace (`ipvsadm -R`). */
export async function withStdin(ns: Netns, text: string, cmd: string, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ipvs-stdin-'));
  try {
    const file = path.join(dir, 'in');
    writeFileSync(file, text);
    const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return await ns.exec('sh', ['-c', `${quoted} < '${file}'`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The `ipvs` CLI, in this process, in the namespace. */
export async function cli(ns: Netns, args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['--netns', ns.path, ...args], {
    out: (t) => { out += t; },
    err: (t) => { err += t; },
    readStdin: async () => stdin,
  });
  return { code, out, err };
}

/**
 * Connection attempts to ADDR:PORT from inside the namespace (IPVS schedules locally sent SYNs
 * too), all at once from one shell, given up after 0.6 s: nothing needs to answer for the
 * counters to move.
 */
export async function connectTo(ns: Netns, addr: string, port: number, times = 1): Promise<void> {
  const one = `(echo > /dev/tcp/${addr}/${port}) 2>/dev/null &`;
  await ns.exec('timeout', ['0.6', 'bash', '-c', `${Array(times).fill(one).join(' ')} wait`]);
}

/** Awaits a rejection and checks it is the NetlinkError expected. */
export async function refused(p: Promise<unknown>, code: string, op: string, message?: RegExp): Promise<Error> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, `${op} should fail with ${code}`).toBeInstanceOf(Error);
  expect(err).toMatchObject({ name: 'NetlinkError', code, op });
  if (message) expect((err as Error).message).toMatch(message);
  return err as Error;
}
