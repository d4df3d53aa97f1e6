import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '@darkroom/local-stack';
import { GenerationStore, connectRedis, createRedis, discardValidatingBatch, loadConfig, newBatchId, redisKeys, utcDay } from '@darkroom/shared';
import { BatchIntake, type IntakeDeps } from '../src/batches/intake.ts';

describe('batch activation against the upkeep discard', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  let deps: IntakeDeps;
  const keys = redisKeys('act');

  beforeAll(async () => {
    server = await startRedisServer({ appendonly: false });
    redis = createRedis(server.url, 'client');
    await connectRedis(redis);
    deps = { redis, keys, config: loadConfig({ REDIS_URL: server.url, QUEUE_PREFIX: 'act' }), generations: new GenerationStore(redis, keys) };
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });

  it('refuses a batch the upkeep has begun to discard, and leaves the discard to finish', async () => {
    const intake = new BatchIntake(deps, { id: newBatchId(), tenant: 'acme' }, {}, Date.now());
    await intake.open();
    for (let i = 0; i < 3; i++) await intake.add({ model: 'cogview-4-250304', prompt: `p${i}`, quality: 'standard', size: '1024x1024' });
    // What the upkeep's claim (batch-discard.ts CLAIM) leaves until its deletes are done: the batch
    // still `validating`, marked as being discarded.
    await redis.hset(keys.batch(intake.id), 'discarding', '1');

    await expect(intake.activate()).rejects.toThrow(/no longer validating/);
    expect(await redis.hget(keys.batch(intake.id), 'status')).toBe('validating');
    expect(await redis.llen(keys.tenantPending('acme'))).toBe(0);
    expect(await redis.llen(keys.dispatchRing)).toBe(0);
    expect(await redis.zcard(keys.tenantBatches('acme'))).toBe(0);
    expect(await redis.get(keys.tenantDailyImages('acme', utcDay(Date.now())))).toBeNull();

    // The discard, resumed, deletes every record it wrote: nothing of the batch is left to run.
    expect(await discardValidatingBatch(deps, intake.id)).toBe(true);
    expect(await redis.exists(keys.batch(intake.id), keys.batchItems(intake.id))).toBe(0);
    expect(await redis.zcard(keys.openGenerations('acme'))).toBe(0);
  });
});
