/**
 * Records that are open with nothing to move them: a request whose enqueue failed, a record stored
 * by a request that never completed, a stage job that is gone. None may hold a tenant's place
 * forever, and none may be paid for twice: a record no client was told was accepted fails without
 * a Z.AI call; one that was accepted gets its stage job back.
 */
import { createHash } from 'node:crypto';
import { ORPHAN_AGE_MS } from '@darkroom/api';
import { enqueueGenerate, newGenerationId, redisKeys, type GenerationRecord } from '@darkroom/shared';
import { describe, expect, test } from './fixtures.ts';
import { startImageHost } from './image-host.ts';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const valid = { model: 'cogview-4-250304', prompt: 'a cat', size: '512x512' };
const NOT_ENQUEUED = {
  code: 'not_enqueued',
  message: 'the request that created this generation did not complete; nothing was generated or paid',
};

const openIds = (stack: Stack) => stack.redis.zrange(redisKeys(stack.prefix).openGenerations(stack.tenant), 0, -1);

/** A record of this stack's tenant, old enough for the repair to look at; not enqueued. */
function oldRecord(stack: Stack, fields: Partial<GenerationRecord> = {}, ageMs = 2 * ORPHAN_AGE_MS): GenerationRecord {
  const at = Date.now() - ageMs;
  return {
    id: newGenerationId(),
    tenant: stack.tenant,
    status: 'queued',
    request: { model: 'cogview-4-250304', prompt: 'left behind', quality: 'standard', size: '512x512' },
    created_at: at,
    updated_at: at,
    attempts: 0,
    paid_generations: 0,
    regenerations: 0,
    ...fields,
  };
}

/**
 * BullMQ's add script first increments the queue's job counter: while that key holds a value Redis
 * cannot increment, Redis refuses every add before anything of the job is written.
 */
async function refuseEnqueues(stack: Stack): Promise<() => Promise<void>> {
  const counter = stack.queues.generate.toKey('id');
  await stack.redis.set(counter, 'not-a-number');
  return async () => {
    await stack.redis.del(counter);
  };
}

describe('a request whose enqueue fails', () => {
  test('without an Idempotency-Key: an error, no record, no place held; the retry is paid once', async ({ launch, sim }) => {
    const stack = await launch({ env: { TENANT_MAX_UNFINISHED: '1' } });
    const allow = await refuseEnqueues(stack);
    const failed = await stack.generate(valid);
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
    expect(await openIds(stack)).toEqual([]);
    expect(await stack.redis.keys(redisKeys(stack.prefix).generation('*'))).toEqual([]);

    await allow();
    const retried = await stack.generate(valid);
    expect(retried.status).toBe(202);
    expect((await stack.waitForStatus(String(retried.body.id), ['succeeded', 'failed'])).status).toBe('succeeded');
    expect(sim.stats().calls).toBe(1);
    expect(sim.stats().generations).toBe(1);
  });

  test('with an Idempotency-Key: the record stays, and a replay with the key enqueues it and it is paid once', async ({ launch, sim }) => {
    const stack = await launch();
    const allow = await refuseEnqueues(stack);
    expect((await stack.generate(valid, { 'idempotency-key': 'enqueue-fails' })).status).toBe(500);
    const [id] = await openIds(stack);
    expect((await stack.generations.get(id!))?.status).toBe('queued');

    await allow();
    const replay = await stack.generate(valid, { 'idempotency-key': 'enqueue-fails' });
    expect(replay.status).toBe(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(id);
    expect((await stack.waitForStatus(id!, ['succeeded', 'failed'])).status).toBe('succeeded');
    expect(sim.stats().calls).toBe(1);
  });
});

describe("repair of a full tenant's open generations", () => {
  test('a queued record that was never enqueued fails as not_enqueued, with no Z.AI call, and frees its place', async ({ launch, sim }) => {
    const stack = await launch({ env: { TENANT_MAX_UNFINISHED: '1' } });
    // What a request that died between storing the record and enqueueing its job leaves behind.
    const orphan = oldRecord(stack);
    await stack.generations.create(orphan);

    expect((await stack.generate(valid)).status).toBe(429);
    const view = await stack.request('GET', `/v1/images/generations/${orphan.id}`);
    expect(view.body).toMatchObject({ status: 'failed', error: NOT_ENQUEUED });
    expect(await stack.queues.generate.getJob(orphan.id)).toBeUndefined();
    expect(await openIds(stack)).toEqual([]);

    const next = await stack.generate(valid);
    expect(next.status).toBe(202);
    expect((await stack.waitForStatus(String(next.body.id), ['succeeded', 'failed'])).status).toBe('succeeded');
    expect(sim.stats().calls).toBe(1);
  });

  test('a never-enqueued record with a webhook_url announces its failure: a signed image.generation.failed', async ({ launch, sim }) => {
    const stack = await launch({ env: { TENANT_MAX_UNFINISHED: '1' } });
    // Its client's request timed out: it never saw an id, only its webhook and metadata can tell it.
    const orphan = oldRecord(stack, { webhook_url: stack.receiver.url, metadata: { order: '1234' } });
    await stack.generations.create(orphan);

    expect((await stack.generate(valid)).status).toBe(429);
    const [delivery] = await stack.receiver.waitFor((d) => d.length >= 1);
    expect(delivery).toMatchObject({
      id: `msg_${orphan.id}_failed`,
      verified: true,
      payload: { type: 'image.generation.failed', data: { id: orphan.id, status: 'failed', error: NOT_ENQUEUED, metadata: { order: '1234' } } },
    });
    const state = await waitUntil(async () => {
      const webhook = (await stack.generations.get(orphan.id))?.webhook;
      return webhook?.status === 'delivered' ? webhook : undefined;
    }, 'the delivery recorded on the generation');
    expect(state).toMatchObject({ event: 'image.generation.failed', webhook_id: `msg_${orphan.id}_failed`, attempts: 1 });
    expect(sim.stats().calls).toBe(0);
  });

  test('a generating record, and one queued again for a second round, whose jobs are gone get them back and finish', async ({ launch, sim }) => {
    const stack = await launch({ env: { TENANT_MAX_UNFINISHED: '2' } });
    const generating = oldRecord(stack, { status: 'generating', attempts: 1, started_at: Date.now() - ORPHAN_AGE_MS });
    // The store stage found the first round's URL expired and queued round 1; that job was removed.
    const secondRound = oldRecord(stack, { attempts: 1, paid_generations: 1, regenerations: 1 });
    for (const record of [generating, secondRound]) await stack.generations.create(record);

    expect((await stack.generate(valid)).status).toBe(429);
    for (const { id } of [generating, secondRound]) {
      expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');
    }
    expect(await stack.queues.generate.getJob(`${secondRound.id}-r1`)).toBeDefined();
    expect(sim.stats().calls).toBe(2);
    expect(await openIds(stack)).toEqual([]);
  });

  test('a storing record whose store job is gone gets it back: the saved answer is copied, Z.AI is not called', async ({ launch, sim }) => {
    const stack = await launch({ env: { TENANT_MAX_UNFINISHED: '1' } });
    const host = await startImageHost({ oversizedBytes: 4096 });
    try {
      const now = Date.now();
      const storing = oldRecord(stack, {
        status: 'storing',
        attempts: 1,
        paid_generations: 1,
        zai: { created: Math.floor(now / 1000), url: host.url, content_filter: [{ role: 'assistant', level: 3 }], received_at: now },
      });
      await stack.generations.create(storing);

      expect((await stack.generate(valid)).status).toBe(429);
      const done = await stack.waitForStatus(storing.id, ['succeeded', 'failed']);
      expect(done.status).toBe('succeeded');
      expect((done.result as { sha256: string }).sha256).toBe(createHash('sha256').update(host.image).digest('hex'));
      expect(sim.stats().calls).toBe(0);
    } finally {
      await host.close();
    }
  });

  test('reaches past the 100 oldest entries when those are legitimately open', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { TENANT_MAX_UNFINISHED: '151' } });
    const waiting = Array.from({ length: 150 }, (_, i) => oldRecord(stack, {}, 3 * ORPHAN_AGE_MS - i));
    for (const record of waiting) {
      await stack.generations.create(record);
      await enqueueGenerate(stack.queues, { id: record.id, tenant: stack.tenant });
    }
    const orphan = oldRecord(stack);
    await stack.generations.create(orphan);

    expect((await stack.generate(valid)).status).toBe(429);
    expect(await stack.generations.get(orphan.id)).toMatchObject({ status: 'failed', error: NOT_ENQUEUED });
    expect((await openIds(stack)).sort()).toEqual(waiting.map((r) => r.id).sort());
    expect(await stack.queues.generate.getWaitingCount()).toBe(150);
  });
});
