// The kernel's ranges of scheduler flags, weights and thresholds in the builders and decoders
// (no kernel: test/kernel/ipvs-limits.test.ts checks them against the kernel and ipvsadm).
import { describe, expect, it } from 'vitest';
import { serviceAttrs, serviceOf } from '../../src/ipvs/service';
import { destinationAttrs, toDestinationSettings } from '../../src/ipvs/destination';
import { zeroStats } from '../../src/ipvs/stats';
import { IP_VS_SVC_F_HASHED, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3 } from '../../src/uapi/ip-vs';
import { AF_INET } from '../../src/uapi/netlink';

const svc = (sched: string, flags: number) => serviceOf(AF_INET, 6, '10.0.0.1', 80, undefined, sched, undefined, flags, undefined, undefined, zeroStats());

describe('scheduler flags', () => {
  it('reads every bit by ipvsadm\'s names, flag-3 on sh and mh too (0x2a)', () => {
    const f = IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED3 | IP_VS_SVC_F_HASHED;
    expect(f).toBe(0x2a);
    expect(svc('sh', f).schedFlags).toEqual(['sh-fallback', 'flag-3']);
    expect(svc('mh', f | IP_VS_SVC_F_SCHED2).schedFlags).toEqual(['mh-fallback', 'mh-port', 'flag-3']);
    expect(svc('rr', f | IP_VS_SVC_F_SCHED2).schedFlags).toEqual(['flag-1', 'flag-2', 'flag-3']);
    expect(svc('sh', IP_VS_SVC_F_HASHED).schedFlags).toEqual([]);
  });

  it('writes what it reads', () => {
    for (const [sched, names] of [['sh', ['sh-fallback', 'flag-3']], ['mh', ['mh-port', 'flag-3']], ['wrr', ['flag-1', 'flag-3']]] as const) {
      const rec = serviceAttrs({ protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: sched, schedFlags: [...names] }, 't');
      const flags = (rec.flags as { flags: number }).flags;
      expect(svc(sched, flags).schedFlags).toEqual(names);
    }
  });
});

describe('weights and thresholds', () => {
  const d = (o: object) => destinationAttrs({ address: '10.0.0.2', port: 80, ...o }, 'ipvs.addDestination');
  it('takes the weight 0 to INT_MAX and the thresholds 0 to UINT_MAX', () => {
    expect(d({ weight: 0x7fffffff, upperThreshold: 0xffffffff, lowerThreshold: 0xffffffff })).toMatchObject({ weight: 0x7fffffff, uThresh: 0xffffffff, lThresh: 0xffffffff });
    expect(d({ weight: 0 })).toMatchObject({ weight: 0, uThresh: 0, lThresh: 0 });
    expect(() => d({ weight: 0x80000000 })).toThrow('weight must be an integer 0-2147483647');
    expect(() => d({ weight: -1 })).toThrow(RangeError);
    expect(() => d({ upperThreshold: 0x100000000 })).toThrow('upperThreshold must be an integer 0-4294967295');
    expect(() => d({ upperThreshold: 5, lowerThreshold: 0x80000000 })).toThrow('lowerThreshold 2147483648 is above upperThreshold 5');
    expect(() => d({ lowerThreshold: 1.5 })).toThrow(RangeError);
  });

  it('decodes them whole', () => {
    const rec = { ...d({ weight: 0x7fffffff, upperThreshold: 0xffffffff, lowerThreshold: 0x80000000 }) };
    expect(toDestinationSettings(rec, AF_INET)).toMatchObject({ weight: 0x7fffffff, upperThreshold: 0xffffffff, lowerThreshold: 0x80000000 });
  });
});
