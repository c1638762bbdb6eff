/**
 * The virtual IP ranges the proxy owns (`--service-cidr 10.96.0.0/12`, `fd00:10:96::/108`),
 * matched with Node's `net.BlockList`: one list per family, because a BlockList also matches an
 * IPv4 address against the IPv4-mapped form of an IPv6 range (and the reverse), while IPVS keeps
 * 10.96.0.1 and ::ffff:10.96.0.1 as two different services.
 */
import { BlockList, isIP } from 'node:net';

export class OwnedRanges {
  /** The ranges as given, `ADDR/LEN` each. */
  readonly cidrs: string[] = [];
  private readonly lists = { 4: new BlockList(), 6: new BlockList() };

  constructor(cidrs: readonly string[] = []) {
    for (const c of cidrs) this.add(c);
  }

  /** Adds `ADDR/LEN`. Throws RangeError with the text when it is not one. */
  add(text: string): this {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
    const family = m ? isIP(m[1]!) : 0;
    const bits = m ? Number(m[2]) : -1;
    if (!m || family === 0 || bits > (family === 4 ? 32 : 128)) throw new RangeError(`'${text}' is not an address range like 10.96.0.0/12 or fd00:10:96::/108`);
    this.lists[family as 4 | 6].addSubnet(m[1]!, bits, family === 4 ? 'ipv4' : 'ipv6');
    this.cidrs.push(text.trim());
    return this;
  }

  /** Is `ip` inside one of the ranges? */
  has(ip: string): boolean {
    const family = isIP(ip);
    return family !== 0 && this.lists[family as 4 | 6].check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** `10.96.0.0/12, fd00:10:96::/108`. */
  toString(): string {
    return this.cidrs.join(', ');
  }
}
