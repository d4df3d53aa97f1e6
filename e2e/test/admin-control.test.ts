/**
 * Admin control over real HTTP: named admin tokens kept apart from tenant keys, the audit trail,
 * tenants and their keys, revocation on every replica, webhook secret rotation with a grace
 * period, per-tenant rate limits and a fleet drain. Bull Board is in bull-board.test.ts.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildApp } from '@darkroom/api';
import { createLogger, redisKeys, sha256Hex } from '@darkroom/shared';
import { describe, expect, test } from './fixtures.ts';
import { startReceiver } from './receiver.ts';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const OPS = 'ops-token-0123456789abcdef';
const CI = 'ci-token-0123456789abcdef';
const LEGACY = 'legacy-admin-token-0123456789';
const ADMIN_ENV = { ADMIN_TOKEN: LEGACY, ADMIN_TOKENS: `ops:${OPS}, ci:${CI}` };
const body = { model: 'cogview-4-250304', prompt: 'admin control', size: '512x512' };
type FastifyInstance = ReturnType<typeof buildApp>;
const CLI = fileURLToPath(new URL('../../apps/api/src/cli.ts', import.meta.url));

async function call(stack: Stack, method: string, path: string, token: string | undefined, payload?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (a page)
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** A second API replica on the same Redis, as another process behind a load balancer would be. */
async function replica(stack: Stack): Promise<{ app: FastifyInstance; url: string }> {
  const app = buildApp({ config: stack.config, redis: stack.redis, queues: stack.queues, s3: stack.s3, bucket: stack.config.s3.bucket ?? '', logger: createLogger({ level: 'silent', name: 'replica' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return { app, url: typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '' };
}

/** Every route of the app as [method, path] with parameters filled in, read from Fastify's route tree. */
function routesOf(app: FastifyInstance): [string, string][] {
  const routes: [string, string][] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    const parent = stack[depth - 1] ?? '';
    const path = `${parent}${parent.endsWith('/') || (m[2] ?? '').startsWith('/') ? '' : '/'}${m[2] ?? ''}`;
    stack[depth] = path;
    for (const method of (m[3] ?? '').split(', ')) {
      // Wildcards (static files) have no one path to try; the Bull Board test covers its assets.
      if (method !== 'HEAD' && !path.endsWith('*')) routes.push([method, path.replace(/:\w+/g, 'x')]);
    }
  }
  return routes;
}

function cli(stack: Stack, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...stack.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe('admin tokens', () => {
  test('every admin route refuses a missing token and a tenant key; every tenant route refuses an admin token', async ({ launch }) => {
    const stack = await launch({ env: ADMIN_ENV, worker: false });
    const second = await replica(stack);
    try {
      const routes = routesOf(second.app);
      const admin = routes.filter(([, path]) => path.startsWith('/admin/'));
      const tenant = routes.filter(([, path]) => path.startsWith('/v1/'));
      expect(admin.length).toBeGreaterThan(20);
      expect(admin.map(([m, p]) => `${m} ${p}`)).toEqual(expect.arrayContaining(['GET /admin/v1/tenants', 'POST /admin/v1/fleet/drain', 'GET /admin/queues']));
      expect(tenant.length).toBeGreaterThanOrEqual(3);
      for (const [method, path] of admin) {
        const payload = method === 'GET' ? undefined : {};
        for (const token of [undefined, stack.apiKey, 'not-a-token-at-all-0123']) {
          const res = await call(stack, method, path, token, payload);
          expect(res.status, `${method} ${path} with ${token ? 'a non-admin token' : 'no token'}`).toBe(401);
          expect(res.json).toMatchObject({ error: { code: 'unauthorized' } });
        }
      }
      for (const [method, path] of tenant) {
        for (const token of [OPS, CI, LEGACY]) {
          const res = await call(stack, method, path, token, method === 'GET' ? undefined : body);
          expect(res.status, `${method} ${path} with an admin token`).toBe(403);
          expect(res.json).toMatchObject({ error: { code: 'forbidden' } });
        }
      }
      expect(await stack.queues.generate.count()).toBe(0);
    } finally {
      await second.app.close();
    }
  });

  test('two named tokens (and ADMIN_TOKEN as "admin") all work, and the audit trail names each', async ({ launch }) => {
    const stack = await launch({ env: ADMIN_ENV, worker: false });
    expect((await call(stack, 'POST', '/admin/v1/fleet/pause', OPS, { reason: 'ops pauses' })).status).toBe(200);
    expect((await call(stack, 'POST', '/admin/v1/fleet/resume', CI)).json).toMatchObject({ resumed: true, was: { code: 'manual', message: 'ops pauses' } });
    expect((await call(stack, 'PUT', `/admin/v1/tenants/${stack.tenant}/rate-limit`, LEGACY, { per_second: 50 })).status).toBe(200);
    const { json } = await call(stack, 'GET', '/admin/v1/audit?limit=3', CI);
    expect(json.entries).toMatchObject([
      { admin: 'admin', action: 'tenant.rate_limit.set', tenant: stack.tenant, per_second: 50 },
      { admin: 'ci', action: 'fleet.resume' },
      { admin: 'ops', action: 'fleet.pause', reason: 'ops pauses' },
    ]);
    expect(JSON.stringify(json)).not.toContain(OPS);
  });
});

describe('tenants', () => {
  test('the list shows each key by id, prefix and creation time, never the key or its hash; an older key shows by id', async ({ launch }) => {
    const stack = await launch({ env: ADMIN_ENV, worker: false });
    const keys = redisKeys(stack.prefix);
    // A key issued before key metadata existed: only its hash, pointing at the tenant.
    const oldKey = 'dk_issued-before-metadata-0123456789abcdef';
    await stack.redis.set(keys.apiKey(sha256Hex(oldKey)), stack.tenant);
    const other = await stack.newTenant();

    const { status, json, text } = await call(stack, 'GET', '/admin/v1/tenants', OPS);
    expect(status).toBe(200);
    const tenants = json.tenants as { tenant: string; keys: { id: string; prefix: string | null; created_at: string | null }[] }[];
    expect(tenants.map((t) => t.tenant)).toEqual([stack.tenant, other.tenant].sort());
    const mine = tenants.find((t) => t.tenant === stack.tenant);
    expect(mine?.keys).toHaveLength(2);
    expect(mine?.keys).toContainEqual({ id: expect.stringMatching(/^key_/), prefix: stack.apiKey.slice(0, 11), created_at: expect.any(String) });
    expect(mine?.keys).toContainEqual({ id: expect.stringMatching(/^key_/), prefix: null, created_at: null });
    for (const secret of [stack.apiKey, oldKey, other.api_key, sha256Hex(stack.apiKey), sha256Hex(oldKey), stack.webhookSecret]) {
      expect(text).not.toContain(secret);
    }

    // The older key can be revoked by its id.
    const legacyId = mine?.keys.find((k) => k.prefix === null)?.id ?? '';
    expect((await call(stack, 'POST', `/admin/v1/tenants/${stack.tenant}/keys/${legacyId}/revoke`, OPS)).status).toBe(200);
    expect((await call(stack, 'GET', '/v1/images/generations/gen_nope', oldKey)).status).toBe(401);
  });

  test('a revoked key is refused from its next request on every replica, and other keys go on working', async ({ launch }) => {
    const stack = await launch({ env: ADMIN_ENV, worker: false });
    const spare = await stack.newTenant(stack.tenant);
    const second = await replica(stack);
    try {
      const read = (url: string, key: string) => fetch(`${url}/v1/images/generations/gen_unknown`, { headers: { authorization: `Bearer ${key}` } });
      for (const url of [stack.apiUrl, second.url]) expect((await read(url, stack.apiKey)).status).toBe(404);

      const revoked = await call(stack, 'POST', `/admin/v1/tenants/${stack.tenant}/keys/${stack.apiKey.slice(0, 11)}/revoke`, OPS);
      expect(revoked.json).toMatchObject({ tenant: stack.tenant, revoked: true, key: { prefix: stack.apiKey.slice(0, 11) } });
      for (const url of [second.url, stack.apiUrl]) {
        const res = await read(url, stack.apiKey);
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
        expect((await read(url, spare.api_key)).status).toBe(404);
      }
      expect((await call(stack, 'POST', `/admin/v1/tenants/${stack.tenant}/keys/${stack.apiKey.slice(0, 11)}/revoke`, OPS)).status).toBe(404);
      expect((await call(stack, 'POST', `/admin/v1/tenants/nobody-here/keys/key_x/revoke`, OPS)).status).toBe(404);
    } finally {
      await second.app.close();
    }
  });

  test('the CLI lists tenants, revokes a key, and drains the fleet', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const listed = await cli(stack, ['tenants', 'list']);
    expect(listed.code, listed.out).toBe(0);
    expect(JSON.parse(listed.out)).toMatchObject({ tenants: [{ tenant: stack.tenant, keys: [{ prefix: stack.apiKey.slice(0, 11) }] }] });
    const revoked = await cli(stack, ['keys', 'revoke', '--tenant', stack.tenant, '--key', stack.apiKey.slice(0, 11)]);
    expect(revoked.code, revoked.out).toBe(0);
    expect((await stack.request('GET', '/v1/images/generations/gen_unknown')).status).toBe(401);

    const drained = await cli(stack, ['fleet', 'drain', '--reason', 'deploy']);
    expect(drained.code, drained.out).toBe(0);
    expect(JSON.parse((await cli(stack, ['fleet', 'status'])).out)).toMatchObject({ paused: false, draining: true, drain: { reason: 'deploy', by: 'cli' } });
    expect(JSON.parse((await cli(stack, ['fleet', 'resume'])).out)).toMatchObject({ resumed: true, drain_was: { reason: 'deploy' } });
  });
});

describe('webhook secret rotation', () => {
  test('during the grace period each delivery verifies with either secret; after it, only with the new one', async ({ launch }) => {
    const stack = await launch({ env: ADMIN_ENV });
    const rotated = await call(stack, 'POST', `/admin/v1/tenants/${stack.tenant}/webhook-secret/rotate`, OPS, { grace_hours: 1 });
    expect(rotated.status).toBe(200);
    const fresh = String(rotated.json.webhook_secret);
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(stack.webhookSecret);
    expect(rotated.json.previous_valid_until).toEqual(expect.any(String));

    // One receiver knows only the old secret, the other only the new one.
    const receiverNew = await startReceiver(fresh);
    try {
      const toOld = String((await stack.generate({ ...body, webhook_url: stack.receiver.url })).body.id);
      const toNew = String((await stack.generate({ ...body, webhook_url: receiverNew.url })).body.id);
      const [old] = await stack.receiver.waitFor((d) => d.some((x) => x.payload?.data.id === toOld));
      const [neu] = await receiverNew.waitFor((d) => d.some((x) => x.payload?.data.id === toNew));
      for (const delivery of [old, neu]) {
        expect(delivery?.verified, delivery?.error).toBe(true);
        expect(delivery?.headers['webhook-signature']?.split(' ')).toHaveLength(2);
      }

      // A rotation without grace: the old secret stops signing at once.
      const cut = await cli(stack, ['tenants', 'rotate-secret', stack.tenant, '--grace-hours', '0']);
      expect(cut.code, cut.out).toBe(0);
      const newest = String((JSON.parse(cut.out) as { webhook_secret: string }).webhook_secret);
      const receiverNewest = await startReceiver(newest);
      try {
        const toOldAfter = String((await stack.generate({ ...body, webhook_url: stack.receiver.url })).body.id);
        const toNewest = String((await stack.generate({ ...body, webhook_url: receiverNewest.url })).body.id);
        const refused = (await stack.receiver.waitFor((d) => d.some((x) => x.id.includes(toOldAfter)))).find((x) => x.id.includes(toOldAfter));
        expect(refused?.verified).toBe(false);
        const [accepted] = await receiverNewest.waitFor((d) => d.some((x) => x.payload?.data.id === toNewest));
        expect(accepted?.verified, accepted?.error).toBe(true);
        expect(accepted?.headers['webhook-signature']?.split(' ')).toHaveLength(1);
      } finally {
        await receiverNewest.close();
      }
    } finally {
      await receiverNew.close();
    }
  });
});

describe('rate limits', () => {
  test('a tenant over its limit gets 429 rate_limited with Retry-After, other tenants do not, and it recovers', async ({ launch }) => {
    const stack = await launch({ env: ADMIN_ENV, worker: false });
    const other = await stack.newTenant();
    const set = await cli(stack, ['tenants', 'rate-limit', 'set', stack.tenant, '--per-second', '2']);
    expect(set.code, set.out).toBe(0);

    const limited = await waitUntil(async () => {
      const res = await stack.request('GET', '/v1/images/generations/gen_unknown');
      return res.status === 429 ? res : undefined;
    }, 'a request over the limit', 20_000, 0);
    expect(limited.body).toMatchObject({ error: { code: 'rate_limited' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await call(stack, 'GET', '/v1/images/generations/gen_unknown', other.api_key)).status).toBe(404);
    await waitUntil(async () => ((await stack.request('GET', '/v1/images/generations/gen_unknown')).status === 404 ? true : undefined), 'the next window');

    expect((await call(stack, 'PUT', `/admin/v1/tenants/${stack.tenant}/rate-limit`, OPS, { per_second: null })).json).toMatchObject({ rate_limit: null });
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push((await stack.request('GET', '/v1/images/generations/gen_unknown')).status);
    expect(new Set(statuses)).toEqual(new Set([404]));
    expect((await call(stack, 'PUT', `/admin/v1/tenants/${stack.tenant}/rate-limit`, OPS, { per_second: 0 })).status).toBe(400);
  });
});

describe('drain', () => {
  test('workers finish what runs, take no new job until resumed, and nothing is paid twice', async ({ launch, sim }) => {
    const stack = await launch({ env: ADMIN_ENV });
    sim.configure({ latencyMs: { standard: [1500, 1500] } });
    const first = String((await stack.generate(body)).body.id);
    await stack.waitForStatus(first, ['generating']);
    const drained = await call(stack, 'POST', '/admin/v1/fleet/drain', OPS, { reason: 'deploy' });
    expect(drained.json).toMatchObject({ draining: true, drain: { reason: 'deploy', by: 'ops' } });

    const fleet = await waitUntil(async () => {
      const res = await call(stack, 'GET', '/admin/v1/fleet', CI);
      return res.json.drained === true ? res.json : undefined;
    }, 'the fleet to drain');
    expect(fleet).toMatchObject({ paused: false, draining: true, active: { generate: 0, store: 0, notify: 0 } });
    // The call under way was not abandoned: its answer is saved.
    expect(sim.stats().generations).toBe(1);
    expect(['storing', 'succeeded']).toContain((await stack.generations.get(first))?.status);

    const second = String((await stack.generate(body)).body.id);
    const until = Date.now() + 10 * 200;
    await waitUntil(() => Date.now() > until || undefined, 'ten drain checks');
    expect((await stack.generations.get(second))?.status).toBe('queued');
    expect(sim.stats().calls).toBe(1);

    const resumed = await call(stack, 'POST', '/admin/v1/fleet/resume', CI);
    expect(resumed.json).toMatchObject({ resumed: true, draining: false, drain_was: { reason: 'deploy' } });
    for (const id of [first, second]) expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');
    expect(sim.stats().generations).toBe(2);
  });
});
