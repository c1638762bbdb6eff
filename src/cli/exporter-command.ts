/**
 * `ipvs exporter`: serves the namespace's IPVS metrics over HTTP for Prometheus to scrape, in
 * node_exporter's names (see prometheus-format.ts). Each scrape reads the state afresh (one dump
 * per service, and /proc/net/ip_vs_stats); nothing is cached. Listens on loopback unless told
 * otherwise.
 */
import { createServer, type Server } from 'node:http';
import { openHandle, type Handle } from '../index';
import { UsageError, type Command } from './types';
import { formatIpvsMetrics } from './prometheus-format';

/** Where the exporter listens by default: loopback only. */
export const DEFAULT_LISTEN = '127.0.0.1:9863';

/** `HOST:PORT` or `[V6]:PORT` to its parts. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`exporter: --listen takes HOST:PORT or [IPV6]:PORT, got '${text.slice(0, 60)}'`);
  return { host: m[1] ?? m[2]!, port };
}

/** A running exporter: the server, the address it bound, and how to stop it. */
export interface Exporter {
  server: Server;
  /** The port bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** The metrics text of the handle's namespace at this moment. */
export async function scrape(h: Handle): Promise<string> {
  const [totals, all] = [await h.ipvs.getStats(), await h.ipvs.listAll()];
  return formatIpvsMetrics(totals, all);
}

/** Starts serving `/metrics` for the namespace `netns` (null: this process's). */
export async function startExporter(netns: string | undefined, host: string, port: number): Promise<Exporter> {
  const h = openHandle(netns === undefined ? {} : { netns });
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><a href="/metrics">IPVS metrics</a></body></html>\n');
      return;
    }
    if (url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    scrape(h).then(
      (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      h.close();
    }),
  };
}

export const exporterCommands: Record<string, Command> = {
  exporter: {
    summary: 'serve IPVS metrics for Prometheus in node_exporter\'s names (--listen HOST:PORT, default 127.0.0.1:9863)',
    async run(args, global, io) {
      let listen = DEFAULT_LISTEN;
      for (let i = 0; i < args.length; i++) {
        const a = args[i]!;
        if (a === '--listen' || a === '-l') listen = args[++i] ?? '';
        else if (a.startsWith('--listen=')) listen = a.slice('--listen='.length);
        else throw new UsageError(`exporter: unexpected argument ${a.slice(0, 60)}`);
      }
      const { host, port } = parseListen(listen);
      const exporter = await startExporter(global.netns, host, port);
      io.err(`ipvs exporter: serving http://${host.includes(':') ? `[${host}]` : host}:${exporter.port}/metrics\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await exporter.close();
      return 0;
    },
  },
};
