/**
 * Print every IPVS service and its destinations, as `ipvsadm -Ln` lays them out.
 *
 *   npx tsx examples/list.ts [NETNS]
 *
 * One service dump plus one destination dump per service, all in a single exchange with the
 * kernel (`ipvs.listAll`). NETNS is a name under /run/netns or a path.
 */
import { openHandle } from '../src/index';

async function main(): Promise<void> {
  const ns = process.argv[2];
  const h = openHandle(ns ? { netns: ns.includes('/') ? ns : `/run/netns/${ns}` } : {});
  try {
    const info = await h.ipvs.getInfo();
    console.log(`IP Virtual Server version ${info.version} (size=${info.connTableSize})`);
    console.log('Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
    for (const s of await h.ipvs.listAll()) {
      const what = 'fwmark' in s ? `FWM  ${s.fwmark}` : `${s.protocol.toUpperCase().padEnd(4)} ${s.address.includes(':') ? `[${s.address}]` : s.address}:${s.port}`;
      console.log(`${what} ${s.scheduler}${s.persistent ? ` persistent ${s.persistent}` : ''}`);
      for (const d of s.destinations) {
        const addr = d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
        const fwd = { masq: 'Masq', route: 'Route', tunnel: 'Tunnel', local: 'Local', bypass: 'Bypass' }[d.forwarding];
        console.log(`  -> ${addr.padEnd(28)} ${fwd.padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConns).padEnd(10)} ${d.inactiveConns}`);
      }
    }
  } finally {
    h.close();
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
