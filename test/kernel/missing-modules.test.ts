// A kernel without each module the library needs (a set type, dummy, ip_set, ip_vs): what the
// kernel really answers, and the message that names the module to load, cross-checked with the
// tools failing the same way.
//
// How a module goes missing in a suite whose other files need it: the kernel suite runs one file
// at a time (vitest.kernel.config.ts: fileParallelism false), so while this file runs nobody else
// uses the modules. Each test blocks the module in /run/modprobe.d (`install M /bin/false`: the
// guest's /run is a private tmpfs, so the host's configuration is untouched), unloads it, checks,
// and loads back what it unloaded; afterAll reloads everything that was loaded when the file
// started, so a failing test cannot leave the suite without its modules. Only in the project's
// VM: on a real host these modules are the host's, not ours to unload.
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openHandle, NetlinkError, type Handle } from '../../src/index';
import { execRoot, netnsForTest, runRoot } from './helpers/netns';

const WHERE = process.env.IPVS_TEST_WHERE ?? '';
const IN_VM = WHERE.startsWith('vm:');
const BLOCK = '/run/modprobe.d/ipvs-test-missing-modules.conf';

const loaded = (): string[] => readFileSync('/proc/modules', 'utf8').split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
const atStart = IN_VM ? loaded() : [];

/** Loads what is missing of `mods` (dummy without dummy0, as the VM's init loads it) and checks each is there. */
async function load(mods: readonly string[]): Promise<void> {
  rmSync(BLOCK, { force: true });
  const now = new Set(loaded());
  const want = mods.filter((m) => !now.has(m));
  if (want.includes('dummy')) await runRoot('modprobe', ['dummy', 'numdummies=0']);
  const rest = want.filter((m) => m !== 'dummy');
  if (rest.length) await runRoot('modprobe', ['-a', ...rest]);
  const after = new Set(loaded());
  const still = mods.filter((m) => !after.has(m));
  if (still.length) throw new Error(`could not load back ${still.join(', ')}`);
}

/**
 * Blocks `mods` from loading and unloads them (dependents first, as listed). A namespace an earlier
 * file deleted may still be tearing down and hold a module for a moment: retried for up to 30 s.
 */
async function unload(mods: readonly string[]): Promise<void> {
  mkdirSync('/run/modprobe.d', { recursive: true });
  writeFileSync(BLOCK, mods.map((m) => `install ${m} /bin/false\n`).join(''));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const present = mods.filter((m) => loaded().includes(m));
    if (present.length === 0) return;
    const r = await execRoot('rmmod', present);
    if (r.code === 0) continue;
    if (Date.now() > deadline) throw new Error(`rmmod ${present.join(' ')} kept failing: ${r.stderr.trim()}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

afterEach(async () => {
  if (IN_VM) await load(atStart.filter((m) => /^(ip_vs|ip_set|dummy)/.test(m)));
});
afterAll(async () => {
  if (IN_VM) await load(atStart.filter((m) => /^(ip_vs|ip_set|dummy)/.test(m)));
});

/**
 * In a fresh namespace, with `mods` unloaded: `call` on a new handle must be refused with the
 * NetlinkError `expected` whose message contains `advice`; the tool `tool` must fail too, saying
 * `toolSays`. Then the modules come back and `callAgain` on a new handle must work.
 */
async function withoutModules(
  mods: readonly string[], call: (h: Handle) => Promise<unknown>, expected: Record<string, unknown>, advice: string,
  tool: readonly string[], toolSays: string, callAgain: (h: Handle) => Promise<void>,
): Promise<void> {
  const ns = await netnsForTest();
  await unload(mods);
  const h = openHandle({ netns: ns.path });
  try {
    const e = await call(h).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e).toMatchObject(expected);
    expect((e as Error).message).toContain(advice);
    const t = await ns.exec(tool[0]!, tool.slice(1));
    expect(t.code).not.toBe(0);
    expect(t.stderr).toContain(toolSays);
  } finally {
    h.close();
  }
  await load(mods);
  const again = openHandle({ netns: ns.path });
  try {
    await callAgain(again);
  } finally {
    again.close();
  }
}

describe.skipIf(!IN_VM)(`a kernel without the module (in the VM only, here ${WHERE || 'unknown'}: unloading a real host's modules is not a test's business)`, () => {
  it('a set type (ip_set_hash_mac): IPSET_ERR_FIND_TYPE naming ip_set_hash_mac', async () => {
    await withoutModules(['ip_set_hash_mac'], (h) => h.ipset.typeRevisions('hash:mac'),
      { code: 'IPSET_ERR_FIND_TYPE', op: 'ipset.typeRevisions' }, 'load the ip_set_hash_mac module (modprobe ip_set_hash_mac)',
      ['ipset', 'create', 'probe', 'hash:mac'], 'set type not supported',
      async (h) => { expect((await h.ipset.typeRevisions('hash:mac')).revision).toBeGreaterThanOrEqual(0); });
  });

  it('dummy: links.addDummy refused with ENOTSUP (errno 95), naming the dummy module', async () => {
    await withoutModules(['dummy'], (h) => h.links.addDummy('kube-ipvs0'),
      { code: 'ENOTSUP', errno: -95, op: 'links.addDummy' }, 'load the dummy module (modprobe dummy)',
      ['ip', 'link', 'add', 'probe0', 'type', 'dummy'], 'Unknown device type',
      async (h) => { expect((await h.links.addDummy('kube-ipvs0')).linkinfo?.info_kind).toBe('dummy'); });
  });

  it('ip_set: the first ipset call refused with EINVAL, naming ip_set', async () => {
    const types = loaded().filter((m) => m.startsWith('ip_set_'));
    await withoutModules([...types, 'ip_set'], (h) => h.ipset.protocol(),
      { code: 'EINVAL', op: 'ipset.protocol' }, 'the kernel has no ipset: load the ip_set module (modprobe ip_set)',
      ['ipset', 'list'], 'Invalid argument',
      async (h) => { expect(await h.ipset.protocol()).toBeGreaterThanOrEqual(6); });
  });

  it('ip_vs: the family lookup refused with ENOENT, naming ip_vs', async () => {
    const schedulers = loaded().filter((m) => m.startsWith('ip_vs_'));
    await withoutModules([...schedulers, 'ip_vs'], (h) => h.ipvs.listServices(),
      { code: 'ENOENT', op: 'genl.resolveFamily' }, 'the kernel has no IPVS: load the ip_vs module (modprobe ip_vs)',
      ['ipvsadm', '-Ln'], "Can't initialize ipvs",
      async (h) => { expect(await h.ipvs.listServices()).toEqual([]); });
  });
});
