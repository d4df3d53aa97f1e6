import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '@darkroom/local-stack';
import type { Redis } from 'ioredis';
import { BatchStore, newBatchId, toBatchView } from '../src/batch-record.ts';
import { GenerationStore, newGenerationId, type GenerationRecord } from '../src/generation-record.ts';
import { redisKeys } from '../src/keys.ts';
import { connectRedis, createRedis } from '../src/redis.ts';
import { queuedRecord } from './records.ts';

describe('status indexes and batch counters', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  const keys = redisKeys('ix');
  let store: GenerationStore;
  beforeAll(async () => {
    server = await startRedisServer({ appendonly: false });
    redis = createRedis(server.url, 'client');
    await connectRedis(redis);
    store = new GenerationStore(redis, keys);
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });

  const members = (key: string) => redis.zrange(key, 0, -1);
  const answer = { created: 1, url: 'http://127.0.0.1/x.png', content_filter: [], received_at: 1 };

  it('keeps every status index in step with the record, the open index only while it runs', async () => {
    const r = queuedRecord();
    await store.create(r);
    expect(await members(keys.tenantGenerations('acme'))).toContain(r.id);
    expect(await members(keys.generations)).toContain(r.id);
    expect(await members(keys.statusIndex('queued'))).toContain(r.id);
    expect(await members(keys.tenantStatus('acme', 'queued'))).toContain(r.id);

    expect(await store.update(r.id, { status: 'generating' })).toBe(true);
    expect(await store.saveAnswer(r.id, answer)).toBe('saved');
    expect(await members(keys.statusIndex('queued'))).not.toContain(r.id);
    expect(await members(keys.statusIndex('generating'))).not.toContain(r.id);
    expect(await members(keys.tenantStatus('acme', 'storing'))).toContain(r.id);

    expect(await store.update(r.id, { status: 'failed' })).toBe(true);
    expect(await members(keys.statusIndex('storing'))).not.toContain(r.id);
    expect(await members(keys.statusIndex('failed'))).toContain(r.id);
    expect(await members(keys.openGenerations('acme'))).not.toContain(r.id);
    expect(await members(keys.tenantGenerations('acme'))).toContain(r.id);
  });

  it('cancels only a generation that has not started, and never one that finished', async () => {
    const waiting = queuedRecord();
    const running = queuedRecord();
    await store.create(waiting);
    await store.create(running);
    await store.update(running.id, { status: 'generating' });
    const reason = { code: 'canceled', message: 'by the caller' };
    expect(await store.cancel(waiting.id, reason, 60)).toBe(true);
    expect(await store.cancel(running.id, reason, 60)).toBe(false);
    expect(await store.cancel(waiting.id, reason, 60)).toBe(false);
    expect((await store.get(waiting.id))?.status).toBe('canceled');
    expect((await store.get(running.id))?.status).toBe('generating');
    // A worker that read the record before the cancel cannot start it afterwards.
    expect(await store.update(waiting.id, { status: 'generating' })).toBe(false);
  });

  it('counts each item of a batch once, and queues the batch for finalizing when the last one ends', async () => {
    const batchId = newBatchId();
    const items = [0, 1, 2].map((i) => queuedRecord({ batch_id: batchId, batch_index: i }));
    await redis.hset(keys.batch(batchId), { id: batchId, tenant: 'acme', status: 'in_progress', created_at: 1, updated_at: 1, total: 3 });
    await store.createMany(items);
    const batches = new BatchStore(redis, keys);
    const [a, b, c] = items as [GenerationRecord, GenerationRecord, GenerationRecord];

    await store.update(a.id, { status: 'generating' });
    await store.update(a.id, { status: 'queued' });
    await store.update(a.id, { status: 'generating' });
    expect(await store.saveAnswer(a.id, answer)).toBe('saved');
    expect(toBatchView((await batches.get(batchId))!).request_counts).toEqual({ total: 3, queued: 2, running: 1, succeeded: 0, failed: 0, canceled: 0 });

    await store.update(a.id, { status: 'succeeded' });
    await store.update(a.id, { status: 'failed' });
    await store.cancel(b.id, { code: 'canceled', message: 'x' }, 60);
    await store.update(c.id, { status: 'generating' });
    expect(await redis.zscore(keys.batchesToFinalize, batchId)).toBeNull();
    await store.update(c.id, { status: 'failed' });

    const batch = (await batches.get(batchId))!;
    expect(batch.status).toBe('finalizing');
    expect(toBatchView(batch).request_counts).toEqual({ total: 3, queued: 0, running: 0, succeeded: 1, failed: 1, canceled: 1 });
    expect(await redis.zscore(keys.batchesToFinalize, batchId)).not.toBeNull();
  });

  it('writes records in bulk exactly as one by one, whatever their fields hold, with their ids listed', async () => {
    const prompts = ['12:34', '3:abc:\n:', 'caf\u00e9 \u2615 \u{1F9EA}', '', ':', '0:'.repeat(50), 'x'.repeat(5000)];
    const items = prompts.map((prompt, i) =>
      queuedRecord({ tenant: i % 3 ? 'acme' : 'zeta', request: { model: 'cogview-4-250304', prompt, quality: 'standard', size: '1024x1024' }, metadata: { k: prompt, n: i }, custom_id: `c:${i}`, batch_index: i }),
    );
    const single = items.map((r) => ({ ...r, id: newGenerationId() }));
    await store.createMany(items, 2, { list: 'ix:listed' });
    for (const r of single) await store.create(r);
    expect(await redis.lrange('ix:listed', 0, -1)).toEqual(items.map((r) => r.id));
    for (const [i, r] of items.entries()) {
      const { id: _, ...fields } = await redis.hgetall(keys.generation(r.id));
      const { id: __, ...expected } = await redis.hgetall(keys.generation(single[i]!.id));
      expect(fields).toEqual(expected);
      expect(await store.get(r.id)).toMatchObject({ request: r.request, metadata: r.metadata, custom_id: r.custom_id });
      for (const index of [keys.openGenerations(r.tenant), keys.tenantGenerations(r.tenant), keys.generations, keys.tenantStatus(r.tenant, 'queued'), keys.statusIndex('queued')]) {
        expect(await redis.zscore(index, r.id)).toBe(String(r.created_at));
      }
    }
  });

  it('keeps the counters exact under concurrent status changes', async () => {
    const batchId = newBatchId();
    const items = Array.from({ length: 200 }, (_, i) => queuedRecord({ batch_id: batchId, batch_index: i }));
    await redis.hset(keys.batch(batchId), { id: batchId, tenant: 'acme', status: 'in_progress', created_at: 1, updated_at: 1, total: items.length });
    await store.createMany(items, 64);
    // Two racing "workers" per item: each start/finish pair runs twice, concurrently.
    const run = (r: GenerationRecord, i: number) =>
      store.update(r.id, { status: 'generating' }).then(() => store.update(r.id, { status: i % 2 ? 'succeeded' : 'failed' }));
    await Promise.all(items.flatMap((r, i) => [run(r, i), run(r, i)]));
    const view = toBatchView((await new BatchStore(redis, keys).get(batchId))!);
    expect(view.request_counts).toEqual({ total: 200, queued: 0, running: 0, succeeded: 100, failed: 100, canceled: 0 });
    expect(view.status).toBe('finalizing');
  });
});
