// The IPVS sysctls the proxy example sets at start, as kube-proxy's IPVS mode does, by kernel release.
import { describe, expect, it } from 'vitest';
import { kubeProxySysctls } from '../../examples/proxy/dataplane';

describe('kube-proxy\'s IPVS sysctls', () => {
  it('always conntrack, expire_nodest_conn and expire_quiescent_template; conn_reuse_mode 0 only from 4.1 to before 5.9', () => {
    const base = { conntrack: 1, expire_nodest_conn: 1, expire_quiescent_template: 1 };
    expect(kubeProxySysctls('6.1.0-18-amd64')).toEqual(base);
    expect(kubeProxySysctls('5.9.0')).toEqual(base);
    expect(kubeProxySysctls('5.4.0-150-generic')).toEqual({ ...base, conn_reuse_mode: 0 });
    expect(kubeProxySysctls('4.1.12')).toEqual({ ...base, conn_reuse_mode: 0 });
    expect(kubeProxySysctls('3.10.0-1160.el7.x86_64')).toEqual(base);
  });
});
