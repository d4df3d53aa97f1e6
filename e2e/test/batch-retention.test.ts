/**
 * Batch retention: an ended batch's hash and item list expire after the longest record retention
 * (FAILED_RETENTION_HOURS here), an admin retry that reopens the batch takes them off the clock, and
 * the readers of a tenant's batch index (GET /v1/batches, the admin's tenant batch page) drop the
 * entries of batches that have expired. Retention is counted in hours, so the expiry itself is
 * brought forward by hand (PEXPIRE) once the TTL the worker set has been checked.
 */
import { redisKeys } from '@darkroom/shared';
import { submitBatch, uniquePrompt, waitForBatch } from './batch-client.ts';
import { describe, expect, test } from './fixtures.ts';
import type { Response, Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const ADMIN = 'admin-token-for-retention';
const env = { JOB_RETENTION_HOURS: '1', FAILED_RETENTION_HOURS: '2', IDEMPOTENCY_TTL_HOURS: '1', ADMIN_TOKEN: ADMIN };
const LONGEST = 2 * 3600;

async function expireNow(stack: Stack, batchId: string): Promise<void> {
  const keys = redisKeys(stack.prefix);
  for (const key of [keys.batch(batchId), keys.batchItems(batchId)]) await stack.redis.pexpire(key, 1);
  await waitUntil(async () => ((await stack.redis.exists(keys.batch(batchId), keys.batchItems(batchId))) === 0 ? true : undefined), `batch ${batchId} to expire`);
}

interface BatchPage {
  data: Array<{ id: string }>;
  next_cursor: string | null;
  has_more: boolean;
}

/** Every page of GET /v1/batches, `limit` at a time. */
async function listedBatches(stack: Stack, limit: number): Promise<string[]> {
  const ids: string[] = [];
  for (let cursor: string | null = ''; cursor !== null; ) {
    const page: Response<BatchPage> = await stack.request<BatchPage>(
      'GET',
      `/v1/batches?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(page.status).toBe(200);
    // A page is never short while more follow: expired entries do not leave holes.
    if (page.body.has_more) expect(page.body.data).toHaveLength(limit);
    ids.push(...page.body.data.map((b) => b.id));
    cursor = page.body.next_cursor;
  }
  return ids;
}

async function adminListed(stack: Stack): Promise<string[]> {
  const res = await fetch(`${stack.apiUrl}/admin/tenants/${stack.tenant}/batches`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(res.status).toBe(200);
  return [...(await res.text()).matchAll(/<tr data-id="(batch_[0-9a-f]{32})"/g)].map((m) => m[1]!);
}

describe('batch retention', () => {
  test('an ended batch expires after the longest retention, and the batch lists drop it from the index', async ({ launch }) => {
    const stack = await launch({ env });
    const keys = redisKeys(stack.prefix);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await submitBatch(stack, [{ prompt: uniquePrompt('kept', i) }])).id);
    for (const id of ids) await waitForBatch(stack, id, ['completed'], 60_000);
    // Newest first; ties on created_at by id, descending.
    const newestFirst = await listedBatches(stack, 10);
    expect(new Set(newestFirst)).toEqual(new Set(ids));

    for (const id of ids) {
      for (const key of [keys.batch(id), keys.batchItems(id)]) {
        const ttl = await stack.redis.ttl(key);
        expect(ttl).toBeGreaterThan(LONGEST - 600);
        expect(ttl).toBeLessThanOrEqual(LONGEST);
      }
    }
    // The tenant's index has no expiry of its own: its entries are dropped by the readers.
    expect(await stack.redis.ttl(keys.tenantBatches(stack.tenant))).toBe(-1);

    const [gone1, gone2] = [newestFirst[1]!, newestFirst[2]!];
    await expireNow(stack, gone1);
    await expireNow(stack, gone2);
    expect(await stack.redis.zcard(keys.tenantBatches(stack.tenant))).toBe(4);

    const kept = newestFirst.filter((id) => id !== gone1 && id !== gone2);
    expect(await listedBatches(stack, 1)).toEqual(kept);
    expect(new Set(await stack.redis.zrange(keys.tenantBatches(stack.tenant), 0, -1))).toEqual(new Set(kept));
    expect((await stack.request('GET', `/v1/batches/${gone1}`)).status).toBe(404);

    await expireNow(stack, kept[0]!);
    expect(await adminListed(stack)).toEqual([kept[1]]);
    expect(await stack.redis.zrange(keys.tenantBatches(stack.tenant), 0, -1)).toEqual([kept[1]]);
  });

  test('a batch that is still running has no expiry, and an admin retry that reopens an ended batch takes it off the clock', async ({ launch, sim }) => {
    const stack = await launch({ env, worker: false });
    const keys = redisKeys(stack.prefix);
    const ttls = async (id: string) => [await stack.redis.ttl(keys.batch(id)), await stack.redis.ttl(keys.batchItems(id))];
    sim.failNext('sensitive_content_1301', 1);
    const { id, ids } = await submitBatch(stack, [{ prompt: uniquePrompt('retried', 0) }]);
    expect(await ttls(id)).toEqual([-1, -1]);
    const first = stack.spawnWorker();
    const ended = await waitForBatch(stack, id, ['completed'], 60_000);
    expect(ended.request_counts.failed).toBe(1);
    for (const ttl of await ttls(id)) expect(ttl).toBeGreaterThan(LONGEST - 600);
    await first.kill('SIGTERM');

    // No worker runs: the reopened item waits, and the batch with it.
    const retry = await fetch(`${stack.apiUrl}/admin/v1/generations/${ids[0]}/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(retry.status, await retry.text()).toBeLessThan(300);
    expect(await stack.redis.hmget(keys.batch(id), 'status', 'reopened')).toEqual(['in_progress', '1']);
    expect(await ttls(id)).toEqual([-1, -1]);

    stack.spawnWorker();
    const again = await waitForBatch(stack, id, ['completed'], 60_000);
    expect(again.request_counts).toMatchObject({ succeeded: 1, failed: 0 });
    for (const ttl of await ttls(id)) expect(ttl).toBeGreaterThan(LONGEST - 600);
  });
});
