/**
 * Batches, worker side: the dispatcher runs every item once, the finalize stage writes
 * results.jsonl to S3 and sends one batch.completed, cancels and cancel_after never reach Z.AI.
 * Batches are submitted, followed and canceled through the API (batch-client.ts).
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { enqueueGenerate, redisKeys, type BatchResultLine, type BatchView } from '@darkroom/shared';
import { queuedRecord } from '@darkroom/shared/testing';
import { cancelBatch, fetchResults, getBatch, notifyDrained, submitBatch, uniquePrompt, waitForBatch } from './batch-client.ts';
import { describe, expect, test } from './fixtures.ts';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const withoutUrl = ({ result, ...line }: BatchResultLine) => ({ ...line, result: result ? { ...result, url: undefined } : null });

async function resultsFromS3(stack: Stack, bucket: string, key: string): Promise<BatchResultLine[]> {
  const obj = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = await obj.Body!.transformToString();
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as BatchResultLine);
}

/** The ids of the generate jobs (any state; finished ones are kept) of the given generations, sorted. */
async function generateJobsOf(stack: Stack, generationIds: ReadonlySet<string>): Promise<string[]> {
  const all = await stack.queues.generate.getRanges(['active', 'wait', 'paused', 'prioritized', 'delayed', 'completed', 'failed', 'waiting-children'], 0, -1);
  return [...new Set(all)].filter((jobId) => generationIds.has(jobId)).sort();
}

describe('batches (worker side)', () => {
  test('a 1,000-item batch with permanent 1301 failures: exact counts, results.jsonl in input order from the API and from S3, one verified batch.completed', async ({ launch, sim }) => {
    const N = 1000;
    const FAILING = 37;
    const stack = await launch({ env: { WORKER_CONCURRENCY: '16' } });
    sim.failNext('sensitive_content_1301', FAILING);
    const items = Array.from({ length: N }, (_, i) => ({ prompt: uniquePrompt('catalog', i), custom_id: `sku-${i}` }));
    const { id, ids } = await submitBatch(stack, items, { webhook_url: stack.receiver.url, metadata: { catalog: 'spring' }, jsonl: true });
    expect(ids).toHaveLength(N);

    const batch = await waitForBatch(stack, id, ['completed', 'canceled', 'expired'], 240_000);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: N, queued: 0, running: 0, succeeded: N - FAILING, failed: FAILING, canceled: 0 });
    expect(sim.stats().calls).toBe(N);
    expect(await stack.redis.zscore(`${stack.prefix}:batch-finalize`, id)).toBeNull();

    const api = await fetchResults(stack, id);
    expect(api.status).toBe(200);
    expect(api.type).toMatch(/^application\/x-ndjson/);
    expect(api.lines.map((l) => l.id)).toEqual(ids);
    expect(api.lines.map((l) => l.custom_id)).toEqual(items.map((i) => i.custom_id));
    const failed = api.lines.filter((l) => l.status === 'failed');
    expect(failed).toHaveLength(FAILING);
    for (const line of failed) expect(line).toMatchObject({ result: null, error: { code: '1301' } });
    const succeeded = api.lines.filter((l) => l.status === 'succeeded');
    expect(succeeded).toHaveLength(N - FAILING);
    const issued = new Map(sim.issuedImages().map((img) => [img.sha256, img]));
    for (const line of succeeded) {
      expect(line.error).toBeNull();
      expect(issued.has(line.result!.sha256)).toBe(true);
      expect(line.result!.url).toMatch(/^http/);
    }

    expect(batch.results?.key).toMatch(new RegExp(`^${stack.tenant}/batches/${id}/results-0-[0-9a-f]{16}\\.jsonl$`));
    const stored = await resultsFromS3(stack, batch.results!.bucket!, batch.results!.key);
    expect(stored.map(withoutUrl)).toEqual(api.lines.map(withoutUrl));

    const deliveries = await stack.receiver.waitFor((d) => d.some((x) => x.id === `msg_${id}_completed`), 30_000);
    await notifyDrained(stack);
    const completed = deliveries.filter((d) => d.payload?.type === 'batch.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]!.verified).toBe(true);
    expect(completed[0]!.id).toBe(`msg_${id}_completed`);
    expect(completed[0]!.payload!.data).toMatchObject({
      id,
      object: 'batch',
      status: 'completed',
      request_counts: { total: N, queued: 0, running: 0, succeeded: N - FAILING, failed: FAILING, canceled: 0 },
      metadata: { catalog: 'spring' },
      results: { key: batch.results!.key, bytes: batch.results!.bytes },
    });
    // Items send no events of their own unless the batch asks for them.
    expect(deliveries.filter((d) => d.payload?.type !== 'batch.completed')).toHaveLength(0);
    const webhook = JSON.parse((await stack.redis.hget(`${stack.prefix}:batch:${id}`, 'webhook'))!) as { status: string; attempts: number };
    expect(webhook).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(await stack.redis.llen(`${stack.prefix}:gen:${id}:deliveries`)).toBe(1);
  }, 300_000);

  test('cancel midway: canceled items never reach Z.AI, running ones finish, the batch ends canceled with partial results', async ({ launch, sim }) => {
    const N = 200;
    const stack = await launch({ env: { ZAI_MAX_CONCURRENCY: '2' } });
    sim.configure({ latencyMs: { standard: [40, 60], hd: [40, 60] } });
    const items = Array.from({ length: N }, (_, i) => ({ prompt: uniquePrompt('cancel', i) }));
    const { id, ids } = await submitBatch(stack, items, { webhook_url: stack.receiver.url });
    await waitUntil(async () => (await getBatch(stack, id)).request_counts.succeeded >= 10 || undefined, '10 items to succeed');

    const canceledNow = await cancelBatch(stack, id);
    expect(canceledNow).toBeGreaterThan(0);
    const batch = await waitForBatch(stack, id, ['completed', 'canceled', 'expired']);
    expect(batch.status).toBe('canceled');
    const counts = batch.request_counts;
    expect(counts.canceled).toBe(canceledNow);
    expect(counts.succeeded + counts.failed + counts.canceled).toBe(N);

    const { lines } = await fetchResults(stack, id);
    expect(lines.map((l) => l.id)).toEqual(ids);
    const canceledLines = lines.filter((l) => l.status === 'canceled');
    expect(canceledLines).toHaveLength(canceledNow);
    for (const line of canceledLines) expect(line).toMatchObject({ result: null, error: { code: 'canceled' } });
    // Every Z.AI call was for an item that was not canceled.
    const called = new Set(sim.issuedImages().map((img) => img.prompt));
    const canceledPrompts = lines.flatMap((l, i) => (l.status === 'canceled' ? [items[i]!.prompt] : []));
    expect(canceledPrompts.filter((p) => called.has(p))).toEqual([]);
    expect(sim.stats().calls).toBe(N - canceledNow);

    const deliveries = await stack.receiver.waitFor((d) => d.some((x) => x.id === `msg_${id}_completed`));
    await notifyDrained(stack);
    expect(deliveries.filter((d) => d.id === `msg_${id}_completed`)).toHaveLength(1);
    expect(deliveries[0]!.payload!.data).toMatchObject({ status: 'canceled', request_counts: { canceled: canceledNow } });
  });

  test('canceling a 5,000-item batch answers before its item sweep is done; no generate job is added for its items after the answer; it ends canceled with exact counts and no canceled item called', async ({ launch, sim }) => {
    const N = 5000;
    const stack = await launch({ env: { TENANT_MAX_UNFINISHED: String(N), ZAI_MAX_CONCURRENCY: '2' } });
    const keys = redisKeys(stack.prefix);
    sim.configure({ latencyMs: { standard: [40, 60], hd: [40, 60] } });
    const items = Array.from({ length: N }, (_, i) => ({ prompt: uniquePrompt('large cancel', i) }));
    const { id, ids } = await submitBatch(stack, items, { webhook_url: stack.receiver.url, jsonl: true });
    const batchIds = new Set(ids);
    await waitUntil(async () => (await getBatch(stack, id)).request_counts.succeeded >= 5 || undefined, '5 items to succeed');

    // The worker's part of the sweep is held, so the answer shows what the request itself did.
    await stack.queues.finalize.pause();
    // So is the dispatcher (the test holds its lock), so every generate job that exists once the
    // lock is ours was added before the cancel.
    await waitUntil(async () => (await stack.redis.set(keys.dispatchLock, 'e2e', 'PX', 300_000, 'NX')) === 'OK' || undefined, 'the dispatch lock');
    expect(await stack.redis.hlen(keys.dispatchInflight)).toBe(0);
    const dispatched = await generateJobsOf(stack, batchIds);
    expect(dispatched.length).toBeGreaterThan(0);

    const answer = await stack.request<BatchView>('POST', `/v1/batches/${id}/cancel`);
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('canceling');
    // Two calls at a time of at least 40 ms each: thousands of items cannot have started by now.
    expect(answer.body.request_counts.queued).toBeGreaterThan(0);
    expect(await stack.queues.finalize.getJobState(`cancel-${id}`)).toBe('waiting');
    const then = answer.body.request_counts;

    // The dispatcher takes the rest of the batch off the pending list and adds no job for it: its
    // items stay queued for the held sweep.
    expect(await stack.redis.del(keys.dispatchLock)).toBe(1);
    // The pop fills the in-flight list in the step that empties the pending one; the drop clears it after.
    const settled = async () => (await stack.redis.llen(keys.tenantPending(stack.tenant))) === 0 && (await stack.redis.hlen(keys.dispatchInflight)) === 0;
    await waitUntil(async () => (await settled()) || undefined, 'the dispatcher to clear the pending and in-flight lists', 120_000);
    expect(await generateJobsOf(stack, batchIds)).toEqual(dispatched);
    await stack.queues.finalize.resume();

    const batch = await waitForBatch(stack, id, ['completed', 'canceled', 'expired'], 180_000);
    expect(batch.status).toBe('canceled');
    const counts = batch.request_counts;
    expect(counts).toMatchObject({ total: N, queued: 0, running: 0, failed: 0 });
    // No item started after the answer: what was queued then ended canceled, what was running finished.
    expect(counts.canceled).toBe(then.canceled + then.queued);
    expect(counts.succeeded).toBe(then.succeeded + then.running);

    const { lines } = await fetchResults(stack, id);
    expect(lines.map((l) => l.id)).toEqual(ids);
    expect(lines.filter((l) => l.status === 'canceled')).toHaveLength(counts.canceled);
    // Every Z.AI call was for an item that succeeded: none for a canceled one.
    const called = new Set(sim.issuedImages().map((img) => img.prompt));
    const canceledPrompts = lines.flatMap((l, i) => (l.status === 'canceled' ? [items[i]!.prompt] : []));
    expect(canceledPrompts.filter((p) => called.has(p))).toEqual([]);
    expect(sim.stats().calls).toBe(counts.succeeded);

    const deliveries = await stack.receiver.waitFor((d) => d.some((x) => x.id === `msg_${id}_completed`));
    await notifyDrained(stack);
    expect(deliveries.filter((d) => d.id === `msg_${id}_completed`)).toHaveLength(1);
    expect(deliveries.find((d) => d.id === `msg_${id}_completed`)!.payload!.data).toMatchObject({ status: 'canceled', request_counts: counts });
  }, 300_000);

  test('cancel_after in the past cancels every item at once, with no Z.AI call, and the batch ends expired', async ({ launch, sim }) => {
    const stack = await launch();
    const items = Array.from({ length: 20 }, (_, i) => ({ prompt: uniquePrompt('late', i) }));
    const { id } = await submitBatch(stack, items, { cancel_after: new Date(Date.now() - 1000).toISOString(), webhook_url: stack.receiver.url });
    const batch = await waitForBatch(stack, id, ['completed', 'canceled', 'expired'], 30_000);
    expect(batch).toMatchObject({ status: 'expired', request_counts: { canceled: 20, succeeded: 0, failed: 0 } });
    const { lines } = await fetchResults(stack, id);
    expect(lines.every((l) => l.status === 'canceled' && l.error?.code === 'expired')).toBe(true);
    expect(sim.stats().calls).toBe(0);
    const deliveries = await stack.receiver.waitFor((d) => d.some((x) => x.id === `msg_${id}_completed`));
    expect(deliveries[0]!.payload!.data).toMatchObject({ status: 'expired' });
  });

  test('a single generation past its cancel_after is canceled by the generate stage, never called', async ({ launch, sim }) => {
    const stack = await launch();
    const record = queuedRecord({
      tenant: stack.tenant,
      request: { model: 'cogview-4-250304', prompt: 'too late', quality: 'standard', size: '512x512' },
      webhook_url: stack.receiver.url,
      cancel_after: Date.now() - 1,
    });
    const { id } = record;
    await stack.generations.create(record);
    await enqueueGenerate(stack.queues, { id, tenant: stack.tenant });
    const job = await stack.waitForStatus(id, ['canceled', 'succeeded', 'failed']);
    expect(job).toMatchObject({ status: 'canceled', error: { code: 'expired' } });
    expect(sim.stats().calls).toBe(0);
    const deliveries = await stack.receiver.waitFor((d) => d.length > 0);
    expect(deliveries[0]).toMatchObject({ id: `msg_${id}_canceled`, verified: true });
  });

  test('item_webhooks: every item sends its own event, and the batch its one batch.completed', async ({ launch }) => {
    const stack = await launch();
    const { id, ids } = await submitBatch(stack, Array.from({ length: 3 }, (_, i) => ({ prompt: uniquePrompt('hooks', i) })), {
      webhook_url: stack.receiver.url,
      item_webhooks: true,
    });
    await waitForBatch(stack, id, ['completed']);
    await stack.receiver.waitFor((d) => d.length >= 4);
    await notifyDrained(stack);
    const byId = stack.receiver.deliveries.map((d) => [d.id, d.payload?.type, d.verified]);
    expect(byId.sort()).toEqual(
      [...ids.map((gid) => [`msg_${gid}_succeeded`, 'image.generation.succeeded', true]), [`msg_${id}_completed`, 'batch.completed', true]].sort(),
    );
  });

  test('batch.completed carries the estimated cost at PRICE_PER_IMAGE, as GET /v1/batches/:id does', async ({ launch }) => {
    const stack = await launch({ env: { PRICE_PER_IMAGE: '0.015' } });
    const { id } = await submitBatch(stack, Array.from({ length: 3 }, (_, i) => ({ prompt: uniquePrompt('priced', i) })), { webhook_url: stack.receiver.url });
    const batch = await waitForBatch(stack, id, ['completed']);
    const deliveries = await stack.receiver.waitFor((d) => d.some((x) => x.id === `msg_${id}_completed`));
    const event = deliveries.find((d) => d.id === `msg_${id}_completed`)!;
    expect(event.verified).toBe(true);
    expect(event.payload!.data).toMatchObject({ estimated_cost: { per_image: 0.015, images: 3, total: 0.045 } });
    expect(batch.estimated_cost).toEqual({ per_image: 0.015, images: 3, total: 0.045 });
  });

  test("results.jsonl of another tenant's batch is a 404", async ({ launch }) => {
    const stack = await launch({ worker: false });
    const { id } = await submitBatch(stack, [{ prompt: 'mine' }]);
    const other = await stack.newTenant();
    expect((await fetchResults(stack, id, other.api_key)).status).toBe(404);
    const mine = await fetchResults(stack, id);
    expect(mine.status).toBe(200);
    expect(mine.lines).toMatchObject([{ status: 'queued', result: null, error: null, custom_id: null }]);
  });
});
