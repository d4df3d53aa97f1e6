/**
 * A webhook receiver as a customer would write one: verifies every delivery with the
 * standardwebhooks library (not our signing code) and records it. Can be told to fail or to be down.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Delivery {
  id: string;
  verified: boolean;
  error: string | undefined;
  payload: { type: string; timestamp: string; data: Record<string, unknown> & { id: string; status: string } } | undefined;
  headers: Record<string, string>;
  at: number;
}

export interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Status (and headers) to answer with; 200 by default. */
  respondWith(status: number, headers?: Record<string, string>): void;
  waitFor(predicate: (d: Delivery[]) => boolean, timeoutMs?: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

export async function startReceiver(secret: string, host = '127.0.0.1'): Promise<Receiver> {
  const wh = new Webhook(secret);
  const deliveries: Delivery[] = [];
  let status = 200;
  let answerHeaders: Record<string, string> = {};
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let payload: Delivery['payload'];
      let error: string | undefined;
      try {
        payload = wh.verify(body, headers) as Delivery['payload'];
      } catch (err) {
        error = (err as Error).message;
      }
      deliveries.push({ id: headers['webhook-id'] ?? '', verified: !error, error, payload, headers, at: Date.now() });
      res.writeHead(status, answerHeaders).end();
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/hooks`,
    deliveries,
    respondWith: (s, h = {}) => {
      status = s;
      answerHeaders = h;
    },
    waitFor: (predicate, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(deliveries)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(deliveries);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`webhook receiver: condition not met in ${timeoutMs} ms (${deliveries.length} deliveries)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
