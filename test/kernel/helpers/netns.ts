// Network namespaces for kernel tests: each test (or describe block) gets its own, so IPVS tables,
// ipsets and links never leak between tests or into the namespace the runner lives in.
//
//   const netns = useNetns();                 // at the top of a file or describe block
//   it('adds a service', async () => {
//     const ns = netns();                     // created in beforeAll, deleted in afterAll
//     const handle = open({ netns: ns.path });
//     ...
//     expect((await ns.run('ipvsadm', ['-Ln'])).stdout).toContain('10.0.0.1:80');
//   });
//
// or, inside one test: `const ns = await netnsForTest();` (deleted when that test finishes).
//
// Hooks must be registered at collection time: vitest (3.2) silently never runs an afterAll that
// is registered from inside a beforeAll, so useNetns() registers both up front.
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { afterAll, beforeAll, onTestFinished } from 'vitest';

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; 128 + signal number if the command was killed. */
  code: number;
}

export interface Netns {
  /** Name as `ip netns` knows it: `ipvs-t-<pid>-<n>`. */
  readonly name: string;
  /** `/run/netns/<name>`: what a handle is opened with. */
  readonly path: string;
  /** Run a command inside the namespace (`ip netns exec`). Resolves whatever the exit status. */
  exec(cmd: string, args?: readonly string[]): Promise<ExecResult>;
  /** Like exec, but rejects with the command's output when it exits non-zero. */
  run(cmd: string, args?: readonly string[]): Promise<ExecResult>;
  /** Kill what still runs inside, then delete the namespace. Safe to call twice. */
  cleanup(): Promise<void>;
}

const live = new Set<string>();
let counter = 0;

/** Run a command in the caller's own namespace (the VM's or host's root namespace). */
export function execRoot(cmd: string, args: readonly string[] = []): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ stdout, stderr, code: code ?? 128 + signalNumber(signal) });
    });
  });
}

/** Like execRoot, but rejects when the command exits non-zero. */
export async function runRoot(cmd: string, args: readonly string[] = []): Promise<ExecResult> {
  return check([cmd, ...args], await execRoot(cmd, args));
}

function check(argv: readonly string[], r: ExecResult): ExecResult {
  if (r.code !== 0) {
    throw new Error(`'${argv.join(' ')}' exited with ${r.code}\n${r.stderr}${r.stdout}`.trimEnd());
  }
  return r;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}

/** Create `ipvs-t-<pid>-<n>` with `lo` up (IPVS refuses every destination while lo is down). */
export async function freshNetns(): Promise<Netns> {
  const name = `ipvs-t-${process.pid}-${++counter}`;
  await runRoot('ip', ['netns', 'add', name]);
  live.add(name);
  const ns: Netns = {
    name,
    path: `/run/netns/${name}`,
    exec: (cmd, args = []) => execRoot('ip', ['netns', 'exec', name, cmd, ...args]),
    run: async (cmd, args = []) => check([cmd, ...args], await ns.exec(cmd, args)),
    cleanup: async () => {
      if (!live.delete(name)) return;
      const pids = await execRoot('ip', ['netns', 'pids', name]);
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await runRoot('ip', ['netns', 'delete', name]);
    },
  };
  try {
    await ns.run('ip', ['link', 'set', 'lo', 'up']);
  } catch (err) {
    await ns.cleanup();
    throw err;
  }
  return ns;
}

/**
 * Call at the top of a test file or describe block: registers a beforeAll that creates a fresh
 * namespace and an afterAll that deletes it, and returns an accessor for it.
 */
export function useNetns(): () => Netns {
  let ns: Netns | undefined;
  beforeAll(async () => {
    ns = await freshNetns();
  });
  afterAll(async () => {
    await ns?.cleanup();
  });
  return () => {
    if (!ns) throw new Error('useNetns(): the namespace exists only while tests of its block run');
    return ns;
  };
}

/** Inside a test: a fresh namespace, deleted when that test finishes (pass or fail). */
export async function netnsForTest(): Promise<Netns> {
  const ns = await freshNetns();
  onTestFinished(() => ns.cleanup());
  return ns;
}

// Last resort for a worker that exits without running its hooks (matters on a real host).
process.on('exit', () => {
  for (const name of live) spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
});
