import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '@darkroom/local-stack';
import type { Redis } from 'ioredis';
import { VALIDATING_DEADLINE_MS, sweepValidatingBatches } from '../src/batch-discard.ts';
import { newBatchId } from '../src/batch-record.ts';
import { GenerationStore } from '../src/generation-record.ts';
import { redisKeys } from '../src/keys.ts';
import { connectRedis, createRedis } from '../src/redis.ts';
import { queuedRecord } from './records.ts';

describe('batches abandoned while validating', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  const keys = redisKeys('d');
  beforeAll(async () => {
    server = await startRedisServer({ appendonly: false });
    redis = createRedis(server.url, 'client');
    await connectRedis(redis);
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });

  /** What the intake writes for a batch of `n` items before activation, `status` aside. */
  async function upload(createdAt: number, n: number, status = 'validating'): Promise<{ id: string; items: string[] }> {
    const id = newBatchId();
    const records = Array.from({ length: n }, (_, i) => queuedRecord({ created_at: createdAt, batch_id: id, batch_index: i }));
    await redis.multi().hset(keys.batch(id), { id, tenant: 'acme', status, created_at: createdAt, updated_at: createdAt, total: 0 }).zadd(keys.validatingBatches, createdAt, id).exec();
    await redis.rpush(keys.batchItems(id), ...records.map((r) => r.id));
    await new GenerationStore(redis, keys).createMany(records, 500);
    return { id, items: records.map((r) => r.id) };
  }

  it('discards a batch still validating past the deadline, and frees its open places; never a young or an accepted one', async () => {
    const now = Date.now();
    const old = now - VALIDATING_DEADLINE_MS - 1;
    const abandoned = await upload(old, 1_200);
    const uploading = await upload(now, 3);
    // Activated, its reply lost before the zset entry left (activation removes it in the same step).
    const accepted = await upload(old, 2, 'in_progress');
    expect(await redis.zcard(keys.openGenerations('acme'))).toBe(1_205);

    const deps = { redis, keys, generations: new GenerationStore(redis, keys) };
    expect(await sweepValidatingBatches(deps, now)).toBe(1);
    expect(await redis.exists(keys.batch(abandoned.id), keys.batchItems(abandoned.id))).toBe(0);
    expect(await redis.exists(...abandoned.items.map((id) => keys.generation(id)))).toBe(0);
    expect(new Set(await redis.zrange(keys.openGenerations('acme'), 0, -1))).toEqual(new Set([...uploading.items, ...accepted.items]));
    expect(await redis.zrange(keys.validatingBatches, 0, -1)).toEqual([uploading.id]);
    expect(await redis.hget(keys.batch(accepted.id), 'status')).toBe('in_progress');
    expect(await sweepValidatingBatches(deps, now)).toBe(0);
  });
});
