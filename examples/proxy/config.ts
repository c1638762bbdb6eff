/**
 * The proxy's config file: desired services and their endpoints, in YAML or JSON (JSON is YAML
 * 1.2; both are read by the `yaml` package). Every mistake is reported with the file, the line and the path to the value:
 *
 *   proxy.yaml:14: services[0].ports[0].protocol: must be tcp, udp or sctp, got 'tpc'
 *
 * The shape, Kubernetes' Service and EndpointSlice boiled down to what a proxy needs:
 *
 * ```yaml
 * services:
 *   - name: default/web            # unique; used in logs
 *     ips: [10.96.0.10, fd00::10]  # virtual IPs, each bound on the dummy link
 *     ports:
 *       - { port: 80, protocol: tcp, targetPort: 8080 }   # protocol: tcp | udp | sctp
 *     scheduler: rr                # any IPVS scheduler; default rr (as kube-proxy)
 *     sessionAffinity: { timeoutSeconds: 600 }  # or ClientIP (3 hours) or None (default)
 *     endpoints:
 *       - { address: 10.244.1.5 }                    # ready, weight 1, port = targetPort
 *       - { address: 10.244.2.7, terminating: true } # drains: no new connections
 *       - { address: 10.244.3.9, ready: false, port: 9090, weight: 2, local: true }
 * ```
 */
import { isIP } from 'node:net';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';

export type Protocol = 'tcp' | 'udp' | 'sctp';

export interface PortConfig {
  /** Virtual port. */
  port: number;
  protocol: Protocol;
  /** Endpoint port, unless the endpoint names its own. Default: `port`. */
  targetPort: number;
  line: number;
}

export interface EndpointConfig {
  address: string;
  /** Overrides the port's targetPort (single-port services only). */
  port: number | undefined;
  /** Ready and not terminating: takes new connections. Otherwise it drains. */
  ready: boolean;
  terminating: boolean;
  /** IPVS weight while ready; default 1. */
  weight: number;
  /** Runs on this node: goes into the hairpin (loopback) ipset, as kube-proxy does. */
  local: boolean;
  line: number;
}

export interface ServiceConfig {
  name: string;
  ips: string[];
  /** Line of each of `ips`. */
  ipLines: number[];
  ports: PortConfig[];
  scheduler: string;
  /** ClientIP session affinity timeout in seconds (IPVS persistence); 0: none. */
  affinityTimeout: number;
  endpoints: EndpointConfig[];
  line: number;
}

export interface ProxyConfig {
  services: ServiceConfig[];
}

/** A config file that cannot be used, with the line at fault. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** kube-proxy's default ClientIP affinity timeout (Kubernetes' default, 3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT = 10800;

/**
 * Parses and checks a config file's text; `file` only names it in errors. The text is read by the
 * `yaml` package (YAML 1.2, so JSON too); its LineCounter turns every node's offset into the line
 * an error names.
 */
export function parseConfig(text: string, file: string): ProxyConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    // An error at the end of the text (an unclosed bracket or quote) belongs to the last line
    // that has something on it, not to the empty line after it.
    const lastChar = text.trimEnd().length - 1;
    throw new ConfigError(file, lines.linePos(Math.max(0, Math.min(error.pos[0], lastChar))).line, error.message);
  }
  return new Checker(file, doc, lines).config(doc.contents);
}

const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

/** A node of the parsed document, aliases resolved; null where the file has no value. */
type Node = YAMLMap | YAMLSeq | Scalar | null;

class Checker {
  constructor(
    private readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** The line a node starts on (1-based). */
  private line(n: Node | { range?: readonly number[] | null | undefined }): number {
    return this.lines.linePos(n?.range?.[0] ?? 0).line;
  }

  private fail(at: number, path: string, reason: string): never {
    throw new ConfigError(this.file, at, path ? `${path}: ${reason}` : reason);
  }

  /** Resolves an alias (`*name`) to the node it names. */
  private node(n: unknown): Node {
    const v = isAlias(n) ? n.resolve(this.doc) : n;
    return isMap(v) || isSeq(v) || isScalar(v) ? v : null;
  }

  private map(n: Node, path: string, allowed: readonly string[]): YAMLMap {
    if (!isMap(n)) this.fail(this.line(n), path, `must be a mapping (key: value), got ${describe(n)}`);
    for (const pair of n.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!allowed.includes(k)) {
        const near = allowed.find((a) => closeEnough(a, k));
        this.fail(this.line(this.node(pair.key)), path, `unknown key '${k}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${allowed.join(', ')}`);
      }
    }
    return n;
  }

  private seq(n: Node, path: string): YAMLSeq {
    if (!isSeq(n)) this.fail(this.line(n), path, `must be a list, got ${describe(n)}`);
    return n;
  }

  private items(n: YAMLSeq): Node[] {
    return n.items.map((x) => this.node(x));
  }

  /** The value under `key`, or undefined when it is missing or null. */
  private get(m: YAMLMap, key: string): NonNullable<Node> | undefined {
    const pair = m.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    const v = this.node(pair?.value);
    return v && !(isScalar(v) && v.value === null) ? v : undefined;
  }

  private required(m: YAMLMap, key: string, path: string): NonNullable<Node> {
    const n = this.get(m, key);
    if (!n) this.fail(this.line(m), path, `'${key}' is required`);
    return n;
  }

  private string(n: Node, path: string): string {
    if (!isScalar(n) || typeof n.value !== 'string' || n.value === '') this.fail(this.line(n), path, `must be a non-empty string, got ${describe(n)}`);
    return n.value;
  }

  private int(n: Node, path: string, min: number, max: number): number {
    const v = isScalar(n) ? n.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(this.line(n), path, `must be an integer ${min}-${max}, got ${describe(n)}`);
    return v;
  }

  private bool(n: Node | undefined, path: string, dflt: boolean): boolean {
    if (!n) return dflt;
    if (!isScalar(n) || typeof n.value !== 'boolean') this.fail(this.line(n), path, `must be true or false, got ${describe(n)}`);
    return n.value;
  }

  private ip(n: Node, path: string): string {
    const s = isScalar(n) ? String(n.value) : '';
    if (isIP(s) === 0) this.fail(this.line(n), path, `must be an IPv4 or IPv6 address, got ${describe(n)}`);
    return s.toLowerCase();
  }

  config(contents: unknown): ProxyConfig {
    const root = this.node(contents);
    if (root === null || (isScalar(root) && root.value === null)) this.fail(1, '', "the file is empty; it needs 'services:'");
    const m = this.map(root, '', ['services']);
    const list = this.get(m, 'services');
    const services = list ? this.items(this.seq(list, 'services')).map((s, i) => this.service(s, `services[${i}]`)) : [];
    // One IPVS service per virtual IP, port and protocol: two config entries must not claim the same.
    const names = new Map<string, ServiceConfig>();
    const keys = new Map<string, ServiceConfig>();
    services.forEach((s, i) => {
      const other = names.get(s.name);
      if (other) this.fail(s.line, `services[${i}].name`, `'${s.name}' is also the name of the service on line ${other.line}`);
      names.set(s.name, s);
      for (const ip of s.ips) {
        for (const p of s.ports) {
          const k = `${ip} ${p.port}/${p.protocol}`;
          const o = keys.get(k);
          if (o) this.fail(p.line, `services[${i}]`, `${ip}:${p.port}/${p.protocol} is also claimed by '${o.name}' (line ${o.line})`);
          keys.set(k, s);
        }
      }
    });
    return { services };
  }

  private service(n: Node, path: string): ServiceConfig {
    const m = this.map(n, path, ['name', 'ips', 'ports', 'scheduler', 'sessionAffinity', 'endpoints']);
    const name = this.string(this.required(m, 'name', path), `${path}.name`);
    const ipsNode = this.seq(this.required(m, 'ips', path), `${path}.ips`);
    const ipItems = this.items(ipsNode);
    if (ipItems.length === 0) this.fail(this.line(ipsNode), `${path}.ips`, 'needs at least one virtual IP');
    const ips = ipItems.map((x, i) => this.ip(x, `${path}.ips[${i}]`));
    const seen = new Set<string>();
    ipItems.forEach((x, i) => {
      if (seen.has(ips[i]!)) this.fail(this.line(x), `${path}.ips[${i}]`, `${ips[i]} is listed twice`);
      seen.add(ips[i]!);
    });
    const portsNode = this.seq(this.required(m, 'ports', path), `${path}.ports`);
    const portItems = this.items(portsNode);
    if (portItems.length === 0) this.fail(this.line(portsNode), `${path}.ports`, 'needs at least one port');
    const ports = portItems.map((x, i) => this.port(x, `${path}.ports[${i}]`));
    const schedNode = this.get(m, 'scheduler');
    const scheduler = schedNode ? this.string(schedNode, `${path}.scheduler`) : 'rr';
    if (!/^[a-z0-9_-]{1,15}$/.test(scheduler)) this.fail(this.line(schedNode ?? null), `${path}.scheduler`, `'${scheduler}' is not a scheduler name (rr, wrr, lc, wlc, sh, mh, ...)`);
    const affinityTimeout = this.affinity(this.get(m, 'sessionAffinity'), `${path}.sessionAffinity`);
    const epNode = this.get(m, 'endpoints');
    const endpoints = epNode ? this.items(this.seq(epNode, `${path}.endpoints`)).map((x, i) => this.endpoint(x, `${path}.endpoints[${i}]`, ports.length)) : [];
    const epSeen = new Map<string, EndpointConfig>();
    endpoints.forEach((e, i) => {
      const k = `${e.address} ${e.port ?? ''}`;
      const o = epSeen.get(k);
      if (o) this.fail(e.line, `${path}.endpoints[${i}]`, `${e.address} is listed twice (also line ${o.line})`);
      epSeen.set(k, e);
    });
    return { name, ips, ipLines: ipItems.map((x) => this.line(x)), ports, scheduler, affinityTimeout, endpoints, line: this.line(n) };
  }

  private port(n: Node, path: string): PortConfig {
    const m = this.map(n, path, ['name', 'port', 'protocol', 'targetPort']);
    const nameNode = this.get(m, 'name');
    if (nameNode) this.string(nameNode, `${path}.name`);
    const port = this.int(this.required(m, 'port', path), `${path}.port`, 1, 65535);
    const protoNode = this.get(m, 'protocol');
    let protocol: Protocol = 'tcp';
    if (protoNode) {
      const p = isScalar(protoNode) && typeof protoNode.value === 'string' ? protoNode.value.toLowerCase() : '';
      if (!PROTOCOLS.includes(p as Protocol)) this.fail(this.line(protoNode), `${path}.protocol`, `must be tcp, udp or sctp, got ${describe(protoNode)}`);
      protocol = p as Protocol;
    }
    const tp = this.get(m, 'targetPort');
    const targetPort = tp ? this.int(tp, `${path}.targetPort`, 1, 65535) : port;
    return { port, protocol, targetPort, line: this.line(n) };
  }

  private affinity(n: Node | undefined, path: string): number {
    if (!n) return 0;
    if (isScalar(n)) {
      if (n.value === 'None') return 0;
      if (n.value === 'ClientIP') return DEFAULT_AFFINITY_TIMEOUT;
      this.fail(this.line(n), path, `must be None, ClientIP or { timeoutSeconds: N }, got ${describe(n)}`);
    }
    const m = this.map(n, path, ['timeoutSeconds']);
    return this.int(this.required(m, 'timeoutSeconds', path), `${path}.timeoutSeconds`, 1, 86400);
  }

  private endpoint(n: Node, path: string, portCount: number): EndpointConfig {
    const m = this.map(n, path, ['address', 'port', 'ready', 'terminating', 'weight', 'local']);
    const address = this.ip(this.required(m, 'address', path), `${path}.address`);
    const pn = this.get(m, 'port');
    const port = pn ? this.int(pn, `${path}.port`, 1, 65535) : undefined;
    if (pn && portCount > 1) this.fail(this.line(pn), `${path}.port`, 'only a single-port service can give endpoints their own port; use each port\'s targetPort');
    const wn = this.get(m, 'weight');
    return {
      address,
      port,
      ready: this.bool(this.get(m, 'ready'), `${path}.ready`, true),
      terminating: this.bool(this.get(m, 'terminating'), `${path}.terminating`, false),
      weight: wn ? this.int(wn, `${path}.weight`, 1, 65535) : 1,
      local: this.bool(this.get(m, 'local'), `${path}.local`, false),
      line: this.line(n),
    };
  }
}

function describe(n: Node): string {
  if (isSeq(n)) return 'a list';
  if (isMap(n)) return 'a mapping';
  const v: unknown = n?.value ?? null;
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/** One edit apart, or the same ignoring case: worth a "did you mean". */
function closeEnough(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const rest = (x: string, skip: number) => x.slice(i + skip);
  return rest(a, 1) === rest(b, 1) || rest(a, 1) === rest(b, 0) || rest(a, 0) === rest(b, 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && rest(a, 2) === rest(b, 2));
}
