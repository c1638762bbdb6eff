// The table of bad inputs (issue 13, item 6): each row is one call the library must refuse with a
// TypeError or RangeError before anything reaches the kernel, the class and the words it must give,
// and what check it targets (each row fails, with no error or another one, when that check is
// removed). test/unit/bad-input.test.ts runs them with a handle whose namespace does not exist
// (nothing can reach any kernel); test/kernel/bad-input.test.ts runs them in a namespace holding
// a service, a set, a dummy link and an address, and checks the kernel state did not change.
import type { Handle } from '../../src/index';
import { checkIpvsChange, openHandle } from '../../src/index';

export interface BadInputRow {
  /** The check the row targets. */
  name: string;
  /** The call, sync or async. */
  call: (h: Handle) => unknown;
  /** The error class it must throw or reject with. */
  error: typeof TypeError | typeof RangeError;
  /** The words of the message. */
  message: RegExp;
  /** The message must be at most this long (inputs are quoted to 100 characters). */
  maxLength?: number;
}

const svc = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
const dst = { address: '10.0.1.1', port: 8080 } as const;
const long = (n: number, c = 'x') => c.repeat(n);
const any = (v: unknown) => v as never;

export const ROWS: BadInputRow[] = [
  // ---- services: unknown keys, with the close name
  { name: 'service option misspelled (the issue\'s example)', call: (h) => h.ipvs.addService(any({ ...svc, shceduler: 'rr' })), error: TypeError, message: /ipvs\.addService: unknown service option 'shceduler': did you mean scheduler\?/ },
  { name: 'persistent misspelled', call: (h) => h.ipvs.addService(any({ ...svc, persistant: 60 })), error: TypeError, message: /unknown service option 'persistant': did you mean persistent\?/ },
  { name: 'onePacket in another case', call: (h) => h.ipvs.editService(any({ ...svc, onepacket: true })), error: TypeError, message: /ipvs\.editService: unknown service option 'onepacket': did you mean onePacket\?/ },
  { name: 'schedFlags misspelled on replaceService', call: (h) => h.ipvs.replaceService(any({ ...svc, schedflags: ['flag-1'] })), error: TypeError, message: /unknown service option 'schedflags': did you mean schedFlags\?/ },
  { name: 'unknown key far from any: the known names', call: (h) => h.ipvs.addService(any({ ...svc, zzzz: 1 })), error: TypeError, message: /unknown service option 'zzzz' \(known: protocol, address, port, fwmark, family, scheduler/ },
  { name: 'output-only stats on addService', call: (h) => h.ipvs.addService(any({ ...svc, stats: {} })), error: TypeError, message: /ipvs\.addService: 'stats' is reported by the kernel/ },
  { name: 'output-only flags on editService', call: (h) => h.ipvs.editService(any({ ...svc, flags: 1 })), error: TypeError, message: /'flags' is reported by the kernel/ },
  { name: 'destinations on addService (a desired-state field)', call: (h) => h.ipvs.addService(any({ ...svc, destinations: [] })), error: TypeError, message: /'destinations' is reported by the kernel/ },
  { name: 'service key field misspelled on deleteService', call: (h) => h.ipvs.deleteService(any({ ...svc, prot: 'tcp' })), error: TypeError, message: /ipvs\.deleteService: unknown service field 'prot'/ },
  { name: 'address misspelled on getService', call: (h) => h.ipvs.getService(any({ protocol: 'tcp', adress: '10.0.0.1', port: 80 })), error: TypeError, message: /ipvs\.getService: unknown service field 'adress': did you mean address\?/ },
  { name: 'key field misspelled on zero', call: (h) => h.ipvs.zero(any({ fwmark: 7, famly: 'inet' })), error: TypeError, message: /ipvs\.zero: unknown service field 'famly': did you mean family\?/ },
  { name: 'service of a destination call misspelled', call: (h) => h.ipvs.addDestination(any({ ...svc, protocl: 'tcp' }), dst), error: TypeError, message: /ipvs\.addDestination: unknown service field 'protocl': did you mean protocol\?/ },
  { name: 'service of listDestinations misspelled', call: (h) => h.ipvs.listDestinations(any({ ...svc, portt: 80 })), error: TypeError, message: /ipvs\.listDestinations: unknown service field 'portt': did you mean port\?/ },
  // ---- services: contradictory keys
  { name: 'fwmark with an address (the address was dropped)', call: (h) => h.ipvs.addService(any({ fwmark: 5, address: '10.0.0.1', scheduler: 'rr' })), error: TypeError, message: /give fwmark or address, not both/ },
  { name: 'fwmark with a protocol', call: (h) => h.ipvs.addService(any({ fwmark: 5, protocol: 'tcp' })), error: TypeError, message: /give fwmark or protocol, not both/ },
  { name: 'fwmark with a port, on a key', call: (h) => h.ipvs.deleteService(any({ fwmark: 5, port: 80 })), error: TypeError, message: /ipvs\.deleteService: give fwmark or port, not both/ },
  { name: 'family contradicting the address', call: (h) => h.ipvs.addService(any({ ...svc, family: 'inet6' })), error: TypeError, message: /family 'inet6' contradicts address '10\.0\.0\.1' \(inet\)/ },
  { name: 'family contradicting an IPv6 address', call: (h) => h.ipvs.deleteService(any({ protocol: 'udp', address: 'fd00::1', port: 53, family: 'inet' })), error: TypeError, message: /family 'inet' contradicts address 'fd00::1' \(inet6\)/ },
  // ---- services: names that are an Object.prototype member
  { name: 'protocol toString (a prototype member of the table)', call: (h) => h.ipvs.addService(any({ ...svc, protocol: 'toString' })), error: TypeError, message: /protocol must be 'tcp', 'udp' or 'sctp', got 'toString'/ },
  { name: 'scheduler flag constructor', call: (h) => h.ipvs.addService(any({ ...svc, scheduler: 'rr', schedFlags: ['constructor'] })), error: TypeError, message: /unknown scheduler flag 'constructor'/ },
  { name: 'a service key that is an array', call: (h) => h.ipvs.deleteService(any([])), error: TypeError, message: /ipvs\.deleteService: a service key must be an object, got \[\]/ },
  // ---- quoting: at most 100 characters of an input
  { name: 'a 10,000-character address is quoted cut', call: (h) => h.ipvs.addService(any({ ...svc, address: long(10_000, '1') })), error: TypeError, message: /'1{99}…' is not an IPv4 or IPv6 address/, maxLength: 200 },
  { name: 'a 500-character key is quoted cut', call: (h) => h.ipvs.addService(any({ ...svc, [long(500)]: 1 })), error: TypeError, message: /unknown service option 'x{99}…'/, maxLength: 400 },
  { name: 'a 300-character scheduler is quoted cut', call: (h) => h.ipvs.addService(any({ ...svc, scheduler: long(300, 'a') })), error: TypeError, message: /got 'a{99}…'$/, maxLength: 250 },
  { name: 'a 1,000-character protocol is quoted cut', call: (h) => h.ipvs.addService(any({ ...svc, protocol: long(1000, 'p') })), error: TypeError, message: /got 'p{99}…'$/, maxLength: 200 },
  { name: 'a 200-character set name is quoted cut', call: (h) => h.batch().ipset.destroy(long(200, 'n')), error: TypeError, message: /got 'n{99}…'$/, maxLength: 200 },
  // ---- destinations
  { name: 'weight misspelled', call: (h) => h.ipvs.addDestination(svc, any({ ...dst, wieght: 5 })), error: TypeError, message: /ipvs\.addDestination: unknown destination option 'wieght': did you mean weight\?/ },
  { name: 'forwarding misspelled on editDestination', call: (h) => h.ipvs.editDestination(svc, any({ ...dst, fowarding: 'masq' })), error: TypeError, message: /unknown destination option 'fowarding': did you mean forwarding\?/ },
  { name: 'upperThreshold in another case on replaceDestination', call: (h) => h.ipvs.replaceDestination(svc, any({ ...dst, upperthreshold: 5 })), error: TypeError, message: /unknown destination option 'upperthreshold': did you mean upperThreshold\?/ },
  { name: 'output-only activeConns on addDestination', call: (h) => h.ipvs.addDestination(svc, any({ ...dst, activeConns: 0 })), error: TypeError, message: /'activeConns' is reported by the kernel/ },
  { name: 'output-only stats on editDestination', call: (h) => h.ipvs.editDestination(svc, any({ ...dst, stats: {} })), error: TypeError, message: /'stats' is reported by the kernel/ },
  { name: 'destination family contradicting its address', call: (h) => h.ipvs.addDestination(svc, any({ ...dst, family: 'inet6' })), error: TypeError, message: /destination family 'inet6' contradicts address '10\.0\.1\.1'/ },
  { name: 'destination key field misspelled on deleteDestination', call: (h) => h.ipvs.deleteDestination(svc, any({ ...dst, adress: 'x' })), error: TypeError, message: /ipvs\.deleteDestination: unknown destination field 'adress': did you mean address\?/ },
  { name: 'forwarding toString', call: (h) => h.ipvs.addDestination(svc, any({ ...dst, forwarding: 'toString' })), error: TypeError, message: /forwarding must be one of masq, route, tunnel, local, bypass, got 'toString'/ },
  { name: 'tunnelType valueOf', call: (h) => h.ipvs.addDestination(svc, any({ ...dst, forwarding: 'tunnel', tunnelType: 'valueOf' })), error: TypeError, message: /tunnelType must be ipip, gue or gre, got 'valueOf'/ },
  { name: 'tunnelChecksum constructor', call: (h) => h.ipvs.addDestination(svc, any({ ...dst, forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'constructor' })), error: TypeError, message: /tunnelChecksum must be nocsum, csum or remcsum, got 'constructor'/ },
  // ---- the batch: its IPVS fast path, its settings cache, commit options
  { name: 'batch fast path: destination option misspelled', call: (h) => h.batch().ipvs.addDestination(svc, any({ ...dst, forwarding: 'masq', wieght: 2 })), error: TypeError, message: /ipvs\.addDestination: unknown destination option 'wieght': did you mean weight\?/ },
  { name: 'batch fast path: output-only field on a destination', call: (h) => h.batch().ipvs.editDestination(svc, any({ ...dst, inactiveConns: 0 })), error: TypeError, message: /'inactiveConns' is reported by the kernel/ },
  { name: 'batch fast path: delete with a misspelled field', call: (h) => h.batch().ipvs.deleteDestination(svc, any({ ...dst, prot: 80 })), error: TypeError, message: /ipvs\.deleteDestination: unknown destination field 'prot'/ },
  { name: 'batch fast path: destination family contradicting', call: (h) => h.batch().ipvs.addDestination(svc, any({ ...dst, family: 'inet6' })), error: TypeError, message: /destination family 'inet6' contradicts/ },
  { name: 'batch fast path: service key family contradicting', call: (h) => h.batch().ipvs.addDestination(any({ ...svc, family: 'inet6' }), dst), error: TypeError, message: /family 'inet6' contradicts address '10\.0\.0\.1'/ },
  { name: 'batch fast path: service key misspelled', call: (h) => h.batch().ipvs.deleteDestination(any({ ...svc, adress: '10.0.0.1' }), dst), error: TypeError, message: /unknown service field 'adress': did you mean address\?/ },
  {
    name: 'batch settings cache: output-only stats after the same settings were seen',
    call: (h) => {
      const b = h.batch();
      b.ipvs.addService({ ...svc, scheduler: 'rr' });
      b.ipvs.addService(any({ protocol: 'tcp', address: '10.0.0.2', port: 80, scheduler: 'rr', stats: {} }));
    },
    error: TypeError, message: /'stats' is reported by the kernel/,
  },
  { name: 'batch addService misspelled', call: (h) => h.batch().ipvs.addService(any({ ...svc, shceduler: 'rr' })), error: TypeError, message: /did you mean scheduler\?/ },
  { name: 'batch commit option misspelled', call: (h) => h.batch().commit(any({ onerror: 'undo' })), error: TypeError, message: /batch\.commit: unknown option 'onerror': did you mean onError\?/ },
  { name: 'batch commit option unknown', call: (h) => h.batch().commit(any({ maxChunk: 1 })), error: TypeError, message: /batch\.commit: unknown option 'maxChunk'/ },
  // ---- apply and its changes
  { name: 'apply: a field the change kind does not have', call: (h) => h.ipvs.apply(any([{ kind: 'deleteService', service: svc, destination: dst }])), error: TypeError, message: /change #0: ipvs\.apply: deleteService: unknown change field 'destination'/ },
  { name: 'apply: a change field misspelled', call: (h) => h.ipvs.apply(any([{ kind: 'addService', servce: svc }])), error: TypeError, message: /unknown change field 'servce': did you mean service\?/ },
  { name: 'apply option misspelled', call: (h) => h.ipvs.apply([], any({ stopOnErrors: true })), error: TypeError, message: /ipvs\.apply: unknown option 'stopOnErrors': did you mean stopOnError\?/ },
  { name: 'checkIpvsChange: a destination option misspelled', call: () => checkIpvsChange(any({ kind: 'addDestination', service: svc, destination: { ...dst, weigth: 1 } })), error: TypeError, message: /unknown destination option 'weigth': did you mean weight\?/ },
  // ---- daemons, time-outs, sysctls, watchStats
  { name: 'daemon option misspelled', call: (h) => h.ipvs.startDaemon(any({ state: 'master', interface: 'lo', syncid: 1 })), error: TypeError, message: /ipvs\.startDaemon: unknown daemon option 'syncid': did you mean syncId\?/ },
  { name: 'daemon state toString', call: (h) => h.ipvs.startDaemon(any({ state: 'toString', interface: 'lo' })), error: TypeError, message: /state must be 'master' or 'backup', got 'toString'/ },
  { name: 'stopDaemon constructor', call: (h) => h.ipvs.stopDaemon(any('constructor')), error: TypeError, message: /ipvs\.stopDaemon: state must be 'master' or 'backup', got 'constructor'/ },
  { name: 'time-out misspelled', call: (h) => h.ipvs.setTimeouts(any({ tcp: 900, tcpfin: 10 })), error: TypeError, message: /ipvs\.setTimeouts: unknown time-out 'tcpfin': did you mean tcpFin\?/ },
  { name: 'sysctl misspelled', call: (h) => h.ipvs.setSysctls(any({ conn_reuse_mod: 0 })), error: TypeError, message: /unknown IPVS sysctl 'conn_reuse_mod': did you mean conn_reuse_mode\?/ },
  { name: 'sysctl name of 300 characters is quoted cut', call: (h) => h.ipvs.setSysctls(any({ [long(300, 's')]: 0 })), error: TypeError, message: /unknown IPVS sysctl 's{99}…'/, maxLength: 250 },
  { name: 'watchStats option misspelled', call: (h) => h.ipvs.watchStats(any({ interval: 100 })), error: TypeError, message: /ipvs\.watchStats: unknown option 'interval': did you mean intervalMs\?/ },
  // ---- handle, snapshot, drain
  { name: 'handle option misspelled', call: () => openHandle(any({ netsn: '/run/netns/x' })), error: TypeError, message: /openHandle: unknown option 'netsn': did you mean netns\?/ },
  { name: 'handle timeoutMs as text', call: () => openHandle(any({ timeoutMs: '100' })), error: RangeError, message: /openHandle: timeoutMs must be a number of milliseconds/ },
  { name: 'handle rcvbuf negative', call: () => openHandle({ rcvbuf: -1 }), error: RangeError, message: /openHandle: rcvbuf must be a number of bytes/ },
  { name: 'snapshot read option misspelled', call: (h) => h.snapshot(any({ ipvs: { stat: true } })), error: TypeError, message: /handle\.snapshot: unknown option 'stat': did you mean stats\?/ },
  { name: 'snapshot option misspelled', call: (h) => h.snapshot(any({ set: true })), error: TypeError, message: /handle\.snapshot: unknown option 'set': did you mean sets\?/ },
  { name: 'drain option misspelled', call: (h) => h.drainDestinations(svc, [dst], any({ timeout: 5 })), error: TypeError, message: /handle\.drainDestinations: unknown option 'timeout': did you mean timeoutMs\?/ },
  // ---- reconcile's desired state and options
  { name: 'desired service: destinations misspelled (would leave it with none)', call: (h) => h.reconcile(any({ ipvs: [{ ...svc, destinatons: [dst] }] })), error: TypeError, message: /reconcile: ipvs\[0\]: unknown service option 'destinatons': did you mean destinations\?/ },
  { name: 'desired service option misspelled', call: (h) => h.reconcile(any({ ipvs: [{ ...svc, shceduler: 'rr' }] })), error: TypeError, message: /did you mean scheduler\?/ },
  { name: 'desired destination option misspelled', call: (h) => h.reconcile(any({ ipvs: [{ ...svc, destinations: [{ ...dst, wieght: 1 }] }] })), error: TypeError, message: /reconcile: ipvs\[0\]\.destinations\[0\]: unknown destination option 'wieght'/ },
  { name: 'desired service with fwmark and address', call: (h) => h.reconcile(any({ ipvs: [{ fwmark: 5, address: '10.0.0.1' }] })), error: TypeError, message: /reconcile: ipvs\[0\]: give fwmark or address, not both/ },
  { name: 'desired state part unknown', call: (h) => h.reconcile(any({ servics: [] })), error: TypeError, message: /reconcile: unknown desired state part 'servics'/ },
  { name: 'reconcile option misspelled', call: (h) => h.reconcile({ ipvs: [] }, any({ dryrun: true })), error: TypeError, message: /reconcile: unknown option 'dryrun': did you mean dryRun\?/ },
  { name: 'reconcile scope misspelled', call: (h) => h.reconcile({ ipvs: [] }, any({ scope: { service: {} } })), error: TypeError, message: /unknown scope 'service': did you mean services\?/ },
  { name: 'reconcile service scope misspelled', call: (h) => h.reconcile({ ipvs: [] }, any({ scope: { services: { fwmark: [1] } } })), error: TypeError, message: /unknown service scope 'fwmark': did you mean fwmarks\?/ },
  { name: 'desired set field misspelled', call: (h) => h.reconcile(any({ sets: [{ name: 's', type: 'hash:ip', entries: [], option: {} }] })), error: TypeError, message: /reconcile: sets\[0\]: unknown desired set field 'option': did you mean options\?/ },
  { name: 'desired set create option misspelled', call: (h) => h.reconcile(any({ sets: [{ name: 's', type: 'hash:ip', entries: [], options: { maxelems: 5 } }] })), error: TypeError, message: /unknown create option 'maxelems': did you mean maxelem\?/ },
  { name: 'desired set entry field misspelled', call: (h) => h.reconcile(any({ sets: [{ name: 's', type: 'hash:ip', entries: [{ ip: '10.0.0.1', timout: 5 }] }] })), error: TypeError, message: /sets\[0\]\.entries\[0\]: unknown entry field 'timout': did you mean timeout\?/ },
  { name: 'desired link field misspelled', call: (h) => h.reconcile(any({ addresses: [{ link: 'd0', address: [] }] })), error: TypeError, message: /reconcile: addresses\[0\]: unknown desired link field 'address': did you mean addresses\?/ },
  // ---- ipset: create options
  { name: 'create option misspelled', call: (h) => h.ipset.create('s2', 'hash:ip', any({ maxelems: 10 })), error: TypeError, message: /ipset\.create: unknown create option 'maxelems': did you mean maxelem\?/ },
  { name: 'create exist misspelled', call: (h) => h.ipset.create('s2', 'hash:ip', any({ exists: true })), error: TypeError, message: /did you mean exist\?/ },
  { name: 'create flag not a boolean (was taken as true)', call: (h) => h.batch().ipset.create('s2', 'hash:ip', any({ counters: 'no' })), error: TypeError, message: /ipset\.create: counters must be a boolean, got 'no'/ },
  { name: 'bitmap:port with a family', call: (h) => h.batch().ipset.create('s2', 'bitmap:port', any({ range: '1-100', family: 'inet' })), error: TypeError, message: /bitmap:port has no family/ },
  { name: 'bitmap:ip with family inet6 (was made IPv4)', call: (h) => h.batch().ipset.create('s2', 'bitmap:ip', { range: '10.0.0.0/24', family: 'inet6' }), error: TypeError, message: /bitmap:ip holds IPv4 addresses only/ },
  { name: 'hash option on a bitmap', call: (h) => h.batch().ipset.create('s2', 'bitmap:ip', { range: '10.0.0.0/24', hashsize: 64 }), error: TypeError, message: /hashsize is an option of hash types, not of bitmap:ip/ },
  { name: 'list:set size on a hash', call: (h) => h.batch().ipset.create('s2', 'hash:ip', { size: 8 }), error: TypeError, message: /size is an option of list:set, not of hash:ip/ },
  { name: 'markmask on another type', call: (h) => h.batch().ipset.create('s2', 'hash:ip', { markmask: 1 }), error: TypeError, message: /markmask is an option of hash:ip,mark, not of hash:ip/ },
  // ---- ipset: entries (the batch checks them when queued)
  { name: 'entry field misspelled', call: (h) => h.batch().ipset.add('s', any([{ ip: '10.0.0.1', timout: 5 }])), error: TypeError, message: /ipset\.add: unknown entry field 'timout': did you mean timeout\?/ },
  { name: 'entry with a network and a range (the kernel reads only the range)', call: (h) => h.batch().ipset.add('s', { ip: '10.0.0.0', cidr: 24, ipTo: '10.0.0.9' }), error: TypeError, message: /give cidr or ipTo, not both/ },
  { name: 'entry with a second network and range', call: (h) => h.batch().ipset.add('s', { ip: '10.0.0.1', port: 80, ip2: '10.1.0.0', cidr2: 24, ip2To: '10.1.0.9' }), error: TypeError, message: /give cidr2 or ip2To, not both/ },
  { name: 'entry portTo without port (was dropped)', call: (h) => h.batch().ipset.add('s', { ip: '10.0.0.1', portTo: 90 }), error: TypeError, message: /portTo needs port/ },
  { name: 'entry cidr2 without ip2 (was dropped)', call: (h) => h.batch().ipset.add('s', { ip: '10.0.0.1', port: 80, cidr2: 8 }), error: TypeError, message: /cidr2 needs ip2/ },
  { name: 'entry ip2To without ip2 (was dropped)', call: (h) => h.batch().ipset.del('s', { ip: '10.0.0.1', port: 80, ip2To: '10.0.0.9' }), error: TypeError, message: /ipset\.del: ip2To needs ip2/ },
  { name: 'entry physdev without iface (was dropped)', call: (h) => h.batch().ipset.add('s', { ip: '10.0.0.0', cidr: 24, physdev: true }), error: TypeError, message: /physdev needs iface/ },
  { name: 'entry before without a member name (was dropped)', call: (h) => h.batch().ipset.add('s', { before: 'x' }), error: TypeError, message: /before needs name/ },
  { name: 'entry nomatch as text', call: (h) => h.batch().ipset.add('s', any({ ip: '10.0.0.0', cidr: 24, nomatch: 'yes' })), error: TypeError, message: /nomatch must be a boolean, got 'yes'/ },
  { name: 'batch ipset option misspelled', call: (h) => h.batch().ipset.add('s', '10.0.0.1', any({ exists: true })), error: TypeError, message: /ipset\.add: unknown option 'exists': did you mean exist\?/ },
  { name: 'ipset.add option misspelled', call: (h) => h.ipset.add('s', '10.0.0.1', any({ maxMessageByte: 1000 })), error: TypeError, message: /ipset\.add: unknown option 'maxMessageByte': did you mean maxMessageBytes\?/ },
  { name: 'ipset.listAll option misspelled', call: (h) => h.ipset.listAll(any({ headeronly: true })), error: TypeError, message: /ipset\.listAll: unknown option 'headeronly': did you mean headerOnly\?/ },
  { name: 'ipset.restore option misspelled', call: (h) => h.ipset.restore('', any({ exists: true })), error: TypeError, message: /ipset\.restore: unknown option 'exists': did you mean exist\?/ },
  // ---- links and addresses
  { name: 'dummy link option misspelled', call: (h) => h.links.addDummy('d9', any({ upp: true })), error: TypeError, message: /links\.addDummy: unknown option 'upp': did you mean up\?/ },
  { name: 'dummy link up as text', call: (h) => h.links.addDummy('d9', any({ up: 'yes' })), error: TypeError, message: /links\.addDummy: up must be a boolean, got 'yes'/ },
  { name: 'link setting misspelled', call: (h) => h.links.set('lo', any({ mut: 1500 })), error: TypeError, message: /links\.set: unknown link setting 'mut': did you mean mtu\?/ },
  { name: 'batch link setting misspelled', call: (h) => h.batch().links.set('lo', any({ upp: false })), error: TypeError, message: /links\.set: unknown link setting 'upp': did you mean up\?/ },
  { name: 'ensureDummy takes no address', call: (h) => h.links.ensureDummy('d9', any({ address: '02:00:00:00:00:01' })), error: TypeError, message: /links\.ensureDummy: unknown option 'address' \(known: up, mtu\)/ },
  { name: 'address option misspelled', call: (h) => h.addresses.add('lo', '10.9.0.1/32', any({ lable: 'lo:1' })), error: TypeError, message: /addresses\.add: unknown option 'lable': did you mean label\?/ },
  { name: 'address flag as text (was taken as true)', call: (h) => h.addresses.add('lo', 'fd00::9/128', any({ nodad: 'false' })), error: TypeError, message: /nodad must be a boolean, got 'false'/ },
  { name: 'batch address option misspelled', call: (h) => h.batch().addresses.add('lo', '10.9.0.1/32', any({ scpe: 'host' })), error: TypeError, message: /unknown option 'scpe': did you mean scope\?/ },
  { name: 'address list option misspelled', call: (h) => h.addresses.list(undefined, any({ famliy: 'inet' })), error: TypeError, message: /addresses\.list: unknown option 'famliy': did you mean family\?/ },
  { name: 'address list family empty (was ignored)', call: (h) => h.addresses.list(undefined, any({ family: '' })), error: TypeError, message: /family must be 'inet' or 'inet6', got ''/ },
  { name: 'address events option misspelled', call: (h) => h.addresses.events(any({ famly: 'inet' })), error: TypeError, message: /addresses\.events: unknown option 'famly': did you mean family\?/ },
];
