import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '@darkroom/local-stack';
import type { Redis } from 'ioredis';
import { CANCELED_BY_CALLER, startCanceling, sweepCanceling } from '../src/batch-cancel.ts';
import { newBatchId } from '../src/batch-record.ts';
import { GenerationStore, newGenerationId, type GenerationRecord } from '../src/generation-record.ts';
import { redisKeys } from '../src/keys.ts';
import { connectRedis, createRedis } from '../src/redis.ts';

describe('canceling a batch', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  let generations: GenerationStore;
  const keys = redisKeys('c');
  beforeAll(async () => {
    server = await startRedisServer({ appendonly: false });
    redis = createRedis(server.url, 'client');
    await connectRedis(redis);
    generations = new GenerationStore(redis, keys);
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });

  /** An accepted batch of `n` queued items, as activation leaves it. */
  async function accepted(n: number): Promise<{ id: string; items: string[] }> {
    const id = newBatchId();
    const records: GenerationRecord[] = Array.from({ length: n }, (_, i) => ({
      id: newGenerationId(),
      tenant: 'acme',
      status: 'queued',
      request: { model: 'cogview-4-250304', prompt: 'p', quality: 'standard', size: '1024x1024' },
      created_at: 1,
      updated_at: 1,
      attempts: 0,
      paid_generations: 0,
      regenerations: 0,
      batch_id: id,
      batch_index: i,
    }));
    await redis.hset(keys.batch(id), { id, tenant: 'acme', status: 'in_progress', created_at: 1, updated_at: 1, in_progress_at: 1, total: n });
    await redis.rpush(keys.batchItems(id), ...records.map((r) => r.id));
    await generations.createMany(records);
    return { id, items: records.map((r) => r.id) };
  }
  const counters = async (id: string) => redis.hmget(keys.batch(id), 'status', 'running', 'canceled');

  it('never starts an item once the cancel has been answered, and lets a started one finish', async () => {
    const { id, items } = await accepted(3);
    const [started, waiting, last] = items as [string, string, string];
    expect(await generations.update(started, { status: 'generating' })).toBe(true);

    expect(await startCanceling({ redis, keys }, id)).toBe('in_progress');
    // The generate stage's start of an item still queued (its job was added before the cancel).
    expect(await generations.markCalling(waiting, { now: 2, until: 10_000 })).toEqual({ state: 'batch_canceled' });
    expect(await generations.update(waiting, { status: 'generating', started_at: 2 })).toBe(false);
    expect(await generations.get(waiting)).toMatchObject({ status: 'queued' });
    expect(await generations.cancel(waiting, CANCELED_BY_CALLER, 60)).toBe(true);
    // The item already calling is not touched.
    expect(await generations.update(started, { status: 'storing' })).toBe(true);
    expect(await counters(id)).toEqual(['canceling', '1', '1']);

    expect(await sweepCanceling({ redis, keys, generations }, id, 60)).toEqual({ canceled: 1, done: true });
    expect(await generations.get(last)).toMatchObject({ status: 'canceled', error: CANCELED_BY_CALLER });
    expect(await generations.update(started, { status: 'succeeded', completed_at: 3 })).toBe(true);
    expect(await counters(id)).toEqual(['finalizing', '0', '2']);
  });

  it('sweeps in parts, and leaves the canceling set only once the item list is swept', async () => {
    const { id, items } = await accepted(1_200);
    await startCanceling({ redis, keys }, id);
    const deps = { redis, keys, generations };
    expect(await sweepCanceling(deps, id, 60, 700)).toEqual({ canceled: 700, done: false });
    expect(await redis.zscore(keys.batchesCanceling, id)).not.toBeNull();
    expect(await generations.get(items[699] ?? '')).toMatchObject({ status: 'canceled' });
    expect(await generations.get(items[700] ?? '')).toMatchObject({ status: 'queued' });
    // A second sweep (the worker's job, after the request's part) cancels the rest.
    expect(await sweepCanceling(deps, id, 60)).toEqual({ canceled: 500, done: true });
    expect(await redis.zscore(keys.batchesCanceling, id)).toBeNull();
    expect(await counters(id)).toEqual(['finalizing', null, '1200']);
    expect(await sweepCanceling(deps, id, 60)).toEqual({ canceled: 0, done: true });
  });
});
