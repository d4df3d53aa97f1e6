import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { checkUrl, type LookupAll } from '@darkroom/shared';
import { createWebhookDispatcher, parseRetryAfter, sendWebhook, signWebhook, signatureHeader } from '../src/webhook-sender.ts';

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

async function listen(host: string, handler?: (url: string) => { status: number; location?: string; retryAfter?: string }): Promise<Listener> {
  const listener: Listener = { url: '', connections: 0, bodies: [], server: undefined as unknown as Server };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      listener.bodies.push(body);
      const answer = handler?.(req.url ?? '/') ?? { status: 204 };
      res
        .writeHead(answer.status, {
          ...(answer.location ? { location: answer.location } : {}),
          ...(answer.retryAfter ? { 'retry-after': answer.retryAfter } : {}),
        })
        .end();
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
    { url, id: 'msg_1', body: '{"type":"image.generation.succeeded"}', secrets: [SECRET] },
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

  it('during a rotation carry one signature per secret, each verifying on its own', () => {
    const other = `whsec_${Buffer.from('fedcba9876543210fedcba9876543210').toString('base64')}`;
    const ts = Math.floor(Date.now() / 1000);
    const body = '{"a":1}';
    const header = signatureHeader([other, SECRET], 'msg_x', ts, body);
    expect(header.split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': 'msg_x', 'webhook-timestamp': String(ts), 'webhook-signature': header };
    expect(new Webhook(SECRET).verify(body, headers)).toEqual({ a: 1 });
    expect(new Webhook(other).verify(body, headers)).toEqual({ a: 1 });
    const third = `whsec_${Buffer.from('00000000000000000000000000000000').toString('base64')}`;
    expect(() => new Webhook(third).verify(body, headers)).toThrow();
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

describe('DNS rebinding: the address checked at request time is not the one trusted at connect time', () => {
  const policy = { allowedHosts: ['127.0.0.1'] };

  /** A resolver that answers a public address first, then the trap's loopback address. */
  function rebinding(second: string) {
    const asked: string[] = [];
    const answers = ['93.184.215.14', second];
    const lookupAll: LookupAll = (hostname, _options, callback) => {
      asked.push(hostname);
      const address = answers[Math.min(asked.length - 1, answers.length - 1)]!;
      callback(null, [{ address, family: 4 }]);
    };
    const resolve = (host: string) =>
      new Promise<string[]>((done, fail) => lookupAll(host, { all: true, verbatim: true }, (err, a) => (err ? fail(err) : done(a.map((x) => x.address)))));
    return { asked, lookupAll, resolve };
  }

  it('a name that passed the request-time check and then resolves to a forbidden address gets no connection', async () => {
    const trap = await listen('127.0.0.2');
    const port = new URL(trap.url).port;
    const dns = rebinding('127.0.0.2');
    const url = `http://hooks.rebind.test:${port}/hook`;
    expect(await checkUrl(url, policy, dns.resolve)).toEqual({ ok: true });
    const result = await sendWebhook(
      { url, id: 'msg_1', body: '{}', secrets: [SECRET] },
      { dispatcher: createWebhookDispatcher(policy, 2000, dns.lookupAll), policy, timeoutMs: 2000 },
    );
    expect(dns.asked).toEqual(['hooks.rebind.test', 'hooks.rebind.test']);
    expect(result).toMatchObject({ ok: false, forbidden: true });
    expect(result.error).not.toContain('127.0.0.2');
    expect(trap.connections).toBe(0);
  });

  it('a redirect to a name that resolves to a forbidden address is neither resolved nor connected to', async () => {
    const trap = await listen('127.0.0.2');
    const port = new URL(trap.url).port;
    const redirector = await listen('127.0.0.1', () => ({ status: 302, location: `http://internal.rebind.test:${port}/hook` }));
    const asked: string[] = [];
    const lookupAll: LookupAll = (hostname, _options, callback) => {
      asked.push(hostname);
      callback(null, [{ address: hostname === 'internal.rebind.test' ? '127.0.0.2' : '127.0.0.1', family: 4 }]);
    };
    const url = redirector.url.replace('127.0.0.1', 'receiver.rebind.test');
    const result = await sendWebhook(
      { url, id: 'msg_1', body: '{}', secrets: [SECRET] },
      { dispatcher: createWebhookDispatcher({ allowedHosts: ['receiver.rebind.test'] }, 2000, lookupAll), policy: { allowedHosts: ['receiver.rebind.test'] }, timeoutMs: 2000 },
    );
    expect(result).toMatchObject({ ok: false, status_code: 302, error: 'HTTP 302: redirects are not followed' });
    expect(asked).toEqual(['receiver.rebind.test']);
    expect(redirector.connections).toBe(1);
    expect(trap.connections).toBe(0);
  });
});

describe('Standard Webhooks answers', () => {
  it('410 Gone ends the delivery', async () => {
    const target = await listen('127.0.0.1', () => ({ status: 410 }));
    expect(await send(target.url, ['127.0.0.1'])).toMatchObject({ ok: false, status_code: 410, gone: true });
  });

  it('429 carries its Retry-After, in seconds or as a date', async () => {
    const seconds = await listen('127.0.0.1', () => ({ status: 429, retryAfter: '7' }));
    expect(await send(seconds.url, ['127.0.0.1'])).toMatchObject({ ok: false, status_code: 429, gone: false, retryAfterMs: 7000 });
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('a refused connection is reported without the address', async () => {
    const target = await listen('127.0.0.1');
    await new Promise<void>((r) => target.server.close(() => r()));
    const result = await send(target.url, ['127.0.0.1']);
    expect(result).toMatchObject({ ok: false, error: 'connection refused' });
    expect(result.detail).toContain('127.0.0.1');
  });
});
