/**
 * A lab on one Linux machine for trying the proxy with real traffic (root needed): three network
 * namespaces wired with veth pairs, HTTP backends, and a client that counts who answered.
 *
 * ```
 *   <p>-client                 <p>-node (the proxy's)                    <p>-backends
 *   10.0.1.2 --veth-- 10.0.1.1  [kube-ipvs0: VIPs]  10.244.0.1 --veth-- 10.244.0.11, .12, ...
 *   fd00:1::2         fd00:1::1  IPVS (NAT)          fd00:244::1          fd00:244::11, ::12, ...
 * ```
 *
 * The client's default route points at the node, which owns the virtual IPs (on its dummy link)
 * and forwards; the backends' default route points back at the node, so replies pass through
 * IPVS to be un-NATed (masquerade forwarding needs that). Every backend address runs a small
 * `node:http` server answering with its own address, all in one process.
 *
 * The lab itself uses `ip` and `sysctl` (it builds a test bench, not a data plane); the proxy
 * it hosts uses only the library. The kernel test and `npm run demo` both run on it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface LabOptions {
  /** Prefix of the namespace names; keep it short (interface names are at most 15 bytes). */
  prefix: string;
  /** How many backend addresses (10.244.0.11 upwards, fd00:244::11 upwards). Default 3. */
  backends?: number;
  /** Port every backend listens on. Default 8080. */
  backendPort?: number;
}

export interface Traffic {
  /** Answers per backend address. */
  counts: Record<string, number>;
  /** Requests that failed (refused, reset, timed out), with the first few reasons. */
  failures: number;
  errors: string[];
}

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

function run(cmd: string, args: readonly string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 1 }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

async function must(cmd: string, args: readonly string[], input?: string): Promise<Run> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) throw new Error(`'${cmd} ${args.join(' ')}' exited with ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r;
}

/** Node program run in the backends namespace: one HTTP server per address, each naming itself. */
const BACKENDS = `
const http = require('node:http');
const [port, ...addrs] = process.argv.slice(1);
let up = 0;
for (const a of addrs) {
  http.createServer((req, res) => res.end(a + '\\n')).listen(Number(port), a, () => {
    if (++up === addrs.length) process.stdout.write('ready\\n');
  });
}`;

/**
 * Node program run in the client namespace: N requests one after another, each on a new TCP
 * connection (so IPVS schedules each), each bounded by a timeout; prints the counts as JSON.
 */
const CLIENT = `
const http = require('node:http');
const [host, port, count, timeout] = process.argv.slice(1);
const counts = {}; const errors = []; let failures = 0;
function once() {
  return new Promise((resolve) => {
    const req = http.get({ host, port: Number(port), path: '/', agent: false, timeout: Number(timeout) }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => { const b = body.trim(); counts[b] = (counts[b] || 0) + 1; resolve(); });
      res.on('error', (e) => { failures++; if (errors.length < 3) errors.push(e.message); resolve(); });
    });
    req.on('timeout', () => req.destroy(new Error('timed out after ' + timeout + ' ms')));
    req.on('error', (e) => { failures++; if (errors.length < 3) errors.push(e.code || e.message); resolve(); });
  });
}
(async () => {
  for (let i = 0; i < Number(count); i++) await once();
  process.stdout.write(JSON.stringify({ counts, failures, errors }) + '\\n');
})();`;

/** The proxy running as its own process (examples/proxy/main.ts), with its output kept. */
export class ProxyProcess {
  /** Every line it printed (stdout and stderr), timestamps stripped. */
  readonly lines: string[] = [];
  private readonly waiters: { re: RegExp; from: number; resolve: (l: string) => void }[] = [];
  readonly exited: Promise<number>;

  constructor(
    readonly child: ChildProcess,
    private readonly echo?: (line: string) => void,
  ) {
    let buf = '';
    const onData = (b: Buffer) => {
      buf += b.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, '');
        buf = buf.slice(i + 1);
        this.lines.push(line);
        this.echo?.(line);
        for (const w of [...this.waiters]) {
          if (w.re.test(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
  }

  /**
   * The first line matching `re` printed after line number `from` (default: from now on);
   * rejects after `timeoutMs` or if the process exits first.
   */
  waitFor(re: RegExp, timeoutMs = 20_000, from = this.lines.length): Promise<string> {
    const seen = this.lines.slice(from).find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.findIndex((w) => w.re === re), 1);
        reject(new Error(`the proxy printed no line matching ${re} within ${timeoutMs} ms; its output:\n${this.lines.join('\n')}`));
      }, timeoutMs);
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the proxy exited (${code}) before printing ${re}; its output:\n${this.lines.join('\n')}`));
      });
      this.waiters.push({ re, from, resolve: (l) => { clearTimeout(timer); resolve(l); } });
    });
  }

  /** The metrics URL it announced. */
  async metricsUrl(): Promise<string> {
    return (/metrics on (\S+)/.exec(await this.waitFor(/^metrics on /, 20_000, 0)))![1]!;
  }

  /** Sends a signal and waits for the exit status. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/**
 * Starts the proxy (`node --import tsx examples/proxy/main.ts ARGS`) in the caller's namespace
 * (give it `--netns`). `echo` sees each line as it comes. tsx's loader is found from here, so
 * this works from any working folder, and the proxy is this one process: it gets the signals.
 */
export function startProxy(args: readonly string[], echo?: (line: string) => void): ProxyProcess {
  const tsx = pathToFileURL(createRequire(__filename).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, join(__dirname, 'main.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ProxyProcess(child, echo);
}

export class Lab {
  readonly node: string;
  readonly client: string;
  readonly backendsNs: string;
  /** Backend IPv4 addresses. */
  readonly backends: string[];
  /** Backend IPv6 addresses, in the same order. */
  readonly backends6: string[];
  readonly backendPort: number;
  private servers: ChildProcess | null = null;

  private constructor(opts: LabOptions) {
    this.node = `${opts.prefix}-node`;
    this.client = `${opts.prefix}-client`;
    this.backendsNs = `${opts.prefix}-backends`;
    const n = opts.backends ?? 3;
    this.backends = Array.from({ length: n }, (_, i) => `10.244.0.${11 + i}`);
    this.backends6 = Array.from({ length: n }, (_, i) => `fd00:244::${11 + i}`);
    this.backendPort = opts.backendPort ?? 8080;
  }

  /** `/run/netns/<node>`: what the proxy is given as --netns. */
  get nodePath(): string {
    return `/run/netns/${this.node}`;
  }

  /** Builds the namespaces and links, and starts the backends. Cleans up after itself on failure. */
  static async create(opts: LabOptions): Promise<Lab> {
    const lab = new Lab(opts);
    try {
      await lab.build();
      await lab.startBackends();
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  /** Runs a command in one of the lab's namespaces. */
  exec(ns: string, cmd: string, args: readonly string[] = []): Promise<Run> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args]);
  }

  private async build(): Promise<void> {
    for (const ns of [this.node, this.client, this.backendsNs]) {
      await run('ip', ['netns', 'delete', ns]); // a leftover from a killed run
      await must('ip', ['netns', 'add', ns]);
    }
    // One `ip -batch` per namespace: process starts are what cost in the test VM.
    const p = this.node.slice(0, -'-node'.length).slice(0, 6);
    await must('ip', ['-batch', '-'], [
      `link add ${p}-c type veth peer name ${p}-cn`,
      `link set ${p}-c netns ${this.client}`,
      `link set ${p}-cn netns ${this.node}`,
      `link add ${p}-b type veth peer name ${p}-bn`,
      `link set ${p}-b netns ${this.backendsNs}`,
      `link set ${p}-bn netns ${this.node}`,
    ].join('\n') + '\n');
    await must('ip', ['-n', this.node, '-batch', '-'], [
      'link set lo up',
      `addr add 10.0.1.1/24 dev ${p}-cn`,
      `addr add fd00:1::1/64 dev ${p}-cn nodad`,
      `link set ${p}-cn up`,
      `addr add 10.244.0.1/24 dev ${p}-bn`,
      `addr add fd00:244::1/64 dev ${p}-bn nodad`,
      `link set ${p}-bn up`,
    ].join('\n') + '\n');
    await must('ip', ['-n', this.client, '-batch', '-'], [
      'link set lo up',
      `addr add 10.0.1.2/24 dev ${p}-c`,
      `addr add fd00:1::2/64 dev ${p}-c nodad`,
      `link set ${p}-c up`,
      'route add default via 10.0.1.1',
      'route add default via fd00:1::1',
    ].join('\n') + '\n');
    await must('ip', ['-n', this.backendsNs, '-batch', '-'], [
      'link set lo up',
      ...this.backends.map((a) => `addr add ${a}/24 dev ${p}-b`),
      ...this.backends6.map((a) => `addr add ${a}/64 dev ${p}-b nodad`),
      `link set ${p}-b up`,
      'route add default via 10.244.0.1',
      'route add default via fd00:244::1',
    ].join('\n') + '\n');
    await must('ip', ['netns', 'exec', this.node, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  }

  private async startBackends(): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', this.backendsNs, process.execPath, '-e', BACKENDS, String(this.backendPort), ...this.backends, ...this.backends6], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.servers = child;
    let out = '';
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backends did not start within 30 s: ${err}`)), 30_000);
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`backends exited with ${code}: ${err}`));
      });
    });
  }

  /**
   * `count` HTTP requests from the client namespace to `vip:port`, one connection each, each
   * given `timeoutMs`. The whole run is bounded by count x timeout.
   */
  async traffic(vip: string, port: number, count: number, timeoutMs = 2000): Promise<Traffic> {
    const r = await this.exec(this.client, process.execPath, ['-e', CLIENT, vip, String(port), String(count), String(timeoutMs)]);
    if (r.code !== 0) throw new Error(`the client failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as Traffic;
  }

  /** Stops the backends and deletes the namespaces (links go with them). Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.servers && this.servers.exitCode === null) {
      this.servers.kill('SIGKILL');
      await once(this.servers, 'exit').catch(() => undefined);
    }
    this.servers = null;
    for (const ns of [this.client, this.backendsNs, this.node]) {
      const pids = await run('ip', ['netns', 'pids', ns]);
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await run('ip', ['netns', 'delete', ns]);
    }
  }
}
