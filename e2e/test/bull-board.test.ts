/**
 * Bull Board at /admin/queues: behind the admin tokens (page, API and static assets), reachable
 * from a browser through the ?token= login cookie, and read-only.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApp } from '@darkroom/api';
import { createLogger } from '@darkroom/shared';
import { describe, expect, test } from './fixtures.ts';
import type { Stack } from './stack.ts';

/** Debian's chromium, if the machine has one (the test installs nothing). */
const CHROMIUM = (process.env.PATH ?? '')
  .split(delimiter)
  .flatMap((dir) => ['chromium', 'chromium-browser'].map((name) => join(dir, name)))
  .find((path) => existsSync(path));
if (!CHROMIUM) console.warn('bull-board.test.ts: no chromium on PATH (apt-get install chromium): the browser test is skipped');

/**
 * Loads `url` in headless chromium and returns the DOM once its scripts have run. Every host name
 * but 127.0.0.1 fails to resolve, so the page (which links a web font) reaches loopback only.
 */
function renderedDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'darkroom-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    `--user-data-dir=${profile}`,
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    '--no-proxy-server',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--virtual-time-budget=10000',
    '--dump-dom',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(String(CHROMIUM), args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const OPS = 'ops-token-0123456789abcdef';
const CI = 'ci-token-0123456789abcdef';
const ADMIN_ENV = { ADMIN_TOKENS: `ops:${OPS}, ci:${CI}` };

async function call(stack: Stack, method: string, path: string, token: string | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.apiUrl}${path}`, { method, redirect: 'manual', headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers } });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // a page or an asset
  }
  return { status: res.status, headers: res.headers, json, text };
}

describe('Bull Board', () => {
  test('answers its page and assets with the admin token or the login cookie, 401 without, and is read-only', async ({ launch }) => {
    const stack = await launch({ env: ADMIN_ENV, worker: false });
    expect((await call(stack, 'GET', '/admin/queues', undefined)).status).toBe(401);
    expect((await call(stack, 'GET', '/admin/queues', stack.apiKey)).status).toBe(401);
    expect((await call(stack, 'GET', '/admin/queues?token=wrong-token-0123456789', undefined)).status).toBe(401);

    const page = await call(stack, 'GET', '/admin/queues', OPS);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<html');

    const login = await call(stack, 'GET', `/admin/queues?token=${CI}`, undefined);
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/admin/queues');
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(CI);
    const cookie = setCookie.split(';')[0] ?? '';

    const withCookie = await call(stack, 'GET', '/admin/queues', undefined, { cookie });
    expect(withCookie.status).toBe(200);
    // Assets are relative to the page's <base href="/admin/queues/">.
    const script = /src="(static\/js\/[^"]+\.js)"/.exec(withCookie.text)?.[1];
    expect(script).toBeDefined();
    const asset = `/admin/queues/${script ?? ''}`;
    expect((await call(stack, 'GET', String(asset), undefined, { cookie })).status).toBe(200);
    expect((await call(stack, 'GET', String(asset), undefined)).status).toBe(401);
    const queues = await call(stack, 'GET', '/admin/queues/api/queues', undefined, { cookie });
    expect(queues.status).toBe(200);
    expect((queues.json.queues as { name: string; readOnlyMode: boolean }[]).map((q) => [q.name, q.readOnlyMode]).sort()).toEqual([
      ['finalize', true],
      ['generate', true],
      ['notify', true],
      ['retries', true],
      ['store', true],
    ]);
    const forged = `${cookie.slice(0, -4)}AAAA`;
    expect((await call(stack, 'GET', '/admin/queues', undefined, { cookie: forged })).status).toBe(401);
    expect((await call(stack, 'PUT', '/admin/queues/api/queues/generate/retry/failed', OPS)).status).toBe(403);
  });

  test('behind a TLS-terminating proxy named in TRUST_PROXY the login cookie is Secure; X-Forwarded-Proto from any other peer is not believed', async ({ launch }) => {
    const login = async (stack: Stack) => (await call(stack, 'GET', `/admin/queues?token=${OPS}`, undefined, { 'x-forwarded-proto': 'https' })).headers.get('set-cookie') ?? '';
    // The test's requests come from 127.0.0.1, as a proxy on the same host would.
    const proxied = await login(await launch({ env: { ...ADMIN_ENV, TRUST_PROXY: '127.0.0.1' }, worker: false }));
    expect(proxied).toMatch(/HttpOnly/);
    expect(proxied).toMatch(/; Secure$/);
    expect(await login(await launch({ env: { ...ADMIN_ENV, TRUST_PROXY: '10.0.0.0/8' }, worker: false }))).not.toMatch(/Secure/);
    expect(await login(await launch({ env: ADMIN_ENV, worker: false }))).not.toMatch(/Secure/);
  });

  test('a ?token= login never writes the token to the request logs', async ({ launch }) => {
    const stack = await launch({ env: ADMIN_ENV, worker: false });
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = buildApp({ config: stack.config, redis: stack.redis, queues: stack.queues, s3: stack.s3, bucket: stack.config.s3.bucket ?? '', logger: createLogger({ level: 'info', name: 'logged' }, sink) });
    try {
      const login = await app.inject({ method: 'GET', url: `/admin/queues?token=${OPS}` });
      expect(login.statusCode).toBe(303);
      const refused = await app.inject({ method: 'GET', url: `/admin/queues/queue/generate?status=failed&token=${OPS.slice(0, -1)}` });
      expect(refused.statusCode).toBe(401);
      const log = lines.join('');
      expect(log).toContain('"url":"/admin/queues?token=[redacted]"');
      expect(log).toContain('"url":"/admin/queues/queue/generate?status=failed&token=[redacted]"');
      expect(log).toContain('"admin":"ops"');
      expect(log).not.toContain(OPS.slice(0, -1));
    } finally {
      await app.close();
    }
  });

  test.skipIf(!CHROMIUM)('renders its queues in a real headless browser after a ?token= login', async ({ launch }) => {
    const stack = await launch({ env: ADMIN_ENV, worker: false });
    const dom = await renderedDom(`${stack.apiUrl}/admin/queues?token=${OPS}`);
    // The React app ran: its sidebar lists our three queues, fetched from its API with the cookie.
    expect(dom).toContain('id="bull-board-sidebar"');
    for (const queue of ['generate', 'store', 'notify']) expect(dom).toMatch(new RegExp(`href="[^"]*queue/${queue}"`));
    expect(dom).not.toContain(OPS);

    const refused = await renderedDom(`${stack.apiUrl}/admin/queues`);
    expect(refused).not.toContain('bull-board-sidebar');
    expect(refused).toContain('unauthorized');
  });
});
