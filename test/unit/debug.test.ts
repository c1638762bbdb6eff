import { describe, expect, it } from 'vitest';
import { formatMessage } from '../../src/netlink/debug';
import { encodeMessages } from '../../src/netlink/message';
import { genlHeader } from '../../src/netlink/genl';
import { ipvsCmd } from '../../src/schema/ipvs';
import { IPVS_CMD_NEW_SERVICE } from '../../src/uapi/ip-vs';
import { NLM_F_ACK } from '../../src/uapi/netlink';

describe('formatMessage', () => {
  it('prints header fields, flag letters and the attribute tree by kernel names', () => {
    const buf = encodeMessages([{
      type: 0x22, flags: NLM_F_ACK, fixed: genlHeader(IPVS_CMD_NEW_SERVICE, 1), schema: ipvsCmd,
      attrs: { service: { af: 2, protocol: 6, addr: '10.0.0.1', port: 80, schedName: 'rr' } },
    }], 7);
    const text = formatMessage(buf, { fixedSize: 4, schema: ipvsCmd }, (t) => (t === 0x22 ? 'IPVS' : undefined));
    expect(text.split('\n')).toEqual([
      'IPVS len=76 flags=RA (0x5) seq=7 pid=0',
      '  header 01010000',
      '  IPVS_CMD_ATTR_SERVICE [N] len=56', // NLA_F_NESTED, as ipvsadm (libnl) sends it
      '    IPVS_SVC_ATTR_AF len=6 0200',
      '    IPVS_SVC_ATTR_PROTOCOL len=6 0600',
      '    IPVS_SVC_ATTR_ADDR len=20 0a000001000000000000000000000000',
      '    IPVS_SVC_ATTR_PORT len=6 0050',
      '    IPVS_SVC_ATTR_SCHED_NAME len=7 727200',
    ]);
  });
});
