/**
 * Redis full (maxmemory, noeviction): the API refuses new work with 503 and Retry-After, never a
 * 500, and stops at a high-water mark so the workers keep the memory they need to drain. Runs on
 * a private redis-server so the small maxmemory touches no other test.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '@darkroom/local-stack';
import { connectRedis, createRedis } from '@darkroom/shared';
import { describe, expect, test } from './fixtures.ts';

const body = { model: 'cogview-4-250304', prompt: 'a full redis', size: '512x512' };
const MB = 1024 * 1024;

let server: RedisServerHandle;
let admin: Redis;
beforeAll(async () => {
  server = await startRedisServer({ appendonly: false });
  admin = createRedis(server.url, 'client');
  await connectRedis(admin);
});
afterAll(async () => {
  await admin.quit();
  await server.stop();
});

async function memory(): Promise<{ used: number; max: number }> {
  const info = await admin.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);
  return { used: field('used_memory'), max: field('maxmemory') };
}

async function oomRefusals(): Promise<number> {
  return Number(/^errorstat_OOM:count=(\d+)/m.exec(await admin.info('errorstats'))?.[1] ?? 0);
}

/**
 * Writes ballast under `prefix` until used memory reaches `fraction` of maxmemory, or Redis
 * refuses even a small write (a big write's own input buffer counts until it is refused).
 */
async function fill(prefix: string, fraction: number): Promise<void> {
  let i = 0;
  for (const size of [MB / 4, 1024]) {
    const chunk = randomBytes(size).toString('base64');
    for (;;) {
      const { used, max } = await memory();
      if (used >= max * fraction) return;
      try {
        await admin.set(`${prefix}:ballast:${i++}`, chunk);
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('OOM ')) break;
        throw err;
      }
    }
  }
}

async function emptyBallast(prefix: string): Promise<void> {
  const keys = await admin.keys(`${prefix}:ballast:*`);
  if (keys.length) await admin.unlink(...keys);
}

describe('Redis memory', () => {
  test('above REDIS_MEMORY_HIGH_WATER the API answers 503 and the workers drain what was accepted', async ({ launch }) => {
    const stack = await launch({
      worker: false,
      env: { REDIS_URL: server.url, REDIS_MEMORY_HIGH_WATER: '0.8', REDIS_MEMORY_CHECK_MS: '0', API_RETRY_AFTER_SECONDS: '3' },
    });
    await admin.config('SET', 'maxmemory', String((await memory()).used + 24 * MB));
    const ids = await Promise.all(Array.from({ length: 10 }, async (_, i) => String((await stack.generate({ ...body, prompt: `accepted ${i}` })).body.id)));
    await fill(stack.prefix, 0.9);
    const refusedBefore = await oomRefusals();

    const refused = await Promise.all(Array.from({ length: 20 }, (_, i) => stack.generate({ ...body, prompt: `refused ${i}`, metadata: { pad: 'x'.repeat(4000) } })));
    for (const res of refused) {
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('3');
      expect(res.body).toEqual({ error: { code: 'queue_full', message: 'the queue is full and accepts no new generations for now; retry later' } });
    }
    // Reads still work while new work is refused.
    expect((await stack.request('GET', `/v1/images/generations/${ids[0]}`)).status).toBe(200);

    stack.spawnWorker();
    for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000)).status).toBe('succeeded');
    expect(await oomRefusals()).toBe(refusedBefore);

    await emptyBallast(stack.prefix);
    expect((await stack.generate(body)).status).toBe(202);
  });

  test('a Redis that refuses writes (OOM) gets a 503 with Retry-After, not a 500', async ({ launch }) => {
    // The high-water mark is off: only Redis's own refusal decides.
    const stack = await launch({ worker: false, env: { REDIS_URL: server.url, REDIS_MEMORY_HIGH_WATER: '1', API_RETRY_AFTER_SECONDS: '3' } });
    await admin.config('SET', 'maxmemory', String((await memory()).used + 8 * MB));
    await fill(stack.prefix, 1.01);
    expect(await oomRefusals()).toBeGreaterThan(0);

    const res = await stack.generate(body);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('3');
    expect((res.body.error as { code: string }).code).toBe('queue_full');

    await emptyBallast(stack.prefix);
    expect((await stack.generate(body)).status).toBe(202);
  });
});
