/**
 * Bull Board at /admin/queues: behind the admin tokens (page, API and static assets), reachable
 * from a browser through the ?token= login cookie, and read-only.
 */
import { describe, expect, test } from './fixtures.ts';
import type { Stack } from './stack.ts';

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
      ['generate', true],
      ['notify', true],
      ['store', true],
    ]);
    const forged = `${cookie.slice(0, -4)}AAAA`;
    expect((await call(stack, 'GET', '/admin/queues', undefined, { cookie: forged })).status).toBe(401);
    expect((await call(stack, 'PUT', '/admin/queues/api/queues/generate/retry/failed', OPS)).status).toBe(403);
  });
});
