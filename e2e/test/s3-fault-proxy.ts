/**
 * A loopback proxy in front of the test S3 server that fails the next object uploads (PUTs) the
 * way S3 does under load: a connection reset, or 503 SlowDown. Everything else passes through,
 * unless the proxy is set `down` (every connection is closed at once: S3 unreachable) or `silent`
 * for some methods (the request is read and never answered: a hung S3).
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type S3Fault = 'reset' | 'slow_down';
export type S3Outage = { mode: 'up' } | { mode: 'down' } | { mode: 'silent'; methods: string[] };

export interface S3FaultProxy {
  endpoint: string;
  /** Uploads seen so far, failed ones included. */
  puts: number;
  failNextPuts(...faults: S3Fault[]): void;
  /** Connections closed while `down`, and requests left unanswered while `silent`. */
  refused: number;
  set(outage: S3Outage): void;
  close(): Promise<void>;
}

const SLOW_DOWN = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

export async function startS3FaultProxy(target: string): Promise<S3FaultProxy> {
  const upstream = new URL(target);
  const queued: S3Fault[] = [];
  const state = { puts: 0, refused: 0, outage: { mode: 'up' } as S3Outage };
  const hung = new Set<IncomingMessage>();

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const server = createServer((req, res) => {
    const { outage } = state;
    if (outage.mode === 'silent' && outage.methods.includes(req.method ?? '')) {
      state.refused++;
      hung.add(req);
      req.on('close', () => hung.delete(req));
      req.resume();
      return;
    }
    if (req.method !== 'PUT') return forward(req, res);
    state.puts++;
    const fault = queued.shift();
    if (fault === 'reset') return req.socket.destroy();
    if (fault === 'slow_down') {
      req.resume();
      req.on('end', () => res.writeHead(503, { 'content-type': 'application/xml' }).end(SLOW_DOWN));
      return;
    }
    forward(req, res);
  });
  server.on('connection', (socket) => {
    if (state.outage.mode !== 'down') return;
    state.refused++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    get puts() {
      return state.puts;
    },
    failNextPuts: (...faults) => void queued.push(...faults),
    get refused() {
      return state.refused;
    },
    set: (outage) => {
      state.outage = outage;
      // The outage is over: requests left hanging by it are dropped, as a restarted S3 would.
      if (outage.mode !== 'silent') for (const req of hung) req.socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
