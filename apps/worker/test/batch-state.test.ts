import { doneFinalizing, endBatch } from '../src/batch-state.ts';
import { describe, expect, test } from './redis.ts';

describe('batch end against a reopen', () => {
  const file = { bucket: 'b', key: 'acme/batches/x/results.jsonl', bytes: 10 };

  test('refuses to end a batch reopened since the finalize read it, and keeps it queued for its next finalize', async ({ redis, keys }) => {
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

  test('takes a gone batch off the finalize set', async ({ redis, keys }) => {
    await redis.zadd(keys.batchesToFinalize, 1, 'batch_gone');
    await doneFinalizing(redis, keys, 'batch_gone');
    expect(await redis.zscore(keys.batchesToFinalize, 'batch_gone')).toBeNull();
  });
});
