/**
 * What the API lets in: a prompt of bounded length, a UTF-8 body, at most TENANT_MAX_UNFINISHED
 * unfinished generations per tenant (exact under concurrency and worker crashes), and one job per
 * Idempotency-Key however many identical requests race.
 */
import type { Redis } from 'ioredis';
import { redisKeys } from '@darkroom/shared';
import { describe, expect, test } from './fixtures.ts';
import type { Stack } from './stack.ts';

const valid = { model: 'cogview-4-250304', prompt: 'a cat', size: '512x512' };

const errorOf = (body: Record<string, unknown>) => body.error as { code: string; message: string; details?: Array<{ field: string; message: string }> };

async function recordIds(redis: Redis, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:gen:gen_*`, 'COUNT', 1000);
    cursor = next;
    ids.push(...keys.filter((k) => !k.endsWith(':deliveries')));
  } while (cursor !== '0');
  return ids;
}

const openCount = (stack: Stack, tenant = stack.tenant) => stack.redis.zcard(redisKeys(stack.prefix).openGenerations(tenant));

describe('prompt length', () => {
  test('a prompt over PROMPT_MAX_CHARS is a 400 naming prompt, and nothing is stored', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const huge = await stack.generate({ ...valid, prompt: 'p'.repeat(900_000) });
    expect(huge.status).toBe(400);
    expect(errorOf(huge.body).details).toEqual([{ field: 'prompt', message: 'must be at most 4000 characters' }]);
    expect((await stack.generate({ ...valid, prompt: 'p'.repeat(4_001) })).status).toBe(400);
    expect(await recordIds(stack.redis, stack.prefix)).toEqual([]);
    expect(await stack.queues.generate.count()).toBe(0);
    expect((await stack.generate({ ...valid, prompt: 'p'.repeat(4_000) })).status).toBe(202);
  });

  test('characters are counted as typed: 4000 emoji (8000 UTF-16 units) fit', async ({ launch }) => {
    const stack = await launch({ worker: false });
    expect((await stack.generate({ ...valid, prompt: '🐈'.repeat(4_000) })).status).toBe(202);
    expect((await stack.generate({ ...valid, prompt: '🐈'.repeat(4_001) })).status).toBe(400);
  });

  test('PROMPT_MAX_CHARS sets the cap', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { PROMPT_MAX_CHARS: '10' } });
    expect((await stack.generate({ ...valid, prompt: 'ten chars!' })).status).toBe(202);
    const over = await stack.generate({ ...valid, prompt: 'eleven char' });
    expect(errorOf(over.body).details).toEqual([{ field: 'prompt', message: 'must be at most 10 characters' }]);
  });

  test('a prompt with an unpaired surrogate is a 400 naming prompt', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const res = await stack.request('POST', '/v1/images/generations', '{"model":"cogview-4-250304","prompt":"a cat \\ud800"}');
    expect(res.status).toBe(400);
    expect(errorOf(res.body).details?.map((d) => d.field)).toEqual(['prompt']);
  });
});

describe('body encoding', () => {
  test('a body that is not valid UTF-8 is a 400 naming the body, not stored with U+FFFD', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const bytes = Buffer.concat([Buffer.from('{"model":"cogview-4-250304","prompt":"a cat '), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const res = await fetch(`${stack.apiUrl}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: bytes,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'validation_error', message: 'the body is not valid UTF-8', details: [{ field: '(body)', message: 'is not valid UTF-8' }] },
    });
    expect(await recordIds(stack.redis, stack.prefix)).toEqual([]);
    // Valid multi-byte UTF-8 still passes.
    expect((await stack.generate({ ...valid, prompt: '一只猫 ☕' })).status).toBe(202);
  });
});

describe('per-tenant backpressure', () => {
  test('past TENANT_MAX_UNFINISHED a tenant gets 429 with Retry-After; other tenants do not', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { TENANT_MAX_UNFINISHED: '3', API_RETRY_AFTER_SECONDS: '7' } });
    for (let i = 0; i < 3; i++) expect((await stack.generate({ ...valid, prompt: `cat ${i}` }, { 'idempotency-key': `k${i}` })).status).toBe(202);
    const refused = await stack.generate(valid);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('7');
    expect(errorOf(refused.body)).toEqual({
      code: 'too_many_unfinished',
      message: 'this tenant already has 3 unfinished generations, the most allowed (TENANT_MAX_UNFINISHED=3); retry once some have finished',
    });
    // A repeat of an accepted request is not new work: it still answers with its job.
    const replay = await stack.generate({ ...valid, prompt: 'cat 0' }, { 'idempotency-key': 'k0' });
    expect(replay.status).toBe(202);
    const other = await stack.newTenant();
    expect((await stack.generate(valid, { authorization: `Bearer ${other.api_key}` })).status).toBe(202);
    expect(await stack.queues.generate.count()).toBe(4);
    expect(await recordIds(stack.redis, stack.prefix)).toHaveLength(4);
  });

  test('concurrent requests never overshoot the cap', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { TENANT_MAX_UNFINISHED: '5' } });
    const all = await Promise.all(Array.from({ length: 40 }, (_, i) => stack.generate({ ...valid, prompt: `race ${i}` })));
    expect(all.filter((r) => r.status === 202)).toHaveLength(5);
    expect(all.filter((r) => r.status === 429)).toHaveLength(35);
    expect(await openCount(stack)).toBe(5);
    expect(await recordIds(stack.redis, stack.prefix)).toHaveLength(5);
  });

  test('finished generations free their places, failed or succeeded, also after a worker is SIGKILLed mid-call', async ({ launch, sim }) => {
    const stack = await launch({ worker: false, env: { TENANT_MAX_UNFINISHED: '4', ZAI_MAX_ATTEMPTS: '1' } });
    sim.failNext('sensitive_content_1301');
    const failing = String((await stack.generate({ ...valid, prompt: 'refused by policy' })).body.id);
    const doomed = stack.spawnWorker();
    expect((await stack.waitForStatus(failing, ['succeeded', 'failed'], 30_000)).status).toBe('failed');
    expect(await openCount(stack)).toBe(0);

    sim.configure({ latencyMs: { standard: [400, 400], hd: [400, 400] } });
    const ids = await Promise.all([0, 1, 2, 3].map(async (i) => String((await stack.generate({ ...valid, prompt: `kill ${i}` })).body.id)));
    expect((await stack.generate(valid)).status).toBe(429);
    await expect.poll(() => sim.stats().inFlight, { timeout: 20_000 }).toBeGreaterThan(0);
    await doomed.kill('SIGKILL');
    stack.spawnWorker();
    for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 40_000)).status).toBe('succeeded');

    expect(await openCount(stack)).toBe(0);
    const again = await Promise.all(Array.from({ length: 6 }, (_, i) => stack.generate({ ...valid, prompt: `again ${i}` })));
    expect(again.map((r) => r.status).sort()).toEqual([202, 202, 202, 202, 429, 429]);
  });
});

describe('idempotency under a burst', () => {
  test('50 concurrent identical requests with one Idempotency-Key: one record, one job, one paid call', async ({ launch, sim }) => {
    // A cap of 1 also proves the losers never hold a place, even for a moment.
    const stack = await launch({ env: { TENANT_MAX_UNFINISHED: '1' } });
    const all = await Promise.all(Array.from({ length: 50 }, () => stack.generate(valid, { 'idempotency-key': 'burst-1' })));
    expect(all.map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 202));
    const ids = new Set(all.map((r) => String(r.body.id)));
    expect(ids.size).toBe(1);
    expect(all.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(49);
    const [id] = [...ids];
    await stack.waitForStatus(id!, ['succeeded']);
    expect(sim.stats().calls).toBe(1);
    expect(sim.stats().generations).toBe(1);
    expect(await recordIds(stack.redis, stack.prefix)).toEqual([redisKeys(stack.prefix).generation(id!)]);
    const counts = await stack.queues.generate.getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    expect(await openCount(stack)).toBe(0);
  });
});
