/**
 * Webhooks answer per Standard Webhooks: 410 Gone stops the delivery, 429 with Retry-After delays
 * the next attempt, a 3xx is a failed attempt and is never followed. What the tenant can read of a
 * delivery or a refusal never names a resolved address.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { describe, expect, test } from './fixtures.ts';
import type { Stack } from './stack.ts';

const body = { model: 'cogview-4-250304', prompt: 'webhook semantics', size: '512x512' };

type Log = {
  webhook: { status: string; attempts: number; last_status_code?: number; last_error?: string } | null;
  deliveries: Array<{ attempt: number; status_code: number | null; error: string | null; at: string }>;
};

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
});

async function trap(): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((_req, res) => res.writeHead(200).end());
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/elsewhere`, connections: () => connections };
}

async function settledLog(stack: Stack, id: string): Promise<Log> {
  await expect
    .poll(async () => (await stack.request<Log>('GET', `/v1/images/generations/${id}/deliveries`)).body.webhook?.status, { timeout: 20_000 })
    .toMatch(/^(delivered|failed)$/);
  return (await stack.request<Log>('GET', `/v1/images/generations/${id}/deliveries`)).body;
}

describe('webhook answers', () => {
  test('410 Gone stops retrying that delivery, and the log says so', async ({ launch }) => {
    const stack = await launch({ env: { WEBHOOK_RETRY_SCHEDULE: '0,0.1,0.1,0.1' } });
    stack.receiver.respondWith(410);
    const id = String((await stack.generate({ ...body, webhook_url: stack.receiver.url })).body.id);
    const log = await settledLog(stack, id);
    expect(log.webhook).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410 });
    expect(log.deliveries.map((d) => [d.attempt, d.status_code])).toEqual([[1, 410]]);
    const job = await stack.queues.notify.getJob(`msg_${id}_succeeded`);
    await expect.poll(() => job!.getState()).toBe('failed');
    expect(stack.receiver.deliveries).toHaveLength(1);
  });

  test('429 with Retry-After: the next attempt comes no sooner than asked', async ({ launch }) => {
    const stack = await launch({ env: { WEBHOOK_RETRY_SCHEDULE: '0,0.1,3' } });
    stack.receiver.respondWith(429, { 'retry-after': '2' });
    const id = String((await stack.generate({ ...body, webhook_url: stack.receiver.url })).body.id);
    await stack.receiver.waitFor((d) => d.length >= 1);
    stack.receiver.respondWith(200);
    const [first, second] = await stack.receiver.waitFor((d) => d.length >= 2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2000);
    expect((await settledLog(stack, id)).webhook).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  test('a 3xx is a failed attempt: the redirect is not followed, even to an allowed host', async ({ launch }) => {
    const stack = await launch({ env: { WEBHOOK_RETRY_SCHEDULE: '0,0.1' } });
    const elsewhere = await trap();
    stack.receiver.respondWith(308, { location: elsewhere.url });
    const id = String((await stack.generate({ ...body, webhook_url: stack.receiver.url })).body.id);
    const log = await settledLog(stack, id);
    expect(log.webhook).toMatchObject({ status: 'failed', attempts: 2, last_status_code: 308 });
    expect(log.deliveries.map((d) => d.error)).toEqual(['HTTP 308: redirects are not followed', 'HTTP 308: redirects are not followed']);
    expect(elsewhere.connections()).toBe(0);
  });
});

describe('what a tenant sees of network failures', () => {
  test('a refused webhook_url does not say which address its host resolved to', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.9' } });
    const res = await stack.generate({ ...body, webhook_url: 'http://localhost:9/hook' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        code: 'validation_error',
        message: 'invalid request: webhook_url is not allowed: its host is, or resolves to, an address webhooks may not reach',
        details: [{ field: 'webhook_url', message: 'is not allowed: its host is, or resolves to, an address webhooks may not reach' }],
      },
    });
    expect(JSON.stringify(res.body)).not.toMatch(/127\.0\.0\.1|::1|loopback/);
  });

  test('the delivery log names the failure, not the address it reached', async ({ launch }) => {
    const stack = await launch({ env: { WEBHOOK_RETRY_SCHEDULE: '0' } });
    const closed = await trap();
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    const id = String((await stack.generate({ ...body, webhook_url: closed.url })).body.id);
    const log = await settledLog(stack, id);
    expect(log.deliveries.map((d) => d.error)).toEqual(['connection refused']);
    expect(log.webhook).toMatchObject({ status: 'failed', last_error: 'connection refused' });
    expect(JSON.stringify(log)).not.toContain('127.0.0.1');
  });
});
