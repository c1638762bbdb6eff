/**
 * Host and port names, as ipvsadm reads and prints them.
 *
 * Input: ipvsadm resolves a host name in `-t/-u/--sctp-service` and `-r` with gethostbyname, so a
 * name always means its first IPv4 address (an IPv6 service or destination must be numeric), and
 * a port name with getservbyname for the service's protocol. Output without `-n`: the address by
 * gethostbyaddr (numeric when it has no name) and the port by getservbyport (numeric when it has
 * none). Here the system resolver does the same through Node's `dns.lookup` (getaddrinfo, so
 * /etc/hosts and nsswitch are honoured) and `dns.lookupService` (getnameinfo); port names come
 * from /etc/services, read once.
 *
 * The ipvsadm parser is synchronous, so names are resolved in two passes: {@link withHostNames}
 * parses once to learn which names a command line (or a rules file) uses, looks them all up at
 * once, and parses again with the answers.
 */
import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { IpvsServiceEntry } from '../index';
import type { HostResolver, PortResolver } from './ipvs-args';

export type { HostResolver };

type Proto = 'tcp' | 'udp' | 'sctp';

interface ServicesTable {
  byName: Map<string, number>;
  byPort: Map<string, string>;
}

let table: ServicesTable | undefined;

/** /etc/services in both directions, first entry winning (as getservby* return the first match). */
function servicesTable(): ServicesTable {
  if (table) return table;
  const t: ServicesTable = { byName: new Map(), byPort: new Map() };
  let text = '';
  try {
    text = readFileSync('/etc/services', 'utf8');
  } catch {
    // no /etc/services: numeric ports only
  }
  for (const line of text.split('\n')) {
    const f = line.split('#')[0]!.trim().split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(f[1] ?? '');
    if (!m) continue;
    const portKey = `${m[1]}/${m[2]}`;
    if (!t.byPort.has(portKey)) t.byPort.set(portKey, f[0]!);
    for (const name of [f[0]!, ...f.slice(2)]) {
      const key = `${name}/${m[2]}`;
      if (!t.byName.has(key)) t.byName.set(key, Number(m[1]));
    }
  }
  table = t;
  return t;
}

/** Port names from /etc/services (ipvsadm resolves them with getservbyname). */
export function etcServices(): PortResolver {
  const { byName } = servicesTable();
  return (name, protocol) => byName.get(`${name}/${protocol}`);
}

/** getservbyport: the port's name for the protocol, or undefined. */
export function portName(port: number, protocol: Proto): string | undefined {
  return servicesTable().byPort.get(`${port}/${protocol}`);
}

/**
 * Runs a synchronous parse with host names resolved: first with a resolver that only records the
 * names asked for (answering a placeholder address), then, if any were, again with their IPv4
 * addresses looked up (all at once). A name with no IPv4 address is answered undefined, which
 * the parser reports as it reports any bad address.
 */
export async function withHostNames<T>(parse: (hosts: HostResolver) => T, lookup: (names: readonly string[]) => Promise<Map<string, string>> = lookupIPv4): Promise<T> {
  const wanted = new Set<string>();
  try {
    const first = parse((name) => {
      wanted.add(name);
      return '0.0.0.0';
    });
    if (wanted.size === 0) return first;
  } catch (err) {
    // with names asked for, the placeholder may be what failed: the second parse says
    if (wanted.size === 0) throw err;
  }
  const found = await lookup([...wanted]);
  return parse((name) => found.get(name));
}

/** Each name's first IPv4 address (getaddrinfo with AF_INET); names without one are left out. */
export async function lookupIPv4(names: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(
    names.map(async (name) => {
      try {
        out.set(name, (await dns.lookup(name, { family: 4 })).address);
      } catch {
        // unknown: the parser says the address is illegal
      }
    }),
  );
  return out;
}

/** Names for the addresses and ports of a listing (ipvsadm without -n). */
export interface NameTable {
  /** The address's host name, or undefined to print it numerically. */
  host(address: string): string | undefined;
  /** The port's service name for the protocol, or undefined to print the number. */
  port(port: number, protocol: Proto | undefined): string | undefined;
}

/** The host names of every address in the listing, looked up once each (getnameinfo). */
export async function lookupNames(services: readonly IpvsServiceEntry[], reverse: (address: string) => Promise<string | undefined> = reverseLookup): Promise<NameTable> {
  const addresses = new Set<string>();
  for (const s of services) {
    if ('address' in s) addresses.add(s.address);
    for (const d of s.destinations) addresses.add(d.address);
  }
  const hosts = new Map<string, string>();
  await Promise.all(
    [...addresses].map(async (a) => {
      const name = await reverse(a);
      if (name !== undefined) hosts.set(a, name);
    }),
  );
  return {
    host: (address) => hosts.get(address),
    // a firewall-mark service has no protocol, and ipvsadm prints its destinations' ports as numbers
    port: (port, protocol) => (protocol ? portName(port, protocol) : undefined),
  };
}

async function reverseLookup(address: string): Promise<string | undefined> {
  try {
    const { hostname } = await dns.lookupService(address, 0);
    // getnameinfo answers the numeric form when asked without NI_NAMEREQD: that is no name
    return isIP(hostname) === 0 ? hostname : undefined;
  } catch {
    return undefined;
  }
}
