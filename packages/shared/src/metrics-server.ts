/**
 * The metrics port of a process (METRICS_PORT on METRICS_HOST): `/metrics` from the process's own
 * prom-client registry, and optional `/healthz` and `/readyz` checks. It is a separate listener so
 * the public API port never serves metrics; plain node:http, so it answers even while the API's
 * Fastify instance is closing.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A check answers 200 when it resolves true, 503 when it resolves false or throws. */
export type HealthCheck = () => Promise<boolean>;

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port (tests); a process treats METRICS_PORT=0 as "no server" before calling this. */
  port: number;
  registry: Registry;
  healthz?: HealthCheck;
  readyz?: HealthCheck;
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const checks: Record<string, HealthCheck | undefined> = { '/healthz': opts.healthz, '/readyz': opts.readyz };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`),
      );
      return;
    }
    const check = checks[path];
    if (!check) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    void check()
      .catch(() => false)
      .then((ok) => {
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
      });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
