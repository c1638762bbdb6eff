// ipsets through the library in a fresh namespace, each step cross-checked by the ipset tool
// reading what the library wrote, and the library reading what the tool wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, NetlinkError, IpsetEntryError, formatIpsetEntry, type Handle, type IpsetEntry } from '../../src/index';
import { useNetns, type Netns } from './helpers/netns';

const netns = useNetns();
let h: Handle;
beforeAll(() => { h = openHandle({ netns: netns().path }); });
afterAll(() => h?.close());

async function ipset(...args: string[]): Promise<string> {
  return (await netns().run('ipset', args)).stdout;
}

/** `ipset save` lines of one set, timeouts and hash seeds blanked (they differ between reads). */
async function toolSave(ns: Netns, name?: string): Promise<string[]> {
  const out = (await ns.run('ipset', name ? ['save', name] : ['save'])).stdout;
  return out.trim().split('\n').filter(Boolean).map((l) => l.replace(/ timeout \d+/, ' timeout T').replace(/initval 0x[0-9a-f]+/, 'initval X'));
}

function blank(text: string): string[] {
  return text.trim().split('\n').filter(Boolean).map((l) => l.replace(/ timeout \d+/, ' timeout T').replace(/initval 0x[0-9a-f]+/, 'initval X'));
}

describe('protocol and types', () => {
  it('negotiates the protocol and asks the kernel for type revisions', async () => {
    expect(await h.ipset.protocol()).toBe(7);
    await ipset('create', 'probe', 'hash:ip,port');
    const tool = Number(/Revision: (\d+)/.exec(await ipset('list', '-t', 'probe'))![1]);
    const revs = await h.ipset.typeRevisions('hash:ip,port');
    expect(revs.revision).toBe(tool);
    expect(revs.revisionMin).toBe(0);
    expect((await h.ipset.header('probe')).revision).toBe(tool);
    const missing = await h.ipset.typeRevisions('hash:nothing').catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'IPSET_ERR_FIND_TYPE', op: 'ipset.typeRevisions' });
    expect((missing as Error).message).toContain('the kernel does not support this set type');
    await h.ipset.destroy('probe');
  });
});

// One set per type and family, with entries in the set's syntax: the library creates and fills
// them, the tool's save must show the same entries; then the library reads its own sets back.
const CASES: { name: string; type: string; create: string; entries: string[] }[] = [
  { name: 'ip4', type: 'hash:ip', create: 'family inet hashsize 1024 maxelem 65536 netmask 24 timeout 600 counters comment skbinfo', entries: ['10.1.1.0 timeout 500 packets 5 bytes 10 comment "hi there" skbmark 0x1/0xff skbprio 1:2 skbqueue 3', '10.2.0.0 timeout 0 packets 0 bytes 0'] },
  { name: 'ip6', type: 'hash:ip', create: 'family inet6 hashsize 1024 maxelem 65536', entries: ['2001:db8::1', 'fe80::1:2'] },
  { name: 'ipport4', type: 'hash:ip,port', create: 'family inet hashsize 1024 maxelem 65536', entries: ['10.0.0.1,udp:53', '10.0.0.1,tcp:80', '10.0.0.2,icmp:echo-request', '10.0.0.3,sctp:5000'] },
  { name: 'ipport6', type: 'hash:ip,port', create: 'family inet6 hashsize 1024 maxelem 65536 comment', entries: ['2001:db8::1,tcp:443 comment "web"', '2001:db8::2,ipv6-icmp:echo-request'] },
  { name: 'ipportip', type: 'hash:ip,port,ip', create: 'family inet hashsize 1024 maxelem 65536', entries: ['10.0.0.1,udp:53,10.0.0.2', '10.0.0.1,gre:0,10.0.0.3'] },
  { name: 'ipportnet6', type: 'hash:ip,port,net', create: 'family inet6 hashsize 1024 maxelem 65536', entries: ['2001::1,sctp:5,2001::/64', '2001::2,tcp:22,2001:db8::/48 nomatch'] },
  { name: 'net4', type: 'hash:net', create: 'family inet hashsize 1024 maxelem 65536 timeout 600', entries: ['10.0.0.0/8 timeout 300', '192.168.1.0/24 timeout 200 nomatch', '172.16.0.1 timeout 100'] },
  { name: 'net6', type: 'hash:net', create: 'family inet6 hashsize 1024 maxelem 65536 counters', entries: ['2001:db8::/48 nomatch packets 3 bytes 4', '2001:db8:1::1 packets 0 bytes 0'] },
  { name: 'netport', type: 'hash:net,port', create: 'family inet hashsize 1024 maxelem 65536', entries: ['10.1.0.0/24,udp:1000', '10.2.0.0/16,tcp:8080 nomatch'] },
  { name: 'netiface', type: 'hash:net,iface', create: 'family inet hashsize 1024 maxelem 65536', entries: ['10.0.0.0/16,eth1 nomatch', '10.0.0.0,physdev:eth2', '10.9.0.0/24,kube-ipvs0'] },
  { name: 'ipmark', type: 'hash:ip,mark', create: 'family inet markmask 0x000000ff hashsize 1024 maxelem 65536', entries: ['10.0.0.1,0x00000012'] },
  { name: 'ports', type: 'bitmap:port', create: 'range 1-1000 counters', entries: ['22 packets 0 bytes 0', '80 packets 0 bytes 0'] },
  { name: 'bip', type: 'bitmap:ip', create: 'range 10.0.0.0-10.0.0.255 netmask 30 timeout 600', entries: ['10.0.0.8 timeout 400'] },
  { name: 'all', type: 'list:set', create: 'size 8 comment', entries: ['ports comment "p"', 'ip4'] },
];

describe('every set type, IPv4 and IPv6, written by the library and read by the tool', () => {
  it('creates and fills the sets; ipset save shows them as the library formats them', async () => {
    for (const c of CASES) {
      const { parseIpsetCreateOptions } = await import('../../src/index');
      await h.ipset.create(c.name, c.type, parseIpsetCreateOptions(c.create));
      await h.ipset.add(c.name, c.entries);
    }
    const saved = await toolSave(netns());
    for (const c of CASES) {
      const create = blank(`create ${c.name} ${c.type} ${c.create}`)[0]!;
      // hash types of kernel 5.11+ report their bucket size and seed too.
      expect(saved.find((l) => l.startsWith(`create ${c.name} `)), c.name).toMatch(new RegExp(`^${create.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( bucketsize \\d+ initval X)?$`));
      const adds = saved.filter((l) => l.startsWith(`add ${c.name} `)).sort();
      expect(adds, c.name).toEqual(c.entries.map((e) => blank(`add ${c.name} ${e}`)[0]!).sort());
    }
  });

  it('reads them back: the library\'s save equals the tool\'s, line for line', async () => {
    const mine = blank(await h.ipset.save());
    expect(mine).toEqual(await toolSave(netns()));
  });

  it('tests entries the way ipset test does', async () => {
    expect(await h.ipset.test('ipport4', '10.0.0.1,udp:53')).toBe(true);
    expect(await h.ipset.test('ipport4', '10.0.0.1,udp:54')).toBe(false);
    expect(await h.ipset.testMany('net4', ['10.3.4.5', '192.168.1.7', '11.0.0.1'])).toEqual([true, false, false]);
    expect((await netns().exec('ipset', ['test', 'net4', '10.3.4.5'])).code).toBe(0);
    expect((await netns().exec('ipset', ['test', 'net4', '192.168.1.7'])).code).not.toBe(0);
  });
});

describe('the library reads what the tool wrote', () => {
  it('entries of every kind come back as typed objects', async () => {
    await ipset('create', 'tool4', 'hash:ip,port', 'timeout', '60', 'comment');
    await ipset('add', 'tool4', '10.9.9.9,udp:53', 'timeout', '30', 'comment', 'x y');
    await ipset('create', 'tool6', 'hash:net', 'family', 'inet6');
    await ipset('add', 'tool6', '2001:db8::/64', 'nomatch');
    const s4 = await h.ipset.list('tool4');
    expect(s4).toMatchObject({ name: 'tool4', type: 'hash:ip,port', family: 'inet', timeout: 60, comment: true, counters: false, elements: 1 });
    expect(s4.entries).toEqual([{ ip: '10.9.9.9', proto: 'udp', port: 53, timeout: expect.any(Number), comment: 'x y' }]);
    expect(s4.entries![0]!.timeout).toBeLessThanOrEqual(30);
    const s6 = await h.ipset.list('tool6');
    expect(s6.entries).toEqual([{ ip: '2001:db8::', cidr: 64, nomatch: true }]);
    await h.ipset.destroy('tool4');
    await h.ipset.destroy('tool6');
  });
});

describe('-exist, errors, and bulk refusals', () => {
  it('add/del/create fail on existing/missing unless exist', async () => {
    await h.ipset.create('ex', 'hash:ip');
    const dupCreate = await h.ipset.create('ex', 'hash:ip').catch((e: unknown) => e);
    expect(dupCreate).toMatchObject({ code: 'EEXIST', op: 'ipset.create' });
    await h.ipset.create('ex', 'hash:ip', { exist: true });
    await h.ipset.add('ex', '10.0.0.1');
    const dup = await h.ipset.add('ex', '10.0.0.1').catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(IpsetEntryError);
    expect(dup).toMatchObject({ code: 'IPSET_ERR_EXIST', errno: -4103, entryIndex: 0, applied: 0 });
    expect((dup as Error).message).toBe('ipset.add: set ex, entry #0 (10.0.0.1): the element is already in the set; nothing was added, none after it (IPSET_ERR_EXIST)');
    await h.ipset.add('ex', ['10.0.0.1', '10.0.0.2'], { exist: true });
    const gone = await h.ipset.del('ex', '10.0.0.9').catch((e: unknown) => e);
    expect(gone).toMatchObject({ code: 'IPSET_ERR_EXIST', message: expect.stringContaining('the element is not in the set') });
    await h.ipset.del('ex', ['10.0.0.9', '10.0.0.2'], { exist: true });
    expect(blank(await ipset('save', 'ex')).slice(1)).toEqual(['add ex 10.0.0.1']);
  });

  it('a refused entry in the middle of a bulk add: the ones before it are in, none after', async () => {
    await h.ipset.flush('ex');
    const err = await h.ipset.add('ex', ['10.1.0.1', '10.1.0.2', '10.1.0.1', '10.1.0.3']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpsetEntryError);
    expect(err).toMatchObject({ code: 'IPSET_ERR_EXIST', entryIndex: 2, applied: 2, entryText: '10.1.0.1' });
    expect(blank(await ipset('save', 'ex')).slice(1).sort()).toEqual(['add ex 10.1.0.1', 'add ex 10.1.0.2']);
    // The same across message boundaries: small messages put the refusal in the third one.
    await h.ipset.flush('ex');
    const many = Array.from({ length: 60 }, (_, i) => `10.2.0.${i}`);
    many[45] = '10.2.0.3';
    const e2 = await h.ipset.add('ex', many, { maxMessageBytes: 512 }).catch((e: unknown) => e);
    expect(e2).toMatchObject({ code: 'IPSET_ERR_EXIST', entryIndex: 45, applied: 45 });
    expect((await h.ipset.header('ex')).elements).toBe(45);
  });

  it('maps the kernel\'s ipset codes with the tool\'s meanings', async () => {
    await h.ipset.create('tiny', 'hash:ip', { maxelem: 2 });
    const full = await h.ipset.add('tiny', ['10.0.0.1', '10.0.0.2', '10.0.0.3']).catch((e: unknown) => e);
    expect(full).toMatchObject({ code: 'IPSET_ERR_HASH_FULL', entryIndex: 2, applied: 2 });
    expect((full as Error).message).toContain('the hash is full');
    const timeout = await h.ipset.add('tiny', { ip: '10.0.0.9', timeout: 5 }).catch((e: unknown) => e);
    expect(timeout).toMatchObject({ code: 'IPSET_ERR_TIMEOUT' });
    // An address of the other family is refused before the kernel sees it.
    await expect(h.ipset.add('tiny', '2001:db8::1')).rejects.toThrow(/'2001:db8::1' is IPv6, the set is inet/);
    const range = await h.ipset.add('ports', '2000').catch((e: unknown) => e);
    expect(range).toMatchObject({ code: 'IPSET_ERR_BITMAP_RANGE', message: expect.stringContaining('out of the range') });
    const missing = await h.ipset.add('nosuch', { ip: '10.0.0.1' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NetlinkError);
    expect(missing).toMatchObject({ code: 'ENOENT' });
    const busy = await h.ipset.destroy('ports').catch((e: unknown) => e);
    expect(busy).toMatchObject({ code: 'IPSET_ERR_BUSY', message: expect.stringContaining('in use') });
    const mismatch = await h.ipset.swap('tiny', 'net4').catch((e: unknown) => e);
    expect(mismatch).toMatchObject({ code: 'IPSET_ERR_TYPE_MISMATCH' });
    const noSecond = await h.ipset.swap('tiny', 'nosuch').catch((e: unknown) => e);
    expect(noSecond).toMatchObject({ code: 'IPSET_ERR_EXIST_SETNAME2' });
    const badList = await h.ipset.add('all', 'nosuch').catch((e: unknown) => e);
    expect(badList).toMatchObject({ code: 'IPSET_ERR_NAME' });
    const badRef = await h.ipset.add('all', { name: 'net4', before: 'net6' }).catch((e: unknown) => e);
    expect(badRef).toMatchObject({ code: 'IPSET_ERR_REF_EXIST' });
    // list:set keeps its order: before/after place a member.
    await h.ipset.add('all', 'net4 before ip4');
    await h.ipset.add('all', { name: 'net6', after: 'ports' });
    expect((await h.ipset.list('all')).entries!.map((e) => e.name)).toEqual(['ports', 'net6', 'net4', 'ip4']);
    expect((await ipset('save', 'all')).split('\n').filter((l) => l.startsWith('add')).map((l) => l.split(' ')[2])).toEqual(['ports', 'net6', 'net4', 'ip4']);
  });
});

describe('destroy, flush, rename, swap, header', () => {
  it('each as the tool sees it', async () => {
    await h.ipset.create('a1', 'hash:ip');
    await h.ipset.create('a2', 'hash:ip');
    await h.ipset.add('a1', ['10.0.0.1', '10.0.0.2']);
    await h.ipset.add('a2', '10.0.0.3');
    await h.ipset.swap('a1', 'a2');
    expect(blank(await ipset('save', 'a1')).slice(1)).toEqual(['add a1 10.0.0.3']);
    await h.ipset.rename('a2', 'a3');
    expect((await ipset('list', '-n')).split('\n')).toContain('a3');
    expect((await h.ipset.header('a3')).elements).toBe(2);
    await h.ipset.flush('a3');
    expect((await h.ipset.header('a3')).elements).toBe(0);
    await h.ipset.destroy('a3');
    await h.ipset.destroy('a1');
    expect(await h.ipset.listNames()).not.toContain('a3');
    expect((await ipset('list', '-n')).split('\n')).not.toContain('a1');
  });
});

describe('a 50,000-entry set', () => {
  it('is created with one call and read back whole', async () => {
    await h.ipset.create('big', 'hash:ip', { maxelem: 131072 });
    const entries: IpsetEntry[] = [];
    for (let i = 0; i < 50_000; i++) entries.push({ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
    await h.ipset.add('big', entries);
    const tool = await ipset('list', '-t', 'big');
    expect(tool).toMatch(/Number of entries: 50000/);
    const s = await h.ipset.list('big');
    expect(s.elements).toBe(50_000);
    expect(s.entries).toHaveLength(50_000);
    const seen = new Set(s.entries!.map((e) => e.ip));
    expect(seen.size).toBe(50_000);
    expect(seen.has('10.0.195.79')).toBe(true); // entry 49999
    await h.ipset.destroy('big');
  });
});

describe('save and restore interoperate with the tool both ways', () => {
  const other = useNetns();

  it('library save -> ipset restore elsewhere -> identical ipset save', async () => {
    await h.ipset.destroy('tiny');
    await h.ipset.destroy('ex');
    const text = await h.ipset.save();
    const restore = await other().exec('sh', ['-c', `ipset restore <<'EOF'\n${text}EOF`]);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(await toolSave(other())).toEqual(await toolSave(netns()));
  });

  it('ipset save -> library restore elsewhere -> identical save', async () => {
    const text = (await netns().run('ipset', ['save'])).stdout;
    const third = openHandle({ netns: other().path });
    try {
      await third.ipset.flushAll(); // list:set members hold references that block destroying
      await third.ipset.destroyAll();
      const r = await third.ipset.restore(text);
      expect(r.entries).toBeGreaterThan(20);
      expect(await toolSave(other())).toEqual(await toolSave(netns()));
      const bad = await third.ipset.restore('create zz hash:ip\nadd zz 10.0.0.1\nadd zz 10.0.0.2\nadd zz 10.0.0.1\n').catch((e: unknown) => e);
      expect((bad as Error).message).toMatch(/^ipset\.restore: line 4: ipset\.add: set zz, entry #2 \(10\.0\.0\.1\)/);
      expect(formatIpsetEntry('hash:ip', { ip: '10.0.0.2' })).toBe('10.0.0.2');
    } finally {
      third.close();
    }
  });
});
