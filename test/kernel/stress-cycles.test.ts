// 10,000 handles opened, used once and closed (IPVS, ipset and rtnetlink sockets in a network
// namespace, one in ten closed while its call is in flight): the process ends with exactly the
// file descriptors it started with, and every call settled (a close in flight ends the call with
// ECANCELED or EBADF, never a hang).
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openHandle } from '../../src/index';
import { netnsForTest } from './helpers/netns';

const fds = () => readdirSync('/proc/self/fd').length;

describe('10,000 open/call/close cycles', () => {
  it('leaves the file descriptor count unchanged', async () => {
    const ns = await netnsForTest();
    const warm = openHandle({ netns: ns.path });
    await warm.ipvs.addService({ protocol: 'tcp', address: '10.96.0.1', port: 80, scheduler: 'rr' });
    await warm.ipset.create('CYCLE', 'hash:ip');
    warm.close();
    const before = fds();
    let cancelled = 0, completed = 0;
    const wrong: string[] = [];
    // eight cycles at a time (each its own handle): the same 10,000 cycles, in less wall time
    let next = 0;
    const worker = async () => {
      while (next < 10_000) await cycle(next++);
    };
    const cycle = async (i: number) => {
      const h = openHandle({ netns: ns.path });
      const call: Promise<unknown> = i % 3 === 0 ? h.ipvs.listServices() : i % 3 === 1 ? h.links.list() : h.ipset.listNames();
      if (i % 10 === 9) {
        h.close();
        try {
          await call;
          completed++;
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'ECANCELED' || code === 'EBADF') cancelled++;
          else wrong.push(`${i}: ${(err as Error).message}`);
        }
        return;
      }
      try {
        const v = await call;
        if (i % 3 === 0 && (v as unknown[]).length !== 1) wrong.push(`${i}: ${JSON.stringify(v)}`);
        if (i % 3 === 2 && !(v as string[]).includes('CYCLE')) wrong.push(`${i}: ${JSON.stringify(v)}`);
        completed++;
      } catch (err) {
        wrong.push(`${i}: ${(err as Error).message}`);
      }
      h.close();
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(completed + cancelled).toBe(10_000);
    console.log(`10,000 cycles: ${completed} completed, ${cancelled} ended by the close; fds ${before} before, ${fds()} after`);
    expect(fds()).toBe(before);
  }, 600_000);
});
