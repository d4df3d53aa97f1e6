import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '@darkroom/local-stack';
import type { Redis } from 'ioredis';
import { BatchStore, newBatchId } from '../src/batch-record.ts';
import { GenerationStore, type GenerationRecord } from '../src/generation-record.ts';
import { planRetry } from '../src/generation-retry.ts';
import { decodeCursor, searchGenerations, type GenerationFilter } from '../src/generation-search.ts';
import { redisKeys } from '../src/keys.ts';
import { connectRedis, createRedis } from '../src/redis.ts';
import { queuedRecord } from './records.ts';

const DAY = 86_400_000;

describe('generation search and reopening', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  let n = 0;
  let keys = redisKeys('s0');
  let store: GenerationStore;
  beforeAll(async () => {
    server = await startRedisServer({ appendonly: false });
    redis = createRedis(server.url, 'client');
    await connectRedis(redis);
  });
  beforeEach(() => {
    keys = redisKeys(`s${++n}`);
    store = new GenerationStore(redis, keys);
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });

  const record = (over: Partial<GenerationRecord> = {}) => queuedRecord({ created_at: 1_000, ...over });
  const deps = () => ({ redis, keys, generations: store });

  /** Every page of a search, `between` running after each page (concurrent writers). */
  async function all(filter: GenerationFilter, limit: number, between: (lastId: string) => Promise<void> = () => Promise.resolve(), maxExamined?: number) {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await searchGenerations(deps(), filter, { cursor: cursor === null ? undefined : decodeCursor(cursor), limit, ...(maxExamined ? { maxExamined } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((r) => r.id));
      cursor = page.next_cursor;
      pages++;
      const last = page.items.at(-1);
      if (last) await between(last.id);
    } while (cursor !== null);
    return { ids, pages };
  }

  it('pages through a tenant newest first, exactly once each, while new jobs are written and statuses change', async () => {
    const seeded: GenerationRecord[] = [];
    // 40 share one created_at, as a batch's items do; the rest are distinct.
    for (let i = 0; i < 100; i++) seeded.push(record({ created_at: i < 40 ? 5_000 : 1_000 + i * 10 }));
    for (const r of seeded) await store.create(r);
    for (let i = 0; i < 30; i++) await store.create(record({ tenant: 'other', created_at: 1_000 + i }));
    let t = 10_000;
    const { ids } = await all({ tenant: 'acme' }, 7, async (lastId) => {
      await store.create(record({ created_at: ++t }));
      await store.create(record({ tenant: 'other', created_at: ++t }));
      await store.update(lastId, { status: 'generating' });
    });
    expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set(seeded.map((r) => r.id)));
    const created = await Promise.all(ids.map(async (id) => (await store.get(id))!.created_at));
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it('keeps its place in a status index when the entry it stopped at leaves that index', async () => {
    const seeded: GenerationRecord[] = [];
    for (let i = 0; i < 60; i++) seeded.push(record({ created_at: i % 2 === 0 ? 7_000 : 2_000 + i }));
    for (const r of seeded) await store.create(r);
    // The cursor's own entry leaves `queued` after every page: the next page is placed by score and id.
    const { ids } = await all({ tenant: 'acme', status: 'queued' }, 5, async (lastId) => {
      await store.update(lastId, { status: 'generating' });
      await store.create(record({ created_at: 9_000 }));
    });
    expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set(seeded.map((r) => r.id)));
  });

  it('applies filters no index covers within a bound on records examined, with a cursor to continue', async () => {
    const failed = async (code: string, stage: string, paid: number) => {
      const r = record({ created_at: 1_000 + ++n });
      await store.create(r);
      await store.update(r.id, { status: 'failed', error: { code, message: code }, failed_stage: stage, paid_generations: paid });
      return r.id;
    };
    const wanted: string[] = [];
    for (let i = 0; i < 45; i++) {
      if (i % 9 === 0) wanted.push(await failed('image_copy_failed', 'store', 1));
      else await failed('server_error', 'generate', 0);
    }
    const { ids, pages } = await all({ error_code: 'image_copy_failed', stage: 'store', paid: true }, 100, undefined, 10);
    expect(new Set(ids)).toEqual(new Set(wanted));
    expect(pages).toBeGreaterThanOrEqual(5);
    expect((await all({ status: 'failed', stage: 'generate', paid: true }, 10)).ids).toEqual([]);
  });

  it('bounds by creation time, drops entries of expired records, and hides another tenant\'s batch', async () => {
    const rs = [1_000, 2_000, 3_000, 4_000].map((c) => record({ created_at: c }));
    for (const r of rs) await store.create(r);
    expect((await all({ tenant: 'acme', created_after: 1_000, created_before: 4_000 }, 10)).ids).toEqual([rs[2]!.id, rs[1]!.id]);
    await redis.del(keys.generation(rs[0]!.id));
    expect((await all({ tenant: 'acme' }, 10)).ids).not.toContain(rs[0]!.id);
    expect(await redis.zscore(keys.tenantGenerations('acme'), rs[0]!.id)).toBeNull();

    const batchId = newBatchId();
    const mine = record({ batch_id: batchId });
    const theirs = record({ tenant: 'other', batch_id: batchId });
    await store.create(mine);
    await store.create(theirs);
    await redis.rpush(keys.batchItems(batchId), mine.id, theirs.id);
    await redis.hset(keys.batch(batchId), { id: batchId, tenant: 'acme', status: 'in_progress', created_at: 1, updated_at: 1, total: 2 });
    expect((await all({ tenant: 'acme', batch_id: batchId }, 10)).ids).toEqual([mine.id]);
    // Another tenant's batch is an empty last page: no cursor that would tell it exists.
    const page = await searchGenerations(deps(), { tenant: 'other', batch_id: batchId }, { limit: 1, maxExamined: 1 });
    expect(page).toMatchObject({ items: [], next_cursor: null, examined: 0 });
    expect((await all({ batch_id: batchId }, 10)).ids).toEqual([mine.id, theirs.id]);
  });

  it('reopens a failed batch item: indexes, open entry, counters, and a completed batch back in progress', async () => {
    const batchId = newBatchId();
    const items = [0, 1].map((i) => record({ batch_id: batchId, batch_index: i }));
    await redis.hset(keys.batch(batchId), { id: batchId, tenant: 'acme', status: 'in_progress', created_at: 1, updated_at: 1, total: 2 });
    await store.createMany(items);
    for (const item of items) await store.update(item.id, { status: 'generating' });
    await store.update(items[0]!.id, { status: 'succeeded' });
    await store.update(items[1]!.id, { status: 'failed', error: { code: 'x', message: 'x' } }, 60);
    await redis.hset(keys.batch(batchId), 'status', 'completed');
    const id = items[1]!.id;

    expect(await store.reopen(id, 'queued', { retries: 1 }, 1, DAY)).toBe('reread');
    expect(await store.reopen(id, 'queued', { retries: 1, error: null }, 0, DAY)).toBe('reopened');
    expect(await store.reopen(id, 'queued', { retries: 1 }, 1, DAY)).toBe('not_failed');
    expect(await redis.ttl(keys.generation(id))).toBe(-1);
    expect(await redis.zscore(keys.statusIndex('failed'), id)).toBeNull();
    expect(await redis.zscore(keys.tenantStatus('acme', 'queued'), id)).not.toBeNull();
    expect(await redis.zscore(keys.openGenerations('acme'), id)).not.toBeNull();
    const reopened = await store.get(id);
    expect(reopened).toMatchObject({ status: 'queued', retries: 1 });
    expect(reopened?.error).toBeUndefined();
    const batches = new BatchStore(redis, keys);
    expect(await batches.get(batchId)).toMatchObject({ status: 'in_progress', running: 0, failed: 0, succeeded: 1 });

    // The next round counts as running once it starts, and ends the batch again.
    await store.update(id, { status: 'generating' });
    expect(await batches.get(batchId)).toMatchObject({ running: 1 });
    await store.update(id, { status: 'succeeded' });
    expect(await batches.get(batchId)).toMatchObject({ status: 'finalizing', running: 0, succeeded: 2, failed: 0 });
  });

  /** A batch of one failed item, its batch hash set to `batch`. */
  async function failedItem(batch: Record<string, string | number>): Promise<string> {
    const batchId = newBatchId();
    const item = record({ batch_id: batchId, batch_index: 0 });
    await redis.hset(keys.batch(batchId), { id: batchId, tenant: 'acme', created_at: 1, updated_at: 1, total: 1, ...batch });
    await store.create(item);
    await store.update(item.id, { status: 'failed', error: { code: 'x', message: 'x' } }, 60);
    return item.id;
  }

  it('refuses to reopen an item of a batch completed longer ago than the window: its other items may have expired', async () => {
    const now = Date.now();
    const late = await failedItem({ status: 'completed', completed_at: now - DAY - 1 });
    expect(await store.reopen(late, 'queued', { retries: 1 }, 0, DAY)).toBe('batch_closed');
    expect(await store.get(late)).toMatchObject({ status: 'failed' });
    const recent = await failedItem({ status: 'completed', completed_at: now - DAY + 60_000 });
    expect(await store.reopen(recent, 'queued', { retries: 1 }, 0, DAY)).toBe('reopened');
  });

  it('refuses to reopen an item of a canceled batch, even while it is still finalizing', async () => {
    const id = await failedItem({ status: 'finalizing', canceling_at: Date.now(), finalizing_at: Date.now() });
    expect(await store.reopen(id, 'queued', { retries: 1 }, 0, DAY)).toBe('batch_closed');
    expect(await store.get(id)).toMatchObject({ status: 'failed' });
  });

  it('plans no retry while a Z.AI call of the failed generation may still be in flight', () => {
    const now = Date.now();
    const failed = (calling_until: number) => record({ status: 'failed', error: { code: 'stalled_too_often', message: '' }, calling_until });
    expect(planRetry(failed(now + 60_000), { now })).toEqual({ skip: 'calling' });
    expect(planRetry(failed(now - 1), { now })).toEqual({ action: 'generate' });
  });

  it('plans a retry that never pays twice: a valid saved URL goes to store, an expired one or none to a new call', () => {
    const now = Date.now();
    const zai = (createdMs: number) => ({ created: Math.floor(createdMs / 1000), url: 'http://127.0.0.1/x', content_filter: [], received_at: createdMs });
    const failed = (over: Partial<GenerationRecord>) => record({ status: 'failed', error: { code: 'image_copy_failed', message: '' }, ...over });
    expect(planRetry(failed({ zai: zai(now - 86_400_000) }), { now })).toEqual({ action: 'store' });
    expect(planRetry(failed({ zai: zai(now - 31 * 86_400_000) }), { now })).toEqual({ action: 'generate' });
    expect(planRetry(failed({}), { now })).toEqual({ action: 'generate' });
    expect(planRetry(failed({ error: { code: 'content_filtered', message: '' }, zai: zai(now) }), { now })).toEqual({ skip: 'content_filtered' });
    expect(planRetry(record({ status: 'succeeded' }), { now })).toEqual({ skip: 'succeeded' });
    expect(planRetry(record({ status: 'succeeded', webhook_url: 'http://127.0.0.1/h' }), { now, resendWebhook: true })).toEqual({ action: 'resend_webhook' });
    expect(planRetry(record({ status: 'storing' }), { now })).toEqual({ skip: 'not_failed' });
    expect(planRetry(undefined, { now })).toEqual({ skip: 'gone' });
  });
});
