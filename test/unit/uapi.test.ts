import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('src/uapi', () => {
  it('matches what the generator makes from this machine\'s kernel headers', () => {
    const out = mkdtempSync(join(tmpdir(), 'uapi-'));
    try {
      execFileSync('node', [join(root, 'scripts/uapi/generate.mjs'), out]);
      const committed = readdirSync(join(root, 'src/uapi')).sort();
      expect(readdirSync(out).sort()).toEqual(committed);
      for (const f of committed) {
        expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(root, 'src/uapi', f), 'utf8'));
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('carries the numbers the kernel ABI fixed', async () => {
    const ipvs = await import('../../src/uapi/ip-vs');
    const nl = await import('../../src/uapi/netlink');
    expect(ipvs.IPVS_SVC_ATTR_PORT).toBe(4);
    expect(ipvs.IPVS_CMD_NEW_SERVICE).toBe(1);
    expect(ipvs.IPVS_GENL_NAME).toBe('IPVS');
    expect(nl.NLMSG_ERROR).toBe(2);
    expect(nl.NLA_F_NESTED).toBe(0x8000);
  });
});
