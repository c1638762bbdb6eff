// Golden bytes of the IPVS family, captured from the real kernel (6.1, nlmon + tcpdump) while
// ipvsadm ran: see each fixture's header and scripts/golden/ipvs-capture.sh. Both directions:
// decode(bytes) equals the .json, encode(.json) equals the bytes; the library's own request
// builders produce ipvsadm's bytes where they mean the same; the typed decoders read the replies,
// including an old kernel's (no 64-bit stats, no destination family, no tunnel fields) and a
// newer one's (attributes the schema does not know).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFixture, encodeFixture, readHex, type Fixture } from '../../scripts/golden/ipvs-fixture-codec';
import { encodeMessages } from '../../src/netlink/message';
import { parseMessages, type RawMessage } from '../../src/netlink/header';
import type { GenlFamily } from '../../src/netlink/genl';
import type { Operation } from '../../src/netlink/operation';
import type { MessageOutcome } from '../../src/netlink/protocol';
import { NLM_F_REQUEST } from '../../src/uapi/netlink';
import * as ops from '../../src/ipvs/ops';

const DIR = path.join(__dirname, '..', 'golden');
const names = readdirSync(DIR).filter((f) => /^ipvs-.*\.hex$/.test(f)).map((f) => f.slice(0, -4)).sort();

function load(name: string): { buf: Buffer; fixture: Fixture } {
  return {
    buf: readHex(readFileSync(path.join(DIR, `${name}.hex`), 'utf8')),
    fixture: JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as Fixture,
  };
}

describe('IPVS golden fixtures: both directions', () => {
  it('has the captured set', () => {
    expect(names.length).toBeGreaterThanOrEqual(30);
  });

  it.each(names)('%s: decode(hex) = json, encode(json) = hex', (name) => {
    const { buf, fixture } = load(name);
    expect(decodeFixture(buf, fixture.serviceFamily)).toEqual(fixture.messages);
    expect(encodeFixture(fixture.messages).toString('hex')).toBe(buf.toString('hex'));
  });
});

/** The fixture's first request, and a family whose id is the one the kernel gave IPVS there. */
function request(name: string): { req: Buffer; family: GenlFamily } {
  const { buf } = load(name);
  const m = parseMessages(buf).find((x) => x.flags & NLM_F_REQUEST)!;
  return {
    req: buf.subarray(m.offset, m.offset + m.len),
    family: { name: 'IPVS', id: m.type, version: 1, hdrsize: 0, maxattr: 0, commands: new Set(), groups: new Map() },
  };
}

/** A message without what differs per run or per sender: sequence number, port id, flags. */
function body(msg: Buffer): string {
  const b = Buffer.from(msg);
  b.fill(0, 6, 16);
  return b.toString('hex');
}

/** The bytes of one first-level attribute (by id) of a genetlink message. */
function topAttr(msg: Buffer, id: number): string {
  for (let off = 20; off + 4 <= msg.length;) {
    const len = msg.readUInt16LE(off);
    if ((msg.readUInt16LE(off + 2) & 0x3fff) === id) return msg.subarray(off, off + len).toString('hex');
    off += (len + 3) & ~3;
  }
  throw new Error(`attribute ${id} not found`);
}

const svc = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
/** Builders that say what ipvsadm's request said, with the same attributes: whole messages must match. */
const SAME_MESSAGE: [string, (f: GenlFamily) => Operation<unknown>][] = [
  ['ipvs-add-service-tcp', (f) => ops.addServiceOp(f, { ...svc, scheduler: 'rr' })],
  ['ipvs-add-service-v6-persistent', (f) => ops.addServiceOp(f, { protocol: 'tcp', address: 'fd00::1', port: 443, scheduler: 'lc', persistent: 100, netmask: 64 })],
  ['ipvs-add-service-udp-sip', (f) => ops.addServiceOp(f, { protocol: 'udp', address: '10.0.0.3', port: 5060, scheduler: 'sed', persistent: 60, netmask: '255.255.0.0', pe: 'sip', onePacket: true })],
  ['ipvs-add-service-fwmark-sh', (f) => ops.addServiceOp(f, { fwmark: 7, scheduler: 'sh', schedFlags: ['sh-fallback', 'sh-port'] })],
  ['ipvs-add-service-fwmark6-mh', (f) => ops.addServiceOp(f, { fwmark: 3, family: 'inet6', scheduler: 'mh', schedFlags: ['mh-port'] })],
  ['ipvs-add-service-sctp', (f) => ops.addServiceOp(f, { protocol: 'sctp', address: '10.0.0.4', port: 9, scheduler: 'fo' })],
  ['ipvs-edit-service', (f) => ops.editServiceOp(f, { ...svc, scheduler: 'wrr', persistent: 30, netmask: 24 })],
  ['ipvs-zero-all', (f) => ops.zeroOp(f)],
  ['ipvs-flush', (f) => ops.flushOp(f)],
  ['ipvs-set-timeouts', (f) => ops.setTimeoutsOp(f, { tcp: 1000, tcpFin: 100, udp: 200 })],
  ['ipvs-get-timeouts', (f) => ops.getTimeoutsOp(f)],
  ['ipvs-list-get-info', (f) => ops.getInfoOp(f)],
  ['ipvs-list-get-service', (f) => ops.listServicesOp(f)],
  ['ipvs-list-get-dest-1', (f) => ops.listDestinationsOp(f, svc)],
  ['ipvs-list-get-dest-2', (f) => ops.listDestinationsOp(f, { protocol: 'udp', address: '10.0.0.3', port: 5060 })],
  ['ipvs-list-get-dest-3', (f) => ops.listDestinationsOp(f, { fwmark: 3, family: 'inet6' })],
  ['ipvs-list-daemons', (f) => ops.listDaemonsOp(f)],
  ['ipvs-start-daemon-master', (f) => ops.startDaemonOp(f, { state: 'master', interface: 'lo', syncId: 5, syncMaxLen: 1000, port: 9000, ttl: 3, group: '224.0.0.99' })],
  ['ipvs-start-daemon-backup6', (f) => ops.startDaemonOp(f, { state: 'backup', interface: 'lo', syncId: 6, group: 'ff02::99' })],
];
/**
 * Destination calls: ipvsadm also sends the service's settings (empty scheduler, zero flags) in
 * the service nest, which the kernel ignores there; the destination nests must match.
 */
const SAME_DEST: [string, (f: GenlFamily) => Operation<unknown>][] = [
  ['ipvs-add-dest-masq', (f) => ops.addDestinationOp(f, svc, { address: '192.168.1.1', port: 8080, forwarding: 'masq', weight: 3, upperThreshold: 100, lowerThreshold: 10 })],
  ['ipvs-add-dest-gue', (f) => ops.addDestinationOp(f, svc, { address: '10.1.1.3', port: 80, forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'remcsum' })],
  ['ipvs-add-dest-gre', (f) => ops.addDestinationOp(f, svc, { address: '10.1.1.4', port: 80, forwarding: 'tunnel', tunnelType: 'gre', tunnelChecksum: 'csum' })],
  ['ipvs-add-dest-v6-over-v4', (f) => ops.addDestinationOp(f, svc, { address: 'fd00::5', port: 80, forwarding: 'tunnel', weight: 2 })],
  ['ipvs-edit-dest', (f) => ops.editDestinationOp(f, svc, { address: '192.168.1.1', port: 8080, forwarding: 'masq', weight: 5 })],
];

describe('IPVS request builders produce the bytes ipvsadm sent', () => {
  it.each(SAME_MESSAGE)('%s', (name, build) => {
    const { req, family } = request(name);
    const ours = encodeMessages([build(family).message], 1);
    expect(body(ours)).toBe(body(req));
  });

  it.each(SAME_DEST)('%s (destination nest)', (name, build) => {
    const { req, family } = request(name);
    const ours = encodeMessages([build(family).message], 1);
    expect(topAttr(ours, 2)).toBe(topAttr(req, 2));
    expect(ours.readUInt16LE(16)).toBe(req.readUInt16LE(16)); // same command
  });
});

/** Runs an operation's decoder over a fixture's replies, as the transport would hand them over. */
function decodeWith<T>(name: string, op: Operation<T>): T {
  const { buf } = load(name);
  const replies: RawMessage[] = parseMessages(buf).filter((m) => !(m.flags & NLM_F_REQUEST));
  const outcome: MessageOutcome = { seq: 0, status: 'ok', errno: 0, replies, interrupted: false };
  return op.decode!(buf, outcome);
}

const FAM: GenlFamily = { name: 'IPVS', id: 28, version: 1, hdrsize: 0, maxattr: 0, commands: new Set(), groups: new Map() };

describe('IPVS replies read into typed objects', () => {
  it('services, with 64-bit counters, persistence, flags and the persistence engine', () => {
    const services = decodeWith('ipvs-list-get-service', ops.listServicesOp(FAM));
    expect(services.map((s) => ('fwmark' in s ? `fwm ${s.fwmark}` : `${s.protocol} ${s.address}:${s.port}`))).toEqual(
      ['tcp 10.0.0.1:80', 'udp 10.0.0.3:5060', 'fwm 3'],
    );
    expect(services[0]).toMatchObject({ family: 'inet', scheduler: 'rr', persistent: 0, netmask: '255.255.255.255', onePacket: false, schedFlags: [] });
    expect(services[0]!.stats.conns).toBe(2n);
    expect(services[0]!.stats.inpkts).toBeGreaterThanOrEqual(2n);
    expect(services[1]).toMatchObject({ scheduler: 'sed', persistent: 60, netmask: '255.255.0.0', pe: 'sip', onePacket: true });
    expect(services[2]).toMatchObject({ fwmark: 3, family: 'inet6', scheduler: 'mh', schedFlags: ['mh-port'], persistent: 120, netmask: 96 });
  });

  it('destinations: forwarding, tunnels, thresholds, families and counts', () => {
    const dests = decodeWith('ipvs-list-get-dest-1', ops.listDestinationsOp(FAM, svc));
    const byAddr = Object.fromEntries(dests.map((d) => [d.address, d]));
    expect(byAddr['192.168.1.1']).toMatchObject({ port: 8080, family: 'inet', forwarding: 'masq', weight: 3, upperThreshold: 100, lowerThreshold: 10 });
    expect(byAddr['192.168.1.1']!.tunnelType).toBeUndefined();
    expect(byAddr['10.1.1.3']).toMatchObject({ port: 80, forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'csum', activeConns: 1 });
    expect(byAddr['fd00::5']).toMatchObject({ family: 'inet6', forwarding: 'tunnel', tunnelType: 'gre', tunnelChecksum: 'nocsum', activeConns: 1 });
    expect(byAddr['fd00::5']!.stats.conns).toBe(1n);
  });

  it('an old kernel\'s destinations: 32-bit counters, the service\'s family, no tunnel fields', () => {
    const dests = decodeWith('ipvs-old-kernel-get-dest', ops.listDestinationsOp(FAM, svc));
    expect(dests).toHaveLength(2);
    for (const d of dests) {
      expect(d.family).toBe('inet');
      expect(d.tunnelType).toBeUndefined();
    }
    expect(dests.find((d) => d.address === '10.1.1.3')!.stats.conns).toBe(1n);
    const services = decodeWith('ipvs-old-kernel-get-service', ops.listServicesOp(FAM));
    expect(services[0]!.stats.conns).toBe(2n);
  });

  it('a newer kernel\'s attributes it does not know are kept aside, not fatal', () => {
    const dests = decodeWith('ipvs-future-kernel-get-dest', ops.listDestinationsOp(FAM, svc));
    expect(dests.map((d) => d.address).sort()).toEqual(['10.1.1.3', '192.168.1.1', 'fd00::5']);
  });

  it('time-outs, info and daemons', () => {
    expect(decodeWith('ipvs-get-timeouts', ops.getTimeoutsOp(FAM))).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    expect(decodeWith('ipvs-list-get-info', ops.getInfoOp(FAM))).toEqual({ version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 });
    expect(decodeWith('ipvs-list-daemons', ops.listDaemonsOp(FAM))).toEqual([
      { state: 'master', interface: 'lo', syncId: 5, syncMaxLen: 1000, group: '224.0.0.99', port: 9000, ttl: 3 },
      { state: 'backup', interface: 'lo', syncId: 6, syncMaxLen: 65487, group: 'ff02::99', port: 8848, ttl: 1 },
    ]);
  });
});
