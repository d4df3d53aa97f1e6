/**
 * SSRF: each forbidden address class is refused when the request arrives, and none of the
 * loopback listeners standing in for internal services ever receives a connection. Only loopback
 * addresses are ever connected to; private, link-local and public classes are judged by the guard
 * without opening a socket.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { describe, expect, test } from '../test/fixtures.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
});

async function trap(host: string, onRequest?: (res: ServerResponse) => void) {
  const state = { connections: 0, port: 0 };
  const server = createServer((_req, res) => (onRequest ? onRequest(res) : res.writeHead(200).end()));
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  servers.push(server);
  state.port = (server.address() as AddressInfo).port;
  return state;
}

describe('chaos: SSRF', () => {
  test('forbidden webhook targets are refused at request time and never connected to', async ({ launch }) => {
    const stack = await launch();
    const v4 = await trap('127.0.0.2');
    const v6 = await trap('::1');
    const named = await trap('127.0.0.1');
    const urls = [
      `http://127.0.0.2:${v4.port}/hook`, // loopback outside the allow-list
      `http://[::1]:${v6.port}/hook`, // IPv6 loopback
      `http://2130706434:${v4.port}/hook`, // 127.0.0.2 written as one decimal number
      `http://[::ffff:127.0.0.2]:${v4.port}/hook`, // IPv4-mapped IPv6
      'http://10.1.2.3/hook', // private
      'http://172.16.0.1/hook',
      'http://192.168.1.1/hook',
      'http://169.254.169.254/latest/meta-data/', // link-local, cloud metadata
      'http://100.64.0.1/hook', // CGNAT
      'http://224.0.0.1/hook', // multicast
      'http://[fd00::1]/hook', // IPv6 unique local
      'http://[fe80::1]/hook', // IPv6 link-local
      'http://0.0.0.0/hook', // unspecified
    ];
    for (const url of urls) {
      const res = await stack.generate({ model: 'cogview-4-250304', prompt: 'ssrf', webhook_url: url });
      expect(res.status, url).toBe(400);
      expect((res.body.error as { details: Array<{ field: string }> }).details[0]!.field).toBe('webhook_url');
    }
    // A name resolving to loopback, with only another address allowed.
    const strict = await launch({ env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.9' } });
    const byName = await strict.generate({ model: 'cogview-4-250304', prompt: 'ssrf', webhook_url: `http://localhost:${named.port}/hook` });
    expect(byName.status).toBe(400);
    expect(await stack.queues.generate.count()).toBe(0);
    expect([v4.connections, v6.connections, named.connections]).toEqual([0, 0, 0]);
  });

  test('a redirect from an allowed receiver to a forbidden address is not followed', async ({ launch }) => {
    const stack = await launch();
    const forbidden = await trap('127.0.0.2');
    const redirector = await trap('127.0.0.1', (res) => res.writeHead(307, { location: `http://127.0.0.2:${forbidden.port}/hook` }).end());
    const res = await stack.generate({ model: 'cogview-4-250304', prompt: 'redirect', webhook_url: `http://127.0.0.1:${redirector.port}/hook` });
    const id = String(res.body.id);
    await stack.waitForStatus(id, ['succeeded']);
    await expect
      .poll(async () => (await stack.request<{ webhook: { status: string } }>('GET', `/v1/images/generations/${id}/deliveries`)).body.webhook?.status, { timeout: 20_000 })
      .toBe('failed');
    expect(redirector.connections).toBeGreaterThan(0);
    expect(forbidden.connections).toBe(0);
  });
});
