import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '@darkroom/local-stack';
import type { Redis } from 'ioredis';
import { GenerationStore, newGenerationId } from '../src/generation-record.ts';
import { redisKeys } from '../src/keys.ts';
import { connectRedis, createRedis } from '../src/redis.ts';
import { queuedRecord } from './records.ts';

describe('GenerationStore.update', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  let store: GenerationStore;
  beforeAll(async () => {
    server = await startRedisServer({ appendonly: false });
    redis = createRedis(server.url, 'client');
    await connectRedis(redis);
    store = new GenerationStore(redis, redisKeys('t'));
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });

  const record = () => queuedRecord({ created_at: 1 });

  it('refuses a change for another life of the record than the one it is in (a late job of a life an admin retry ended)', async () => {
    const r = { ...record(), retries: 1 };
    await store.create(r);
    expect(await store.update(r.id, { status: 'failed', completed_at: 5 }, { retries: 0 })).toBe(false);
    expect(await store.get(r.id)).toMatchObject({ status: 'queued', retries: 1 });
    expect(await store.update(r.id, { status: 'generating' }, { retries: 1 })).toBe(true);
    const first = record();
    await store.create(first);
    expect(await store.update(first.id, { status: 'generating' }, { retries: 0 })).toBe(true);
    await redis.del(`t:gen:${r.id}`, `t:gen:${first.id}`);
  });

  it('never moves a finished record to another status, but still updates its other fields', async () => {
    const r = record();
    await store.create(r);
    expect(await store.update(r.id, { status: 'succeeded', completed_at: 5 })).toBe(true);
    expect(await store.update(r.id, { status: 'queued', last_error: { code: 'late', message: 'stale worker' } })).toBe(false);
    expect(await store.get(r.id)).toMatchObject({ status: 'succeeded', completed_at: 5 });
    expect((await store.get(r.id))?.last_error).toBeUndefined();
    expect(await store.update(r.id, { webhook: { event: 'e', webhook_id: 'w', status: 'delivered', attempts: 1 } })).toBe(true);
    expect((await store.get(r.id))?.webhook?.status).toBe('delivered');
  });

  it('does not resurrect a record that is gone', async () => {
    expect(await store.update(newGenerationId(), { status: 'storing' })).toBe(false);
    expect(await redis.keys('t:gen:*')).toHaveLength(1);
  });

  it('keeps the open index exact: in on admission, out when the status becomes final or the record is deleted', async () => {
    const open = { ...record(), tenant: 'idx' };
    const failing = { ...record(), tenant: 'idx' };
    const deleted = { ...record(), tenant: 'idx' };
    for (const r of [open, failing, deleted]) expect(await store.admit(r, { maxOpen: 3 })).toEqual({ created: true });
    expect(await store.admit({ ...record(), tenant: 'idx' }, { maxOpen: 3 })).toEqual({ created: false, full: 3 });
    await store.update(open.id, { status: 'storing' });
    await store.update(failing.id, { status: 'failed', completed_at: 9 });
    await store.delete(deleted.id);
    expect(await store.openCount('idx')).toBe(1);
    await store.update(open.id, { status: 'succeeded' });
    expect(await store.openCount('idx')).toBe(0);
  });

  it('admits with an idempotency claim only when the claim is free', async () => {
    const claim = { key: 't:idem:claims:k', value: '{"id":"first"}', ttlSeconds: 60 };
    const first = { ...record(), tenant: 'claims' };
    expect(await store.admit(first, { maxOpen: 10, claim })).toEqual({ created: true });
    expect(await redis.ttl(claim.key)).toBeGreaterThan(0);
    const second = { ...record(), tenant: 'claims' };
    expect(await store.admit(second, { maxOpen: 10, claim: { ...claim, value: 'other' } })).toEqual({ created: false, claimed: '{"id":"first"}' });
    expect(await store.get(second.id)).toBeUndefined();
    expect(await store.openCount('claims')).toBe(1);
  });

  it("admits with quotas: the tenant's max_waiting replaces the default, and the day's images stop at daily_images", async () => {
    const keys = redisKeys('t');
    const quota = { day: '2026-11-28', ttlSeconds: 100 };
    const q = () => ({ ...record(), tenant: 'quota' });
    await redis.hset(keys.tenantLimits('quota'), 'max_waiting', '2', 'daily_images', '3');
    expect(await store.admit(q(), { maxOpen: 1, quota })).toEqual({ created: true });
    expect(await store.admit(q(), { maxOpen: 1, quota })).toEqual({ created: true });
    expect(await store.admit(q(), { maxOpen: 1, quota })).toEqual({ created: false, full: 2, max: 2 });
    await redis.hdel(keys.tenantLimits('quota'), 'max_waiting');
    expect(await store.admit(q(), { maxOpen: 10, quota })).toEqual({ created: true });
    expect(await store.admit(q(), { maxOpen: 10, quota })).toEqual({ created: false, budget: { used: 3, max: 3 } });
    expect(await redis.get(keys.tenantDailyImages('quota', quota.day))).toBe('3');
    expect(await redis.ttl(keys.tenantDailyImages('quota', quota.day))).toBeGreaterThan(0);
    // Without quotas (tools, tests), neither applies nor counts.
    expect(await store.admit(q(), { maxOpen: 10 })).toEqual({ created: true });
    expect(await redis.get(keys.tenantDailyImages('quota', quota.day))).toBe('3');
    expect(await store.openCount('quota')).toBe(4);
  });

  const answer = (url: string) => ({ created: 1, url, content_filter: [{ role: 'assistant', level: 3 }], received_at: 2 });

  it('saves a paid answer once: a repeated save changes nothing and counts the payment once', async () => {
    const r = record();
    await store.create({ ...r, status: 'generating', calling_until: 99 });
    expect(await store.saveAnswer(r.id, answer('https://z.ai/a.png'))).toBe('saved');
    expect(await store.saveAnswer(r.id, answer('https://z.ai/a.png'))).toBe('saved');
    const saved = await store.get(r.id);
    expect(saved).toMatchObject({ status: 'storing', paid_generations: 1, zai: { url: 'https://z.ai/a.png' } });
    expect(saved?.calling_until).toBeUndefined();
  });

  it("keeps a peer's saved answer and a finished outcome, but counts every paid answer", async () => {
    const r = record();
    await store.create(r);
    expect(await store.saveAnswer(r.id, answer('https://z.ai/first.png'))).toBe('saved');
    expect(await store.saveAnswer(r.id, answer('https://z.ai/second.png'))).toBe('other');
    expect(await store.get(r.id)).toMatchObject({ paid_generations: 2, zai: { url: 'https://z.ai/first.png' } });
    await store.update(r.id, { status: 'failed' });
    expect(await store.saveAnswer(r.id, answer('https://z.ai/third.png'))).toBe('finished');
    expect(await store.get(r.id)).toMatchObject({ status: 'failed', paid_generations: 3 });
    expect(await store.saveAnswer(newGenerationId(), answer('https://z.ai/x.png'))).toBe('gone');
  });

  describe('markCalling', () => {
    const keys = redisKeys('t');

    it('gives the paid call to exactly one of concurrent claimers, on separate connections', async () => {
      const batchId = 'batch_mark';
      const r = { ...record(), batch_id: batchId };
      await redis.hset(keys.batch(batchId), { id: batchId, tenant: 'acme', status: 'in_progress', created_at: 1, updated_at: 1, total: 1 });
      await store.create(r);
      const peers = Array.from({ length: 6 }, () => createRedis(server.url, 'client'));
      try {
        await Promise.all(peers.map((p) => connectRedis(p)));
        const marks = await Promise.all(peers.map((p) => new GenerationStore(p, keys).markCalling(r.id, { now: 1_000, until: 9_000 })));
        expect(marks.filter((m) => m.state === 'marked')).toHaveLength(1);
        expect(marks.filter((m) => m.state !== 'marked')).toEqual(Array.from({ length: 5 }, () => ({ state: 'busy', until: 9_000 })));
      } finally {
        await Promise.all(peers.map((p) => p.quit()));
      }
      expect(await store.get(r.id)).toMatchObject({ status: 'generating', calling_until: 9_000, started_at: 1_000, attempts: 1, started: '1' });
      expect(await redis.zscore(keys.statusIndex('generating'), r.id)).not.toBeNull();
      expect(await redis.zscore(keys.statusIndex('queued'), r.id)).toBeNull();
      expect(await redis.hget(keys.batch(batchId), 'running')).toBe('1');
    });

    it('takes over an expired mark, keeping the first start', async () => {
      const r = record();
      await store.create({ ...r, status: 'generating', started_at: 500, calling_until: 2_000, attempts: 1 });
      expect(await store.markCalling(r.id, { now: 1_999, until: 5_000 })).toEqual({ state: 'busy', until: 2_000 });
      expect(await store.markCalling(r.id, { now: 2_000, until: 6_000 })).toEqual({ state: 'marked' });
      expect(await store.get(r.id)).toMatchObject({ status: 'generating', calling_until: 6_000, started_at: 500, attempts: 2 });
    });

    it('never marks a record with a saved answer, a finished one or a missing one', async () => {
      const answered = record();
      await store.create({ ...answered, status: 'storing', zai: answer('https://z.ai/a.png') });
      expect(await store.markCalling(answered.id, { now: 1_000, until: 9_000 })).toEqual({ state: 'answered' });
      expect(await store.get(answered.id)).toMatchObject({ status: 'storing', attempts: 0 });
      const failed = record();
      await store.create({ ...failed, status: 'failed' });
      expect(await store.markCalling(failed.id, { now: 1_000, until: 9_000 })).toEqual({ state: 'gone' });
      expect((await store.get(failed.id))?.calling_until).toBeUndefined();
      expect(await store.markCalling(newGenerationId(), { now: 1_000, until: 9_000 })).toEqual({ state: 'gone' });
    });
  });
});
