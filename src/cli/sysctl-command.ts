/**
 * `ipvs sysctl`: the IPVS sysctls of a namespace (`/proc/sys/net/ipv4/vs/*`), read and written as
 * `sysctl` does: `ipvs sysctl` lists them all, `ipvs sysctl conntrack` prints one, and
 * `ipvs sysctl conntrack=1 expire_nodest_conn=1` writes (every value checked before the first
 * write), printing each as `sysctl -w` does. Names may be given as `conntrack` or
 * `net.ipv4.vs.conntrack`.
 */
import { IPVS_SYSCTLS, type IpvsSysctls, type IpvsSysctlsOptions } from '../index';
import { UsageError, type Command } from './types';
import { withHandle } from './handle';

const PREFIX = 'net.ipv4.vs.';

function shortName(arg: string): string {
  const n = arg.replace(/\//g, '.');
  return n.startsWith(PREFIX) ? n.slice(PREFIX.length) : n;
}

function textOf(value: unknown): string {
  return Array.isArray(value) ? value.join('\t') : String(value);
}

/** Every sysctl as name -> text, in name order. */
function entries(all: IpvsSysctls): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(all)) {
    if (name === 'unknown') continue;
    out.push([name, textOf(value)]);
  }
  for (const [name, text] of Object.entries(all.unknown)) out.push([name, text]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** A command-line value to what setSysctls takes for `name`. */
function typed(name: string, text: string): unknown {
  const spec = (IPVS_SYSCTLS as Record<string, { kind: string }>)[name];
  if (!spec) return text;
  if (spec.kind === 'int') {
    if (!/^-?\d+$/.test(text)) throw new UsageError(`sysctl: ${name} takes an integer, got '${text.slice(0, 60)}'`);
    return Number(text);
  }
  if (spec.kind === 'pair') {
    const m = /^(-?\d+)[\s,]+(-?\d+)$/.exec(text.trim());
    if (!m) throw new UsageError(`sysctl: ${name} takes two integers ('3 50'), got '${text.slice(0, 60)}'`);
    return [Number(m[1]), Number(m[2])];
  }
  return text;
}

export const sysctlCommands: Record<string, Command> = {
  sysctl: {
    summary: 'read or write the IPVS sysctls as sysctl does (NAME, NAME=VALUE, -a, --json)',
    async run(args, global, io) {
      const json = args.includes('--json');
      const words = args.filter((a) => a !== '--json' && a !== '-a' && a !== '--all');
      const bad = words.find((w) => w.startsWith('-'));
      if (bad) throw new UsageError(`sysctl: unknown option ${bad}`);
      const writes = words.filter((w) => w.includes('='));
      const reads = words.filter((w) => !w.includes('='));
      if (writes.length && reads.length) throw new UsageError('sysctl: give names to read or NAME=VALUE pairs to write, not both');
      return withHandle(global, async (h) => {
        if (writes.length) {
          const values: IpvsSysctlsOptions & Record<string, unknown> = {};
          for (const w of writes) {
            const eq = w.indexOf('=');
            const name = shortName(w.slice(0, eq));
            const value = typed(name, w.slice(eq + 1));
            if (name in IPVS_SYSCTLS) values[name] = value;
            else (values.unknown ??= {})[name] = String(value);
          }
          await h.ipvs.setSysctls(values);
        }
        const all = await h.ipvs.sysctls();
        const have = new Map(entries(all));
        const wanted = (writes.length ? writes.map((w) => w.slice(0, w.indexOf('='))) : reads).map(shortName);
        const missing = wanted.find((n) => !have.has(n));
        if (missing) {
          io.err(`ipvs: sysctl: cannot stat /proc/sys/net/ipv4/vs/${missing}: No such file or directory\n`);
          return 255;
        }
        const shown = wanted.length ? wanted.map((n) => [n, have.get(n)!] as [string, string]) : [...have];
        const typedOf = (n: string): unknown => (n in all.unknown ? all.unknown[n] : (all as Record<string, unknown>)[n]);
        if (json) io.out(`${JSON.stringify(Object.fromEntries(shown.map(([n]) => [n, typedOf(n)])), null, 2)}\n`);
        else io.out(shown.map(([n, t]) => `${PREFIX}${n} = ${t}\n`).join(''));
        return 0;
      });
    },
  },
};
