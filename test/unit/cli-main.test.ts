import { describe, expect, it } from 'vitest';
import { main, parseGlobal } from '../../src/cli/main';

describe('ipvs CLI global options', () => {
  it('maps --netns NAME to /run/netns/NAME and keeps paths as given', () => {
    expect(parseGlobal(['--netns', 'lb', 'list'])).toEqual({ global: { netns: '/run/netns/lb' }, rest: ['list'] });
    expect(parseGlobal(['list', '--netns=/proc/1/ns/net'])).toEqual({ global: { netns: '/proc/1/ns/net' }, rest: ['list'] });
  });

  it('leaves -n to the verbs (ipvsadm -n numeric, ipset -n names)', () => {
    expect(parseGlobal(['list', '-n'])).toEqual({ global: {}, rest: ['list', '-n'] });
    expect(parseGlobal(['set', 'list', '-n'])).toEqual({ global: {}, rest: ['set', 'list', '-n'] });
  });

  it('answers a usage mistake with status 2 and the usage line', async () => {
    let err = '';
    const io = { out: () => undefined, err: (t: string) => { err += t; }, readStdin: async () => '' };
    expect(await main(['no-such-verb'], io)).toBe(2);
    expect(err).toMatch(/^ipvs: unknown command 'no-such-verb'\nusage: ipvs/);
    err = '';
    expect(await main(['--netns'], io)).toBe(2);
    expect(err).toContain('--netns needs a namespace name or path');
  });
});
