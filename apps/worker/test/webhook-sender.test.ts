import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookDispatcher, sendWebhook, signWebhook } from '../src/webhook-sender.ts';

const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;

interface Listener {
  url: string;
  connections: number;
  bodies: string[];
  server: Server;
}

const open: Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
});

async function listen(host: string, handler?: (url: string) => { status: number; location?: string }): Promise<Listener> {
  const listener: Listener = { url: '', connections: 0, bodies: [], server: undefined as unknown as Server };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      listener.bodies.push(body);
      const answer = handler?.(req.url ?? '/') ?? { status: 204 };
      res.writeHead(answer.status, answer.location ? { location: answer.location } : {}).end();
    });
  });
  server.on('connection', () => listener.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  open.push(server);
  const { port } = server.address() as AddressInfo;
  listener.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/hook`;
  listener.server = server;
  return listener;
}

const send = (url: string, allowedHosts: string[]) => {
  const policy = { allowedHosts };
  return sendWebhook(
    { url, id: 'msg_1', body: '{"type":"image.generation.succeeded"}', secret: SECRET },
    { dispatcher: createWebhookDispatcher(policy, 2000), policy, timeoutMs: 2000 },
  );
};

describe('webhook signatures', () => {
  it('are accepted by the standardwebhooks library, and a tampered body is not', () => {
    const ts = Math.floor(Date.now() / 1000);
    const body = '{"a":1}';
    const headers = { 'webhook-id': 'msg_x', 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(SECRET, 'msg_x', ts, body) };
    expect(new Webhook(SECRET).verify(body, headers)).toEqual({ a: 1 });
    expect(() => new Webhook(SECRET).verify('{"a":2}', headers)).toThrow();
  });

  it('are sent with each delivery, verifiable by the receiver', async () => {
    const target = await listen('127.0.0.1');
    const result = await send(target.url, ['127.0.0.1']);
    expect(result).toMatchObject({ ok: true, status_code: 204, forbidden: false });
    expect(target.bodies).toEqual(['{"type":"image.generation.succeeded"}']);
  });
});

describe('SSRF guard at connect time: refused addresses never receive a connection', () => {
  it.each([
    ['a loopback address outside the allow-list', '127.0.0.2'],
    ['IPv6 loopback', '::1'],
  ])('%s', async (_name, host) => {
    const target = await listen(host);
    const result = await send(target.url, ['127.0.0.1']);
    expect(result.ok).toBe(false);
    expect(result.forbidden).toBe(true);
    expect(target.connections).toBe(0);
  });

  it('a decimal-encoded IPv4 loopback (http://2130706434/ = 127.0.0.2)', async () => {
    const target = await listen('127.0.0.2');
    const port = new URL(target.url).port;
    const result = await send(`http://2130706434:${port}/hook`, ['127.0.0.1']);
    expect(result.forbidden).toBe(true);
    expect(target.connections).toBe(0);
  });

  it('a name that resolves to a loopback address not on the list', async () => {
    const target = await listen('127.0.0.1');
    const port = new URL(target.url).port;
    const result = await send(`http://localhost:${port}/hook`, ['127.0.0.9']);
    expect(result.forbidden).toBe(true);
    expect(target.connections).toBe(0);
  });

  it('a redirect to a forbidden address is not followed', async () => {
    const forbidden = await listen('127.0.0.2');
    const redirector = await listen('127.0.0.1', () => ({ status: 307, location: forbidden.url }));
    const result = await send(redirector.url, ['127.0.0.1']);
    expect(result).toMatchObject({ ok: false, status_code: 307, forbidden: false });
    expect(redirector.connections).toBe(1);
    expect(forbidden.connections).toBe(0);
  });
});
