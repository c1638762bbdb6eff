#!/usr/bin/env node
// Turns an nlmon capture (tcpdump -w on an nlmon link: LINKTYPE_NETLINK, each record a 16-byte
// Linux cooked header then one netlink datagram) into a golden fixture: comment lines, then one
// line per datagram of the chosen netlink protocol, `>` for requests (NLM_F_REQUEST set) and `<`
// for the kernel's replies, as hex.
//
//   node scripts/golden/ipset-rtnl-pcap2hex.mjs <capture.pcap> <netlink protocol> <out.hex> <comment lines...>
import { readFileSync, writeFileSync } from 'node:fs';

const [pcapPath, protoArg, outPath, ...comments] = process.argv.slice(2);
if (!pcapPath || !protoArg || !outPath) {
  process.stderr.write('usage: ipset-rtnl-pcap2hex.mjs <capture.pcap> <netlink protocol> <out.hex> <comment lines...>\n');
  process.exit(2);
}
const protocol = Number(protoArg);
const buf = readFileSync(pcapPath);
if (buf.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${pcapPath}: not a little-endian microsecond pcap`);
const linktype = buf.readUInt32LE(20);
if (linktype !== 253) throw new Error(`${pcapPath}: link type ${linktype}, expected 253 (LINKTYPE_NETLINK)`);
const lines = comments.map((c) => `# ${c}`);
for (let off = 24; off + 16 <= buf.length;) {
  const incl = buf.readUInt32LE(off + 8);
  const orig = buf.readUInt32LE(off + 12);
  if (incl !== orig) throw new Error(`${pcapPath}: record at ${off} truncated (${incl} of ${orig} bytes)`);
  const rec = buf.subarray(off + 16, off + 16 + incl);
  off += 16 + incl;
  // Cooked header: pkttype, ARPHRD_NETLINK, address length, 8 address bytes, protocol (big-endian).
  if (rec.readUInt16BE(14) !== protocol) continue;
  const data = rec.subarray(16);
  const flags = data.readUInt16LE(6);
  lines.push(`${flags & 1 ? '>' : '<'} ${data.toString('hex')}`);
}
writeFileSync(outPath, `${lines.join('\n')}\n`);
