// The IPVS sysctls on the real kernel: h.ipvs.sysctls()/setSysctls() read and write the handle's
// namespace's /proc/sys/net/ipv4/vs/* (opened inside that namespace), checked with `sysctl` and
// `cat` run in the same namespace; another namespace keeps its own values.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { useNetns, type Netns } from './helpers/netns';
import { cli } from './ipvs-helpers';

const netns = useNetns();
const other = useNetns();
let h: Handle;
beforeAll(async () => {
  h = openHandle({ netns: netns().path });
});
afterAll(() => h?.close());

async function sysctl(ns: Netns, ...args: string[]): Promise<string> {
  return (await ns.run('sysctl', args)).stdout;
}

async function files(ns: Netns): Promise<Record<string, string>> {
  const out = (await ns.run('sh', ['-c', 'cd /proc/sys/net/ipv4/vs && for f in *; do printf "%s=%s\\n" "$f" "$(cat $f)"; done'])).stdout;
  return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('IPVS sysctls', () => {
  it('reads every sysctl the namespace has, typed where known, as cat reads them', async () => {
    const all = await h.ipvs.sysctls();
    const raw = await files(netns());
    const names = [...Object.keys(all).filter((k) => k !== 'unknown'), ...Object.keys(all.unknown)].sort();
    expect(names).toEqual(Object.keys(raw).sort());
    expect(names).toEqual(expect.arrayContaining(['conntrack', 'expire_nodest_conn', 'expire_quiescent_template', 'conn_reuse_mode', 'sync_threshold', 'run_estimation']));
    for (const [name, text] of Object.entries(raw)) {
      const v = name in all.unknown ? all.unknown[name] : (all as Record<string, unknown>)[name];
      expect(Array.isArray(v) ? v.join('\t') : String(v), name).toBe(text);
    }
    expect(all.sync_threshold).toEqual(raw.sync_threshold!.split('\t').map(Number));
    expect(typeof all.conntrack).toBe('number');
  });

  it('writes in the handle\'s namespace only; sysctl there reads the new values, elsewhere the old ones', async () => {
    const before = await files(other());
    await h.ipvs.setSysctls({ conntrack: 1, expire_nodest_conn: 1, expire_quiescent_template: 1, conn_reuse_mode: 0, sync_threshold: [4, 60] });
    expect(await sysctl(netns(), '-n', 'net.ipv4.vs.conntrack', 'net.ipv4.vs.expire_nodest_conn', 'net.ipv4.vs.expire_quiescent_template', 'net.ipv4.vs.conn_reuse_mode', 'net.ipv4.vs.sync_threshold'))
      .toBe('1\n1\n1\n0\n4\t60\n');
    expect(await h.ipvs.sysctls()).toMatchObject({ conntrack: 1, expire_nodest_conn: 1, expire_quiescent_template: 1, conn_reuse_mode: 0, sync_threshold: [4, 60] });
    expect(await files(other())).toEqual(before);
    // a sysctl the library does not type, through `unknown`
    await h.ipvs.setSysctls({ amemthresh: 2048 });
    expect((await files(netns())).amemthresh).toBe('2048');
  });

  it('checks everything before writing anything; a kernel refusal names the sysctl and its errno', async () => {
    const before = await files(netns());
    await expect(h.ipvs.setSysctls({ conntrack: 0, debug_level: 1 } as never)).rejects.toThrow(/debug_level is read-only/);
    await expect(h.ipvs.setSysctls({ conntrack: 0, shceduler: 1 } as never)).rejects.toThrow(/unknown IPVS sysctl 'shceduler'/);
    await expect(h.ipvs.setSysctls({ conntrack: 0, sync_threshold: [1] as never })).rejects.toThrow(TypeError);
    await expect(h.ipvs.setSysctls({ conntrack: 2 ** 40 })).rejects.toThrow(RangeError);
    await expect(h.ipvs.setSysctls({ unknown: { no_such_sysctl: '1' } })).rejects.toThrow(/this kernel has no IPVS sysctl 'no_such_sysctl'/);
    await expect(h.ipvs.setSysctls({ unknown: { '../../ipv4/ip_forward': '1' } })).rejects.toThrow(TypeError);
    expect(await files(netns())).toEqual(before);
    // sync_version takes 0 or 1 (proc_dointvec_minmax): the kernel refuses 7
    const err = await h.ipvs.setSysctls({ sync_version: 7 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'NetlinkError', code: 'EINVAL', op: 'ipvs.setSysctls', syscall: 'write' });
    expect((err as Error).message).toMatch(/sync_version/);
    expect(await files(netns())).toEqual(before);
  });

  it('ipvs sysctl reads and writes as sysctl does', async () => {
    const all = await cli(netns(), ['sysctl']);
    expect(all.code).toBe(0);
    expect(all.out).toBe(await sysctl(netns(), 'net.ipv4.vs'));
    const set = await cli(netns(), ['sysctl', 'conntrack=0', 'net.ipv4.vs.sync_threshold=3 50']);
    expect(set.code).toBe(0);
    expect(set.out).toBe('net.ipv4.vs.conntrack = 0\nnet.ipv4.vs.sync_threshold = 3\t50\n');
    expect(await sysctl(netns(), '-n', 'net.ipv4.vs.conntrack', 'net.ipv4.vs.sync_threshold')).toBe('0\n3\t50\n');
    const one = await cli(netns(), ['sysctl', 'sync_threshold', '--json']);
    expect(JSON.parse(one.out)).toEqual({ sync_threshold: [3, 50] });
    const bad = await cli(netns(), ['sysctl', 'conntrack=yes']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/conntrack takes an integer/);
    const missing = await cli(netns(), ['sysctl', 'nope']);
    expect(missing.code).not.toBe(0);
  });
});
