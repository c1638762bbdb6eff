// Reconciling the MAC set types: entries compared by element, MACs as ipset prints them, and a
// bitmap:ip,mac entry wanted without a MAC kept once the kernel has filled its MAC in from traffic.
import { describe, expect, it } from 'vitest';
import { diffSets } from '../../src/reconcile/diff';
import type { IpsetSet } from '../../src/ipset/set';

const set = (name: string, type: string, entries: IpsetSet['entries']): IpsetSet => ({
  name, type, revision: 3, counters: false, comment: false, skbinfo: false, forceadd: false, references: 0, memsize: 0,
  elements: entries?.length ?? 0, entries, ...(type === 'bitmap:ip,mac' && { family: 'inet' as const, range: '10.0.0.0-10.0.0.255' }),
});

describe('reconcile of MAC sets', () => {
  it('hash:mac: the same MAC in another case is no change', () => {
    const plan = diffSets([{ name: 'm', type: 'hash:mac', entries: ['aa:bb:cc:dd:ee:ff', { mac: '0:1:2:3:4:5' }] }],
      [set('m', 'hash:mac', [{ mac: 'AA:BB:CC:DD:EE:FF' }, { mac: '11:11:11:11:11:11' }])], () => true);
    expect(plan).toEqual([
      { kind: 'delEntries', name: 'm', entries: [{ mac: '11:11:11:11:11:11' }] },
      { kind: 'addEntries', name: 'm', entries: [{ mac: '0:1:2:3:4:5' }] },
    ]);
  });

  it('bitmap:ip,mac: an entry wanted without a MAC matches the kernel\'s filled one; a wanted MAC replaces another', () => {
    const plan = diffSets([{ name: 'h', type: 'bitmap:ip,mac', entries: ['10.0.0.2', '10.0.0.3,02:00:00:00:00:03', '10.0.0.4'] }],
      [set('h', 'bitmap:ip,mac', [{ ip: '10.0.0.2', mac: '02:00:00:00:00:02' }, { ip: '10.0.0.3', mac: '02:00:00:00:00:09' }])], () => true);
    expect(plan).toEqual([
      { kind: 'delEntries', name: 'h', entries: [{ ip: '10.0.0.3', mac: '02:00:00:00:00:09' }] },
      { kind: 'addEntries', name: 'h', entries: [{ ip: '10.0.0.3', mac: '02:00:00:00:00:03' }, { ip: '10.0.0.4' }] },
    ]);
  });
});
