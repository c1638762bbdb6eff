// What each missing kernel module looks like to the caller: its own message naming the module.
// The kernel's side of it (the codes a kernel without the module really answers with) is proved in
// the VM by test/kernel/missing-modules.test.ts.
import { getSystemErrorName } from 'node:util';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { errnoName, NetlinkError } from '../../src/netlink/errors';
import { refusal } from '../../src/netlink/operation';
import { resolveFamily } from '../../src/netlink/genl';
import type { Connection } from '../../src/netlink/connection';
import type { MessageOutcome } from '../../src/netlink/protocol';
import { addDummyOp } from '../../src/link/ops';
import { createOp, protocolOp, typeOp } from '../../src/ipset/ops';
import { ipsetErrorCode, ipsetTypeModule } from '../../src/ipset/errors';
import { IPSET_ERR_FIND_TYPE } from '../../src/uapi/ipset';

const refused = (errno: number): MessageOutcome => ({ seq: 1, status: 'error', errno, replies: [], interrupted: false });

describe('errno names', () => {
  it('names errno 95 as Node does (ENOTSUP; Linux also calls it EOPNOTSUPP), and 11 EAGAIN', () => {
    expect(constants.errno.ENOTSUP).toBe(95);
    expect(constants.errno.EOPNOTSUPP).toBe(95);
    expect(errnoName(-95)).toBe(getSystemErrorName(-95));
    expect(errnoName(-95)).toBe('ENOTSUP');
    expect(errnoName(-11)).toBe(getSystemErrorName(-11));
    expect(errnoName(-17)).toBe('EEXIST');
    expect(errnoName(-4000)).toBe('E4000');
  });
});

describe('a message per missing module', () => {
  it('dummy: links.addDummy refused with errno 95', () => {
    const e = refusal(addDummyOp('kube-ipvs0'), { ...refused(-95), extack: { message: 'Unknown device type' } });
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('ENOTSUP');
    expect(e.message).toBe('links.addDummy: the kernel has no dummy links: load the dummy module (modprobe dummy) or build a kernel with CONFIG_DUMMY [kernel: Unknown device type] (ENOTSUP)');
  });

  it('ip_set: the protocol negotiation refused with EINVAL', () => {
    const e = refusal(protocolOp(), refused(-22), undefined, Buffer.alloc(0));
    expect(e.code).toBe('EINVAL');
    expect(e.message).toMatch(/^ipset\.protocol: .*the kernel has no ipset: load the ip_set module \(modprobe ip_set\)/);
  });

  it('ip_set_<type>: the type query and create refused with IPSET_ERR_FIND_TYPE name the type\'s module', () => {
    for (const o of [typeOp(7, 'hash:ip,port'), createOp(7, 's', 'hash:ip,port', 0)]) {
      const e = refusal(o, refused(-IPSET_ERR_FIND_TYPE), undefined, Buffer.alloc(0));
      expect(e.code).toBe('IPSET_ERR_FIND_TYPE');
      expect(e.message).toMatch(/the kernel has no set type hash:ip,port .*load the ip_set_hash_ipport module \(modprobe ip_set_hash_ipport\)/);
    }
    expect(ipsetErrorCode(-IPSET_ERR_FIND_TYPE)).toBe('IPSET_ERR_FIND_TYPE');
  });

  it('maps every set type to its module file', () => {
    expect(ipsetTypeModule('hash:ip')).toBe('ip_set_hash_ip');
    expect(ipsetTypeModule('hash:ip,port,net')).toBe('ip_set_hash_ipportnet');
    expect(ipsetTypeModule('hash:net,iface')).toBe('ip_set_hash_netiface');
    expect(ipsetTypeModule('bitmap:ip,mac')).toBe('ip_set_bitmap_ipmac');
    expect(ipsetTypeModule('list:set')).toBe('ip_set_list_set');
    expect(ipsetTypeModule('hash:nothing')).toBeUndefined();
    // a type Linux does not have keeps the ipset tool's words
    const e = refusal(typeOp(7, 'hash:nothing'), refused(-IPSET_ERR_FIND_TYPE), undefined, Buffer.alloc(0));
    expect(e.message).toBe('ipset.typeRevisions: set type hash:nothing: the kernel does not support this set type (or revision, or family) (IPSET_ERR_FIND_TYPE)');
  });

  it('ip_vs: the family lookup refused with ENOENT', async () => {
    const conn = { exchange: async () => ({ outcomes: [refused(-2)], replies: Buffer.alloc(0), error: null }) } as unknown as Connection;
    const e = await resolveFamily(conn, 'IPVS').then(() => undefined, (x: unknown) => x as NetlinkError);
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e!.message).toBe('genl.resolveFamily: the kernel has no IPVS: load the ip_vs module (modprobe ip_vs) or build a kernel with CONFIG_IP_VS (ENOENT)');
  });
});
