import { describe, expect, it } from 'vitest';
import { parseDesiredFile, planLines } from '../../src/cli/apply-command';

describe('ipvs apply', () => {
  it('reads desired state and scope from JSON, refusing unknown keys and bad shapes', () => {
    const { desired, scope } = parseDesiredFile('{"ipvs":[],"scope":{"services":{"addresses":["10.96.0.0/12"]}}}', 'f.json');
    expect(desired).toEqual({ ipvs: [] });
    expect(scope).toEqual({ services: { addresses: ['10.96.0.0/12'] } });
    expect(() => parseDesiredFile('{"ipvs": [}', 'f.json')).toThrow(/^f\.json: not JSON/);
    expect(() => parseDesiredFile('[]', 'f.json')).toThrow(/top level must be an object/);
    expect(() => parseDesiredFile('{"services": []}', 'f.json')).toThrow(/unknown key 'services'/);
    expect(() => parseDesiredFile('{"ipvs": {}}', 'f.json')).toThrow(/'ipvs' must be a list/);
    expect(() => parseDesiredFile('{"scope": 3}', 'f.json')).toThrow(/'scope' must be an object/);
  });

  it('prints one line per plan step', () => {
    const svc = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
    expect(planLines({
      addresses: [{ kind: 'addLink', link: 'kube-ipvs0' }, { kind: 'addAddress', link: 'kube-ipvs0', cidr: '10.0.0.1/32' }],
      ipvs: [
        { kind: 'addService', service: { ...svc, scheduler: 'rr' } },
        { kind: 'editDestination', service: svc, destination: { address: 'fd00::2', port: 80, weight: 0 }, fields: ['weight'] },
        { kind: 'deleteDestination', service: svc, destination: { address: '10.1.0.3', port: 80 }, drain: true, connections: 2 },
        { kind: 'deleteService', service: { fwmark: 7 }, destinations: 3 },
      ],
      sets: [{ kind: 'addEntries', name: 'KUBE-CLUSTER-IP', entries: [{ ip: '10.0.0.1' } as never] }],
    })).toEqual([
      '+ link kube-ipvs0 (dummy)',
      '+ address 10.0.0.1/32 dev kube-ipvs0',
      '+ service tcp 10.0.0.1:80',
      '~ destination [fd00::2]:80 of tcp 10.0.0.1:80 (weight)',
      '- destination 10.1.0.3:80 of tcp 10.0.0.1:80 (drain 2 connection(s))',
      '- service fwmark 7 with 3 destination(s)',
      '+ set KUBE-CLUSTER-IP: 1 entry',
    ]);
  });
});
