/**
 * A loopback proxy in front of the test S3 server that fails the next object uploads (PUTs) the
 * way S3 does under load: a connection reset, or 503 SlowDown. Everything else passes through.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type S3Fault = 'reset' | 'slow_down';

export interface S3FaultProxy {
  endpoint: string;
  /** Uploads seen so far, failed ones included. */
  puts: number;
  failNextPuts(...faults: S3Fault[]): void;
  close(): Promise<void>;
}

const SLOW_DOWN = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

export async function startS3FaultProxy(target: string): Promise<S3FaultProxy> {
  const upstream = new URL(target);
  const queued: S3Fault[] = [];
  const state = { puts: 0 };

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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    get puts() {
      return state.puts;
    },
    failNextPuts: (...faults) => void queued.push(...faults),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
