// The MAC set types (hash:mac, hash:ip,mac, bitmap:ip,mac) through the library and `ipvs set`,
// each step cross-checked by the ipset tool reading the same namespace, and the other way round.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHandle, type Handle } from '../../src/index';
import { main } from '../../src/cli/main';
import { useNetns, type Netns } from './helpers/netns';

const netns = useNetns();
const other = useNetns();
let h: Handle;
beforeAll(() => { h = openHandle({ netns: netns().path }); });
afterAll(() => h?.close());

async function ipset(ns: Netns, ...args: string[]): Promise<string> {
  return (await ns.run('ipset', args)).stdout;
}

/** Save text with the hash seeds and the running timeouts blanked (they differ between reads). */
function blank(text: string): string {
  return text.replace(/initval 0x[0-9a-f]+/g, 'initval X').replace(/(add \S+ \S+ timeout )\d+/g, '$1T');
}

async function cli(ns: Netns, args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['--netns', ns.path, ...args], { out: (t) => { out += t; }, err: (t) => { err += t; }, readStdin: async () => stdin });
  return { code, out, err };
}

describe('hash:mac', () => {
  it('creates without a family, adds, tests, deletes; ipset reads what the library wrote', async () => {
    await h.ipset.create('macs', 'hash:mac', { hashsize: 64, timeout: 600 });
    await h.ipset.add('macs', ['aa:bb:cc:dd:ee:ff timeout 300', { mac: '0:1:2:3:4:5' }, '0A:00:00:00:00:01']);
    const saved = await ipset(netns(), 'save', 'macs');
    expect(blank(saved).split('\n').sort()).toEqual([
      '', 'add macs 00:01:02:03:04:05 timeout T', 'add macs 0A:00:00:00:00:01 timeout T', 'add macs AA:BB:CC:DD:EE:FF timeout T',
      'create macs hash:mac hashsize 64 maxelem 65536 timeout 600 bucketsize 12 initval X',
    ]);
    expect(await h.ipset.test('macs', 'AA:BB:CC:DD:EE:FF')).toBe(true);
    expect(await h.ipset.test('macs', { mac: 'aa:bb:cc:dd:ee:fe' })).toBe(false);
    await h.ipset.del('macs', '0a:0:0:0:0:1');
    expect((await netns().exec('ipset', ['test', 'macs', '0A:00:00:00:00:01'])).code).toBe(1);
    expect((await netns().exec('ipset', ['test', 'macs', '00:01:02:03:04:05'])).code).toBe(0);
    const s = await h.ipset.list('macs');
    expect(s).toMatchObject({ type: 'hash:mac', hashsize: 64, timeout: 600, elements: 2 });
    expect(s.family).toBeUndefined();
    expect(s.entries!.map((e) => e.mac).sort()).toEqual(['00:01:02:03:04:05', 'AA:BB:CC:DD:EE:FF']);
    // refusals: a family (ipset: Unknown argument), a zero MAC (the kernel's IPSET_ERR_HASH_ELEM)
    await expect(h.ipset.create('m2', 'hash:mac', { family: 'inet' })).rejects.toThrow('hash:mac takes no family');
    await expect(h.ipset.add('macs', '00:00:00:00:00:00')).rejects.toMatchObject({ code: 'IPSET_ERR_HASH_ELEM' });
    await expect(h.ipset.add('macs', 'aa-bb-cc-dd-ee-ff')).rejects.toThrow("cannot parse 'aa-bb-cc-dd-ee-ff' as ethernet address");
    await h.ipset.destroy('macs');
  });
});

describe('hash:ip,mac', () => {
  it('both families: the library reads what ipset wrote and ipset what the library wrote', async () => {
    await ipset(netns(), 'create', 'ipm4', 'hash:ip,mac');
    await ipset(netns(), 'add', 'ipm4', '10.0.0.1,aa:bb:cc:dd:ee:ff');
    await h.ipset.create('ipm6', 'hash:ip,mac', { family: 'inet6', comment: true });
    await h.ipset.add('ipm6', ['2001:db8::1,01:02:03:04:05:06 comment "a b"', { ip: 'fe80::1', mac: 'ff:ff:ff:ff:ff:fe' }]);
    await h.ipset.add('ipm4', { ip: '10.0.0.2', mac: '11:22:33:44:55:66' });
    expect((await h.ipset.list('ipm4')).entries!.sort((a, b) => a.ip!.localeCompare(b.ip!)))
      .toEqual([{ ip: '10.0.0.1', mac: 'AA:BB:CC:DD:EE:FF' }, { ip: '10.0.0.2', mac: '11:22:33:44:55:66' }]);
    expect(blank(await ipset(netns(), 'save', 'ipm6')).split('\n').sort()).toEqual([
      '', 'add ipm6 2001:db8::1,01:02:03:04:05:06 comment "a b"', 'add ipm6 fe80::1,FF:FF:FF:FF:FF:FE',
      'create ipm6 hash:ip,mac family inet6 hashsize 1024 maxelem 65536 comment bucketsize 12 initval X',
    ]);
    expect(await h.ipset.test('ipm4', '10.0.0.1,AA:BB:CC:DD:EE:FF')).toBe(true);
    expect(await h.ipset.test('ipm4', '10.0.0.1,AA:BB:CC:DD:EE:00')).toBe(false);
    await expect(h.ipset.add('ipm4', '10.0.0.1')).rejects.toThrow('does not fit hash:ip,mac');
    await expect(h.ipset.add('ipm4', { ip: '2001:db8::1', mac: '01:02:03:04:05:06' })).rejects.toThrow('the set is inet');
  });
});

describe('bitmap:ip,mac', () => {
  it('a range, entries with and without a MAC, out-of-range refused', async () => {
    await h.ipset.create('hosts', 'bitmap:ip,mac', { range: '10.0.0.0/24', timeout: 600, counters: true, comment: true });
    await h.ipset.add('hosts', ['10.0.0.1,11:22:33:44:55:66 packets 3 bytes 4', '10.0.0.2 comment unfilled', { ip: '10.0.0.3' }]);
    const tool = blank(await ipset(netns(), 'save', 'hosts'));
    expect(tool).toBe([
      'create hosts bitmap:ip,mac range 10.0.0.0-10.0.0.255 timeout 600 counters comment',
      'add hosts 10.0.0.1,11:22:33:44:55:66 timeout T packets 3 bytes 4',
      'add hosts 10.0.0.2 timeout T packets 0 bytes 0 comment "unfilled"',
      'add hosts 10.0.0.3 timeout T packets 0 bytes 0', '',
    ].join('\n'));
    const s = await h.ipset.list('hosts');
    expect(s).toMatchObject({ type: 'bitmap:ip,mac', family: 'inet', range: '10.0.0.0-10.0.0.255', timeout: 600, elements: 3 });
    expect(s.entries!.map(({ timeout: _t, ...e }) => e)).toEqual([
      { ip: '10.0.0.1', mac: '11:22:33:44:55:66', packets: 3, bytes: 4 },
      { ip: '10.0.0.2', packets: 0, bytes: 0, comment: 'unfilled' },
      { ip: '10.0.0.3', packets: 0, bytes: 0 },
    ]);
    // the library's save is the tool's, line for line
    expect(blank(await h.ipset.save(['hosts']))).toBe(tool);
    // an address alone matches whatever MAC the entry has; with a MAC it must be that MAC
    expect(await h.ipset.test('hosts', '10.0.0.1')).toBe(true);
    expect(await h.ipset.test('hosts', '10.0.0.1,11:22:33:44:55:66')).toBe(true);
    expect(await h.ipset.test('hosts', '10.0.0.1,11:22:33:44:55:67')).toBe(false);
    expect(await h.ipset.test('hosts', '10.0.0.9')).toBe(false);
    await expect(h.ipset.add('hosts', '10.1.0.0,aa:bb:cc:dd:ee:ff')).rejects.toMatchObject({ code: 'IPSET_ERR_BITMAP_RANGE' });
    await expect(h.ipset.add('hosts', '10.0.0.4-10.0.0.6')).rejects.toThrow('plain IP address');
    await expect(h.ipset.create('big', 'bitmap:ip,mac', { range: '10.0.0.0/8' })).rejects.toMatchObject({ code: 'IPSET_ERR_BITMAP_RANGE_SIZE' });
    await expect(h.ipset.create('norange', 'bitmap:ip,mac')).rejects.toThrow('bitmap:ip,mac needs a range');
    await h.ipset.del('hosts', '10.0.0.1,11:22:33:44:55:66');
    expect((await netns().exec('ipset', ['test', 'hosts', '10.0.0.1'])).code).toBe(1);
    // an entry still waiting for its MAC in a set with timeouts: the library's delete gets what the tool's gets
    const toolDel = await netns().exec('ipset', ['del', 'hosts', '10.0.0.2']);
    const libDel = await h.ipset.del('hosts', '10.0.0.3').then(() => 0, (e: { code?: string }) => (e.code === 'IPSET_ERR_EXIST' ? 1 : 99));
    expect(libDel).toBe(toolDel.code);
  });
});

describe('save and restore across the tool and the library, and `ipvs set list`', () => {
  it('ipvs set save goes into ipset restore, ipset save into ipvs set restore, and ipvs set list prints what ipset list prints', async () => {
    const ns = netns();
    await ipset(ns, 'create', 'lm', 'hash:mac');
    await ipset(ns, 'add', 'lm', '02:00:00:00:00:01');
    await ipset(ns, 'create', 'lb', 'bitmap:ip,mac', 'range', '192.168.0.0-192.168.0.15');
    await ipset(ns, 'add', 'lb', '192.168.0.1');
    await ipset(ns, 'add', 'lb', '192.168.0.2,02:00:00:00:00:02');
    for (const name of ['lm', 'lb', 'ipm4', 'ipm6']) {
      expect((await cli(ns, ['set', 'list', name])).out).toBe(await ipset(ns, 'list', name));
    }
    const saved = (await cli(ns, ['set', 'save'])).out;
    expect(blank(saved)).toBe(blank(await ipset(ns, 'save')));
    const r = await other().exec('sh', ['-c', `ipset restore <<'EOF'\n${saved}EOF`]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(blank(await ipset(other(), 'save'))).toBe(blank(saved));
    await ipset(other(), 'destroy');
    expect(await cli(other(), ['set', 'restore'], await ipset(ns, 'save'))).toMatchObject({ code: 0 });
    expect(blank(await ipset(other(), 'save'))).toBe(blank(await ipset(ns, 'save')));
    // the CLI's add/test/del of MAC entries, with ipset's words
    expect(await cli(ns, ['set', 'add', 'lm', 'aa:bb:cc:dd:ee:ff'])).toMatchObject({ code: 0 });
    expect((await ns.exec('ipset', ['test', 'lm', 'AA:BB:CC:DD:EE:FF'])).code).toBe(0);
    expect(await cli(ns, ['set', 'del', 'lm', 'AA:BB:CC:DD:EE:FF'])).toMatchObject({ code: 0 });
    expect(await cli(ns, ['set', 'create', 'nofam', 'hash:mac', 'family', 'inet'])).toMatchObject({ code: 2 });
  });
});
