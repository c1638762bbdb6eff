/**
 * IPVS metrics in the Prometheus text format (version 0.0.4), under node_exporter's ipvs
 * collector names and labels, so dashboards and alerts written for node_exporter read them
 * unchanged: the namespace's totals (node_ipvs_connections_total, ..._incoming_packets_total,
 * ..._outgoing_packets_total, ..._incoming_bytes_total, ..._outgoing_bytes_total) and per
 * destination node_ipvs_backend_connections_active, ..._inactive and node_ipvs_backend_weight
 * labelled local_address, local_port, remote_address, remote_port, proto and local_mark. Labels
 * follow node_exporter's reading of /proc/net/ip_vs: proto `TCP`, `UDP`, `SCTP`, or `FWM` for a
 * fwmark service, whose local_mark is the mark as that file prints it (eight hex digits) and whose
 * local_address is empty, as is local_mark of every other service.
 *
 * Beyond node_exporter: per-service counters, ipvs_service_connections_total and the packet and
 * byte counters likewise, labelled local_address, local_port, proto and local_mark.
 */
import type { IpvsStats, IpvsServiceEntry } from '../index';

type Labels = [string, string][];

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  return labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
}

class Family {
  readonly samples: string[] = [];
  constructor(readonly name: string, readonly type: 'counter' | 'gauge', readonly help: string) {}
  add(labels: Labels, value: bigint | number): void {
    this.samples.push(`${this.name}${labelText(labels)} ${value}`);
  }
  text(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n${this.samples.map((s) => `${s}\n`).join('')}`;
  }
}

/** node_exporter's labels of a service: local_address, local_port, proto, local_mark. */
function serviceLabels(s: IpvsServiceEntry): Labels {
  if ('fwmark' in s) {
    return [['local_address', ''], ['local_port', '0'], ['proto', 'FWM'], ['local_mark', s.fwmark.toString(16).toUpperCase().padStart(8, '0')]];
  }
  return [['local_address', s.address], ['local_port', String(s.port)], ['proto', s.protocol.toUpperCase()], ['local_mark', '']];
}

/** The exposition text of `totals` (the namespace's, {@link Ipvs.getStats}) and `services`. */
export function formatIpvsMetrics(totals: IpvsStats, services: readonly IpvsServiceEntry[]): string {
  const total = (name: string, help: string, v: bigint) => {
    const f = new Family(name, 'counter', help);
    f.add([], v);
    return f;
  };
  const families = [
    total('node_ipvs_connections_total', 'Connections IPVS scheduled in this namespace.', totals.conns),
    total('node_ipvs_incoming_packets_total', 'Packets IPVS received from clients.', totals.inpkts),
    total('node_ipvs_outgoing_packets_total', 'Packets IPVS sent back to clients (NAT only).', totals.outpkts),
    total('node_ipvs_incoming_bytes_total', 'Bytes IPVS received from clients.', totals.inbytes),
    total('node_ipvs_outgoing_bytes_total', 'Bytes IPVS sent back to clients (NAT only).', totals.outbytes),
  ];
  const active = new Family('node_ipvs_backend_connections_active', 'gauge', 'Active connections (ESTABLISHED for TCP) by service and real server.');
  const inactive = new Family('node_ipvs_backend_connections_inactive', 'gauge', 'Connections in any other state by service and real server.');
  const weight = new Family('node_ipvs_backend_weight', 'gauge', 'Scheduling weight by service and real server.');
  const per = {
    conns: new Family('ipvs_service_connections_total', 'counter', 'Connections scheduled by the service.'),
    inpkts: new Family('ipvs_service_incoming_packets_total', 'counter', 'Packets the service received from clients.'),
    outpkts: new Family('ipvs_service_outgoing_packets_total', 'counter', 'Packets the service sent back to clients (NAT only).'),
    inbytes: new Family('ipvs_service_incoming_bytes_total', 'counter', 'Bytes the service received from clients.'),
    outbytes: new Family('ipvs_service_outgoing_bytes_total', 'counter', 'Bytes the service sent back to clients (NAT only).'),
  };
  for (const s of services) {
    const [la, lp, proto, mark] = serviceLabels(s);
    for (const d of s.destinations) {
      const labels: Labels = [la, lp, ['remote_address', d.address], ['remote_port', String(d.port)], proto, mark];
      active.add(labels, d.activeConns);
      inactive.add(labels, d.inactiveConns);
      weight.add(labels, d.weight);
    }
    for (const k of ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'] as const) per[k].add([la, lp, proto, mark], s.stats[k]);
  }
  return [...families, active, inactive, weight, ...Object.values(per)].map((f) => f.text()).join('');
}
