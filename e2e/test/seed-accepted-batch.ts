/**
 * A batch written to Redis exactly as the batch contract says an accepted one looks like
 * (the lead's batch contract): the batch hash, its items as generation records (createMany), the
 * item list, the tenant's batch index, the tenant's pending list and its place in the dispatch
 * ring, then `in_progress`. The API's POST /v1/batches writes the same.
 *
 * `dispatchPending` stands in for the worker's fair dispatcher (not in this build) for one tenant:
 * it pops the pending ids and adds their generate jobs (job id = the generation id, priority 1),
 * so the items run through the real worker. Popping is atomic, so it never races a real
 * dispatcher into a second job, and BullMQ ignores an add whose job id exists.
 */
import { BatchStore, GenerationStore, QUEUE, ZAI_MODEL, generateJobId, newBatchId, newGenerationId, redisKeys, type BatchRecord, type GenerationRecord } from '@darkroom/shared';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

export interface SeedItem {
  prompt: string;
  custom_id?: string;
}

const RING_ADD = `if not redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('RPUSH', KEYS[1], ARGV[1]) end`;

/** Same signature as h-batch-worker's e2e/test/batch-seed.ts, which replaces this file at merge. */
export async function seedBatch(stack: Stack, items: SeedItem[], opts: { metadata?: Record<string, unknown>; created_at?: number } = {}): Promise<{ id: string; ids: string[] }> {
  const keys = redisKeys(stack.prefix);
  const id = newBatchId();
  const now = opts.created_at ?? Date.now();
  const tenant = stack.tenant;
  await stack.redis.hset(keys.batch(id), {
    id,
    tenant,
    status: 'validating',
    total: items.length,
    created_at: now,
    updated_at: now,
    ...(opts.metadata ? { metadata: JSON.stringify(opts.metadata) } : {}),
  });
  const records: GenerationRecord[] = items.map((item, index) => ({
    id: newGenerationId(),
    tenant,
    status: 'queued',
    request: { model: ZAI_MODEL, prompt: item.prompt, quality: 'standard', size: '512x512' },
    created_at: now,
    updated_at: now,
    attempts: 0,
    paid_generations: 0,
    regenerations: 0,
    batch_id: id,
    batch_index: index,
    ...(item.custom_id === undefined ? {} : { custom_id: item.custom_id }),
  }));
  await new GenerationStore(stack.redis, keys).createMany(records);
  const ids = records.map((r) => r.id);
  const tx = stack.redis.multi().zadd(keys.tenantBatches(tenant), now, id);
  if (ids.length) tx.rpush(keys.batchItems(id), ...ids).rpush(keys.tenantPending(tenant), ...ids);
  await tx.eval(RING_ADD, 1, keys.dispatchRing, tenant).hset(keys.batch(id), { status: 'in_progress', in_progress_at: Date.now(), updated_at: Date.now() }).exec();
  return { id, ids };
}

/** Hands the tenant's pending items to the generate queue, as the dispatcher would. */
export async function dispatchPending(stack: Stack): Promise<void> {
  const keys = redisKeys(stack.prefix);
  for (;;) {
    const id = await stack.redis.lpop(keys.tenantPending(stack.tenant));
    if (id === null) break;
    await stack.queues.generate.add(QUEUE.generate, { v: 1, id, tenant: stack.tenant }, { jobId: generateJobId(id, 0), priority: 1 });
  }
  await stack.redis.lrem(keys.dispatchRing, 0, stack.tenant);
}

export async function waitForBatch(stack: Stack, id: string, statuses: string[], timeoutMs = 30_000): Promise<BatchRecord> {
  const batches = new BatchStore(stack.redis, redisKeys(stack.prefix));
  return waitUntil(
    async () => {
      const batch = await batches.get(id);
      return batch && statuses.includes(batch.status) ? batch : undefined;
    },
    `batch ${id} to reach ${statuses.join('|')}`,
    timeoutMs,
  );
}
