/**
 * What a crash leaves of a batch, written by hand onto a batch submitted through the API, and the
 * worker that starts afterwards: the
 * dispatcher adds the jobs of items it had popped, a batch whose items have all ended is
 * finalized although no finalize job was ever added, a canceled batch whose item sweep was lost is
 * swept, and a finalize that runs again after the batch ended sends no second event. (The
 * random-kill version is e2e/chaos/batch-kill-workers.)
 */
import { ORPHAN_AGE_MS } from '@darkroom/api';
import { QUEUE, redisKeys } from '@darkroom/shared';
import { cancelBatch, fetchResults, notifyDrained, submitBatch, uniquePrompt, waitForBatch } from './batch-client.ts';
import { describe, expect, test } from './fixtures.ts';
import { waitUntil } from './wait.ts';

describe('batch crash recovery', () => {
  test('items a dispatcher popped before dying (in flight, no job) are added by the next one, once', async ({ launch, sim }) => {
    const stack = await launch({ worker: false });
    const keys = redisKeys(stack.prefix);
    const { id, ids } = await submitBatch(stack, Array.from({ length: 5 }, (_, i) => ({ prompt: uniquePrompt('popped', i) })));
    // What POP_ROUND_ROBIN leaves when its process dies before addBulk: ids out of pending, in flight.
    for (const gid of ids.slice(0, 3)) {
      expect(await stack.redis.lpop(keys.tenantPending(stack.tenant))).toBe(gid);
      await stack.redis.hset(keys.dispatchInflight, gid, stack.tenant);
    }
    stack.spawnWorker();
    const batch = await waitForBatch(stack, id, ['completed'], 60_000);
    expect(batch.request_counts.succeeded).toBe(5);
    expect(sim.stats().calls).toBe(5);
    expect(await stack.redis.hlen(keys.dispatchInflight)).toBe(0);
  });

  test('a batch whose every item ended is finalized by the dispatcher tick alone', async ({ launch, sim }) => {
    const stack = await launch({ worker: false });
    const keys = redisKeys(stack.prefix);
    const { id } = await submitBatch(stack, Array.from({ length: 3 }, (_, i) => ({ prompt: uniquePrompt('ended', i) })), { webhook_url: stack.receiver.url });
    expect(await cancelBatch(stack, id)).toBe(3);
    expect(await stack.redis.zscore(keys.batchesToFinalize, id)).not.toBeNull();
    expect(await stack.queues.finalize.getJobCounts()).toMatchObject({ waiting: 0, active: 0, completed: 0 });

    stack.spawnWorker();
    const batch = await waitForBatch(stack, id, ['completed', 'canceled', 'expired'], 60_000);
    expect(batch).toMatchObject({ status: 'canceled', request_counts: { canceled: 3 }, results: { key: expect.stringMatching(new RegExp(`^${stack.tenant}/batches/${id}/results-0-`)) } });
    expect(sim.stats().calls).toBe(0);
    const deliveries = await stack.receiver.waitFor((d) => d.some((x) => x.id === `msg_${id}_completed`));
    expect(deliveries[0]).toMatchObject({ verified: true, payload: { type: 'batch.completed', data: { id, status: 'canceled' } } });
  });

  test("a canceled batch whose item sweep was lost (the API's job gone with a crash) is swept by the next worker", async ({ launch, sim }) => {
    const N = 1500;
    const stack = await launch({ worker: false, env: { TENANT_MAX_UNFINISHED: String(N) } });
    const keys = redisKeys(stack.prefix);
    const { id } = await submitBatch(stack, Array.from({ length: N }, (_, i) => ({ prompt: uniquePrompt('lost sweep', i) })), { jsonl: true });
    // The request sweeps its own part; the rest is the job's, which a crash lost.
    expect(await cancelBatch(stack, id)).toBe(1000);
    await stack.queues.finalize.remove(`cancel-${id}`);
    expect(await stack.redis.zscore(keys.batchesCanceling, id)).not.toBeNull();

    stack.spawnWorker();
    const batch = await waitForBatch(stack, id, ['completed', 'canceled', 'expired'], 120_000);
    expect(batch).toMatchObject({ status: 'canceled', request_counts: { total: N, canceled: N, queued: 0, running: 0 } });
    expect(sim.stats().calls).toBe(0);
    // The sweep ends on its own, maybe after the batch did (a generate job added before the cancel may end the last item).
    await expect.poll(() => stack.redis.zscore(keys.batchesCanceling, id), { timeout: 20_000 }).toBeNull();
    // The dispatcher re-added the sweep (without it the items past the first 1,000 would never end: the
    // dispatcher leaves the queued items of a canceled batch to the sweep).
    await expect.poll(() => stack.queues.finalize.getJobState(`cancel-${id}`), { timeout: 20_000 }).toBe('completed');
  });

  test('a cancel sweep whose worker died past the stall limit is still run: the batch ends canceled', async ({ launch, sim }) => {
    const N = 1500;
    const maxStalls = 2;
    const stack = await launch({ worker: false, env: { TENANT_MAX_UNFINISHED: String(N), WORKER_MAX_STALLS: String(maxStalls) } });
    const { id } = await submitBatch(stack, Array.from({ length: N }, (_, i) => ({ prompt: uniquePrompt('stalled sweep', i) })), { jsonl: true });
    expect(await cancelBatch(stack, id)).toBe(1000);
    // The sweep job as workers that died in it left it: stalled more often than any job may.
    await stack.redis.hset(`${stack.prefix}:${QUEUE.finalize}:cancel-${id}`, 'stc', String(maxStalls + 1));

    stack.spawnWorker();
    const batch = await waitForBatch(stack, id, ['completed', 'canceled', 'expired'], 120_000);
    expect(batch).toMatchObject({ status: 'canceled', request_counts: { total: N, canceled: N, queued: 0, running: 0 } });
    expect(sim.stats().calls).toBe(0);
  });

  test('a finalize that runs again after the batch ended rewrites nothing and sends no second event', async ({ launch }) => {
    const stack = await launch();
    const keys = redisKeys(stack.prefix);
    const { id } = await submitBatch(stack, Array.from({ length: 4 }, (_, i) => ({ prompt: uniquePrompt('again', i) })), { webhook_url: stack.receiver.url });
    const ended = await waitForBatch(stack, id, ['completed'], 60_000);
    await stack.receiver.waitFor((d) => d.some((x) => x.id === `msg_${id}_completed`));
    await notifyDrained(stack);

    // A crash after the batch ended but before it left the set: its job is gone, the id is back.
    await stack.queues.finalize.remove(`finalize-${id}`);
    await stack.redis.zadd(keys.batchesToFinalize, Date.now(), id);
    await waitUntil(async () => ((await stack.redis.zscore(keys.batchesToFinalize, id)) === null ? true : undefined), 'the batch to leave the finalize set');
    await expect.poll(() => stack.queues.finalize.getJobState(`finalize-${id}`), { timeout: 20_000 }).toBe('completed');
    await notifyDrained(stack);

    const again = await waitForBatch(stack, id, ['completed']);
    const fixed = (b: typeof ended) => ({ completed_at: b.completed_at, key: b.results?.key, bytes: b.results?.bytes });
    expect(fixed(again)).toEqual(fixed(ended));
    expect(stack.receiver.deliveries.filter((d) => d.id === `msg_${id}_completed`)).toHaveLength(1);
    expect((await fetchResults(stack, id)).lines.every((l) => l.status === 'succeeded')).toBe(true);
  });

  test("the open-index repair of a full tenant leaves its batch items waiting for the dispatcher alone", async ({ launch }) => {
    const stack = await launch({ worker: false, env: { TENANT_MAX_UNFINISHED: '3' } });
    const keys = redisKeys(stack.prefix);
    const { ids } = await submitBatch(stack, Array.from({ length: 3 }, (_, i) => ({ prompt: uniquePrompt('waiting', i) })));
    // Old enough for the repair to look at them: a state only time makes, so written by hand.
    for (const id of ids) await stack.redis.zadd(keys.openGenerations(stack.tenant), Date.now() - 2 * ORPHAN_AGE_MS, id);
    const refused = await stack.generate({ model: 'cogview-4-250304', prompt: 'one more', size: '512x512' });
    expect(refused.status).toBe(429);
    const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
    expect(records.map((r) => [r?.status, r?.error])).toEqual(ids.map(() => ['queued', undefined]));
  });
});
