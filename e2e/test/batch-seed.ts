/**
 * Writes an ACCEPTED batch exactly as the batch contract (notes/batch-contract.md) says the API
 * leaves one in Redis, until POST /v1/batches lands: item records (createMany, `queued`, with
 * batch_id, custom_id, batch_index, cancel_after, and webhook_url only with item_webhooks), the
 * batch hash (`in_progress`), its item list, the tenant's batch index, the tenant's pending list,
 * and the tenant once in the dispatch ring. Also the caller's cancel, as the API will do it.
 */
import { randomUUID } from 'node:crypto';
import { BatchStore, newBatchId, newGenerationId, redisKeys, type BatchRecord, type BatchResultLine, type GenerationRecord } from '@darkroom/shared';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

export interface SeedItem {
  prompt: string;
  custom_id?: string;
  size?: string;
}

export interface SeedOptions {
  tenant?: string;
  webhook_url?: string;
  item_webhooks?: boolean;
  metadata?: Record<string, unknown>;
  /** Epoch ms. */
  cancel_after?: number;
  /** Epoch ms; now by default. */
  created_at?: number;
}

// RPUSH the ids to the tenant's pending list and put the tenant in the ring unless it is there.
const HAND_OVER = `
for i = 1, #ARGV - 1 do redis.call('RPUSH', KEYS[1], ARGV[i]) end
if not redis.call('LPOS', KEYS[2], ARGV[#ARGV]) then redis.call('RPUSH', KEYS[2], ARGV[#ARGV]) end
return 1`;

export async function seedBatch(stack: Stack, items: SeedItem[], opts: SeedOptions = {}): Promise<{ id: string; ids: string[] }> {
  const keys = redisKeys(stack.prefix);
  const tenant = opts.tenant ?? stack.tenant;
  const id = newBatchId();
  const now = opts.created_at ?? Date.now();
  const records: GenerationRecord[] = items.map((item, index) => ({
    id: newGenerationId(),
    tenant,
    status: 'queued',
    request: { model: 'cogview-4-250304', prompt: item.prompt, quality: 'standard', size: item.size ?? '512x512' },
    ...(opts.item_webhooks && opts.webhook_url ? { webhook_url: opts.webhook_url } : {}),
    created_at: now,
    updated_at: now,
    attempts: 0,
    paid_generations: 0,
    regenerations: 0,
    batch_id: id,
    ...(item.custom_id === undefined ? {} : { custom_id: item.custom_id }),
    batch_index: index,
    ...(opts.cancel_after === undefined ? {} : { cancel_after: opts.cancel_after }),
  }));
  const batch: Record<string, string> = { id, tenant, status: 'validating', total: String(items.length), created_at: String(now), updated_at: String(now) };
  if (opts.webhook_url) batch.webhook_url = opts.webhook_url;
  if (opts.item_webhooks) batch.item_webhooks = '1';
  if (opts.metadata) batch.metadata = JSON.stringify(opts.metadata);
  if (opts.cancel_after !== undefined) batch.cancel_after = String(opts.cancel_after);
  await stack.redis.hset(keys.batch(id), batch);
  await stack.generations.createMany(records);
  const ids = records.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 1000) await stack.redis.rpush(keys.batchItems(id), ...ids.slice(i, i + 1000));
  await stack.redis.zadd(keys.tenantBatches(tenant), now, id);
  await stack.redis.hset(keys.batch(id), 'status', 'in_progress', 'in_progress_at', String(Date.now()));
  await stack.redis.eval(HAND_OVER, 2, keys.tenantPending(tenant), keys.dispatchRing, ...ids, tenant);
  return { id, ids };
}

/** The caller's cancel: the batch `canceling`, then every item that has not called Z.AI canceled. */
export async function cancelBatch(stack: Stack, batchId: string): Promise<number> {
  const keys = redisKeys(stack.prefix);
  const now = String(Date.now());
  await stack.redis.hset(keys.batch(batchId), 'status', 'canceling', 'canceling_at', now, 'updated_at', now);
  let canceled = 0;
  for (const id of await stack.redis.lrange(keys.batchItems(batchId), 0, -1)) {
    if (await stack.generations.cancel(id, { code: 'canceled', message: 'the batch was canceled' }, 3600)) canceled++;
  }
  return canceled;
}

export const uniquePrompt = (label: string, i: number) => `${label} ${i} ${randomUUID().slice(0, 8)}`;

export async function waitForBatch(stack: Stack, id: string, statuses: string[], timeoutMs = 120_000): Promise<BatchRecord> {
  const batches = new BatchStore(stack.redis, redisKeys(stack.prefix));
  return waitUntil(
    async () => {
      const batch = await batches.get(id);
      return batch && statuses.includes(batch.status) ? batch : undefined;
    },
    `batch ${id} to reach ${statuses.join('|')}`,
    timeoutMs,
    100,
  );
}

/** GET /v1/batches/:id/results.jsonl, parsed, with the answer's status and content type. */
export async function fetchResults(stack: Stack, id: string, apiKey = stack.apiKey): Promise<{ status: number; type: string; lines: BatchResultLine[] }> {
  const res = await fetch(`${stack.apiUrl}/v1/batches/${id}/results.jsonl`, { headers: { authorization: `Bearer ${apiKey}` } });
  const text = await res.text();
  const lines = res.status === 200 ? text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as BatchResultLine) : [];
  return { status: res.status, type: res.headers.get('content-type') ?? '', lines };
}

/** Waits until no notify job is left to run, so a second delivery would already have been made. */
export async function notifyDrained(stack: Stack): Promise<void> {
  await waitUntil(
    async () => {
      const counts = await stack.queues.notify.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(counts).every((n) => n === 0) ? true : undefined;
    },
    'the notify queue to drain',
    30_000,
  );
}
