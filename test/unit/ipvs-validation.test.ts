import { describe, expect, it } from 'vitest';
import { addDestinationOp, addServiceOp, deleteServiceOp } from '../../src/ipvs/ops';
import type { GenlFamily } from '../../src/netlink/genl';

const fam: GenlFamily = { name: 'IPVS', id: 0x20, version: 1, hdrsize: 0, maxattr: 0, commands: new Set(), groups: new Map() };
const svc = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;

describe('IPVS input is refused before anything is sent', () => {
  it.each([
    [{ ...svc, address: '10.0.0.300' }, TypeError, /not an IPv4 or IPv6 address/],
    [{ ...svc, port: 65536 }, RangeError, /port must be an integer 0-65535/],
    [{ ...svc, port: 0 }, RangeError, /port 0 is only allowed for persistent/],
    [{ ...svc, protocol: 'icmp' }, TypeError, /protocol must be 'tcp', 'udp' or 'sctp'/],
    [{ ...svc, scheduler: 'no such' }, TypeError, /scheduler must be a name/],
    [{ ...svc, persistent: -1 }, RangeError, /persistent/],
    [{ ...svc, netmask: 33 }, RangeError, /netmask prefix length/],
    [{ ...svc, schedFlags: ['sh-bogus'] }, TypeError, /unknown scheduler flag/],
    [{ fwmark: 0 }, RangeError, /fwmark must be an integer/],
  ])('addService(%j)', (input, type, msg) => {
    expect(() => addServiceOp(fam, input as never)).toThrow(type);
    expect(() => addServiceOp(fam, input as never)).toThrow(msg);
  });

  it.each([
    [{ address: 'x', port: 1 }, TypeError, /destination address 'x'/],
    [{ address: '10.0.0.2', port: -1 }, RangeError, /destination port/],
    [{ address: '10.0.0.2', port: 1, forwarding: 'nat' }, TypeError, /forwarding must be one of masq, route, tunnel, local, bypass/],
    [{ address: '10.0.0.2', port: 1, weight: 1.5 }, RangeError, /weight/],
    [{ address: '10.0.0.2', port: 1, forwarding: 'masq', tunnelType: 'gre' }, TypeError, /tunnel options need forwarding 'tunnel'/],
    [{ address: '10.0.0.2', port: 1, forwarding: 'tunnel', tunnelType: 'gue' }, RangeError, /gue tunnel needs tunnelPort/],
    [{ address: '10.0.0.2', port: 1, forwarding: 'tunnel', tunnelChecksum: 'csum' }, TypeError, /gue and gre tunnels only/],
  ])('addDestination(%j)', (input, type, msg) => {
    expect(() => addDestinationOp(fam, svc, input as never)).toThrow(type);
    expect(() => addDestinationOp(fam, svc, input as never)).toThrow(msg);
  });

  it('names the operation in every message', () => {
    expect(() => deleteServiceOp(fam, { ...svc, port: 70000 })).toThrow(/^ipvs\.deleteService: /);
  });
});
