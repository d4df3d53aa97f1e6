import { GenerationStore, createLogger, newGenerationId } from '@darkroom/shared';
import { queuedRecord } from '@darkroom/shared/testing';
import { indexTrimmer } from '../src/index-trim.ts';
import { describe, expect, test } from './redis.ts';

describe('index retention', () => {
  const record = (created_at: number) => queuedRecord({ created_at });

  test('drops old entries whose record expired, never those of a live record however old', async ({ redis, keys }) => {
    const store = new GenerationStore(redis, keys);
    const old = Date.now() - 10 * 86_400_000;
    const expired = [record(old), record(old + 1)];
    const aliveOld = record(old + 2);
    const young = record(Date.now());
    for (const r of [...expired, aliveOld, young]) await store.create(r);
    for (const r of expired) await redis.del(keys.generation(r.id));
    await redis.del(keys.generation(young.id)); // younger than the cutoff: not examined yet

    const trim = indexTrimmer({ redis, keys, minRetentionMs: 86_400_000, log: createLogger({ level: 'silent', name: 'test' }) });
    // Two indexes hold each entry (all generations, and `queued`).
    expect(await trim()).toBe(4);
    const all = await redis.zrange(keys.generations, 0, -1);
    expect(all).toEqual([aliveOld.id, young.id]);
    expect(await redis.zrange(keys.statusIndex('queued'), 0, -1)).toEqual([aliveOld.id, young.id]);
    // One worker of the fleet a minute: a second run right away does nothing.
    expect(await trim()).toBe(0);
  });

  test("walks every tenant's indexes, its batches too, past one read's worth of entries in one run", async ({ redis, keys }) => {
    const store = new GenerationStore(redis, keys);
    const old = Date.now() - 10 * 86_400_000;
    const alive = { ...record(old), tenant: 'beta' };
    await store.create(alive);
    await redis.sadd(keys.tenants, 'beta');
    // 1,200 entries whose records expired: more than one read (500) of the index.
    const expired = Array.from({ length: 1_200 }, () => newGenerationId());
    await redis.zadd(keys.tenantGenerations('beta'), ...expired.flatMap((id, i) => [old - 1 - i, id]));
    await redis.zadd(keys.tenantBatches('beta'), old, 'batch_gone', old + 1, 'batch_live');
    await redis.hset(keys.batch('batch_live'), { id: 'batch_live', tenant: 'beta', status: 'completed' });

    // A budget no loaded machine runs out of: what is tested is that one run reads on to the cutoff.
    const trim = indexTrimmer({ redis, keys, minRetentionMs: 86_400_000, log: createLogger({ level: 'silent', name: 'test' }), budgetMs: 600_000 });
    expect(await trim()).toBe(1_201);
    expect(await redis.zrange(keys.tenantGenerations('beta'), 0, -1)).toEqual([alive.id]);
    expect(await redis.zrange(keys.tenantStatus('beta', 'queued'), 0, -1)).toEqual([alive.id]);
    expect(await redis.zrange(keys.tenantBatches('beta'), 0, -1)).toEqual(['batch_live']);
  });
});
