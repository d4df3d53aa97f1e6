import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, createRedis, redisKeys } from '@darkroom/shared';
import { doneFinalizing, endBatch } from '../src/batch-state.ts';

// The machine's Redis, under a key prefix of this test's own (removed afterwards).
const REDIS_URL = 'redis://127.0.0.1:6379';

describe('batch end against a reopen', () => {
  const prefix = `bstate${randomBytes(4).toString('hex')}`;
  const keys = redisKeys(prefix);
  let redis: Redis;
  beforeAll(async () => {
    redis = createRedis(REDIS_URL, 'client');
    await connectRedis(redis);
  });
  afterAll(async () => {
    for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
      if ((found as string[]).length) await redis.unlink(...(found as string[]));
    }
    await redis.quit();
  });

  const file = { bucket: 'b', key: 'acme/batches/x/results.jsonl', bytes: 10 };

  it('refuses to end a batch reopened since the finalize read it, and keeps it queued for its next finalize', async () => {
    const id = 'batch_reopened';
    // Read at its first end; an admin retry reopened it and its items ended again since.
    const read = { id, finalizing_at: 1_000, reopened: 0 };
    await redis.hset(keys.batch(id), { id, tenant: 'acme', status: 'finalizing', finalizing_at: 2_000, reopened: 1 });
    await redis.zadd(keys.batchesToFinalize, 2_000, id);

    expect(await endBatch(redis, keys, read, 'completed', file, 60)).toBe('stale');
    expect(await redis.hmget(keys.batch(id), 'status', 'results_key')).toEqual(['finalizing', null]);
    await doneFinalizing(redis, keys, id);
    expect(await redis.zscore(keys.batchesToFinalize, id)).toBe('2000');

    expect(await endBatch(redis, keys, { id, finalizing_at: 2_000, reopened: 1 }, 'completed', file, 60)).toBe('ended');
    await doneFinalizing(redis, keys, id);
    expect(await redis.zscore(keys.batchesToFinalize, id)).toBeNull();
  });

  it('takes a gone batch off the finalize set', async () => {
    await redis.zadd(keys.batchesToFinalize, 1, 'batch_gone');
    await doneFinalizing(redis, keys, 'batch_gone');
    expect(await redis.zscore(keys.batchesToFinalize, 'batch_gone')).toBeNull();
  });
});
