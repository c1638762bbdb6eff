/**
 * `ipvsadm -Lnc`: the connection table in ipvsadm's layout (ipvsadm.c list_conn/print_conn):
 * protocol, expiry as mm:ss, state, then client, virtual and destination address:port, IPv6 in
 * brackets; `--persistent-conn` adds the persistence engine's name and data.
 */
import { CONNECTION_PROTOCOL_NAMES, type IpvsConnection } from '../index';

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The table as `ipvsadm -Lnc` prints it (with `persistentConn`, as `ipvsadm -Lnc --persistent-conn`). */
export function formatConnections(conns: readonly IpvsConnection[], persistentConn = false): string {
  const head = persistentConn
    ? `pro expire ${'state'.padEnd(11)} ${'source'.padEnd(18)} ${'virtual'.padEnd(18)} ${'destination'.padEnd(18)} ${'pe name'.padEnd(16)} pe_data\n`
    : `pro expire ${'state'.padEnd(11)} ${'source'.padEnd(18)} ${'virtual'.padEnd(18)} destination\n`;
  const lines = ['IPVS connection entries\n', head];
  for (const c of conns) {
    const proto = (CONNECTION_PROTOCOL_NAMES[c.protocol] ?? c.protocol.toUpperCase()).padEnd(3);
    const expire = `${two(Math.floor(c.expires / 60))}:${two(c.expires % 60)}`.padEnd(6);
    const start = `${proto} ${expire} ${c.state.padEnd(11)} ${endpoint(c.clientAddress, c.clientPort).padEnd(18)} ${endpoint(c.virtualAddress, c.virtualPort).padEnd(18)} `;
    const dest = endpoint(c.destinationAddress, c.destinationPort);
    lines.push(persistentConn && c.persistenceEngine
      ? `${start}${dest.padEnd(18)} ${c.persistenceEngine.name.padEnd(16)} ${c.persistenceEngine.data}\n`
      : `${start}${dest}\n`);
  }
  return lines.join('');
}
