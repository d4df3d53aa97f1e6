/**
 * A paid answer, once saved, is never thrown away by the generate stage: whatever fails after the
 * save (fleet bookkeeping refused by Redis, the job failing for good, a call failing while a peer
 * saved the answer), the store stage copies the image and the record succeeds, with no new call.
 * And a successful canary call ends the canary phase whatever became of its answer.
 */
import { QUEUE, redisKeys } from '@darkroom/shared';
import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';
import { startImageHost } from './image-host.ts';
import { savedRecord } from './saved-answer.ts';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const body = { model: 'cogview-4-250304', prompt: 'a paid answer', size: '512x512' };
/** One attempt: any failure of the generate job is its last. */
const env = { ZAI_MAX_ATTEMPTS: '1' };

/** Resolves once a worker has marked the record `generating`, i.e. its Z.AI call is under way. */
const calling = (stack: Stack, id: string) =>
  waitUntil(async () => (await stack.generations.get(id))?.status === 'generating' || undefined, `${id} to be calling Z.AI`);

describe('a saved paid answer', () => {
  test('survives fleet bookkeeping that Redis refuses after the save', async ({ launch, sim }) => {
    const stack = await launch({ env });
    sim.configure({ latencyMs: { standard: [1_000, 1_000] } });
    const id = String((await stack.generate(body)).body.id);
    await calling(stack, id);
    // The fleet's pause key of the wrong type: every read of it after the call fails (WRONGTYPE).
    await stack.redis.hset(redisKeys(stack.prefix).fleetPause, 'broken', '1');

    const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'succeeded' });
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
    expect(sim.stats().calls).toBe(1);
  });

  test('is handed over to store when its generate job fails for good', async ({ launch, sim }) => {
    const host = await startImageHost({ oversizedBytes: 0 });
    const stack = await launch({ env });
    try {
      const id = await savedRecord(stack, host.url);
      // A payload the processor refuses (empty tenant) fails its only attempt outside settle():
      // the 'failed' handler settles it.
      await stack.queues.generate.add(QUEUE.generate, { v: 1, id, tenant: '' }, { jobId: id });
      await waitUntil(async () => (await stack.queues.generate.getJobState(id)) === 'failed' || undefined, 'the generate job to fail');

      const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
      expect(done).toMatchObject({ status: 'succeeded' });
      expect(host.requests).toBe(1);
      expect(sim.stats().calls).toBe(0);
    } finally {
      await stack.close();
      await host.close();
    }
  });

  test('saved by a peer while this worker\'s call failed on its last attempt is copied, not failed', async ({ launch, sim }) => {
    const host = await startImageHost({ oversizedBytes: 0 });
    const stack = await launch({ env });
    try {
      sim.configure({ latencyMs: { standard: [1_000, 1_000] } });
      sim.failNext('server_error_500');
      const id = String((await stack.generate(body)).body.id);
      await calling(stack, id);
      const now = Date.now();
      expect(await stack.generations.saveAnswer(id, { created: Math.floor(now / 1000), url: host.url, content_filter: [], received_at: now })).toBe('saved');

      const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
      expect(done).toMatchObject({ status: 'succeeded' });
      expect(host.requests).toBe(1);
      await expectPaid(sim, { jobs: 0, undelivered: 0 });
    } finally {
      await stack.close();
      await host.close();
    }
  });
});

describe('the canary', () => {
  test('ends the canary phase when its call succeeds, even if the record was deleted meanwhile', async ({ launch, sim }) => {
    const stack = await launch();
    const keys = redisKeys(stack.prefix);
    // A probe passed: the queue runs, but only one canary job may call until a call succeeds.
    await stack.redis.set(keys.fleetPause, JSON.stringify({ code: '1113', message: 'arrears', since: Date.now(), canary: Date.now() }));
    sim.configure({ latencyMs: { standard: [1_000, 1_000] } });
    const id = String((await stack.generate(body)).body.id);
    await calling(stack, id);
    expect(await stack.redis.get(keys.fleetCanary)).toBe(id);
    await stack.generations.delete(id);

    await waitUntil(async () => (await stack.redis.exists(keys.fleetPause, keys.fleetCanary)) === 0 || undefined, 'the fleet to resume');
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
  });
});
