/**
 * The batch record: one Redis hash per batch (keys.batch), its generation ids in input order
 * (keys.batchItems) and the tenant's batches by creation time (keys.tenantBatches). Each item is an
 * ordinary generation record with `batch_id`, `custom_id` and `batch_index`.
 *
 * Life: `validating` while the API writes the items; `in_progress` once all are written and handed
 * to the dispatcher; `canceling` after a cancel, until every item has ended; `finalizing` when the
 * last item ends (set in the same script as that item's status, generation-record.ts move()); then
 * `completed`, `canceled` or `expired` once the results file is in S3 and `batch.completed` is queued.
 *
 * Counters (`total`, `running`, `succeeded`, `failed`, `canceled`) are only changed by move(), so
 * they stay exact under retries, crashes and concurrent workers; `queued` is what is left.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RedisKeys } from './keys.ts';

export const BATCH_STATUSES = ['validating', 'in_progress', 'finalizing', 'completed', 'canceling', 'canceled', 'expired'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];
export const BATCH_FINAL: ReadonlySet<BatchStatus> = new Set(['completed', 'canceled', 'expired']);

export function newBatchId(): string {
  return `batch_${randomUUID().replaceAll('-', '')}`;
}
export const BATCH_ID = /^batch_[0-9a-f]{32}$/;

const num = z.coerce.number();
const count = num.default(0);
const jsonObject = z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as Record<string, unknown>;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'invalid JSON' });
    return z.NEVER;
  }
});

const batchSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  status: z.enum(BATCH_STATUSES),
  created_at: num,
  updated_at: num,
  in_progress_at: num.optional(),
  first_started_at: num.optional(),
  canceling_at: num.optional(),
  finalizing_at: num.optional(),
  completed_at: num.optional(),
  /** Epoch ms: items that have not called Z.AI by then are canceled, and the batch ends `expired`. */
  cancel_after: num.optional(),
  webhook_url: z.string().optional(),
  /** '1': every item sends its own image.generation.* event as well. */
  item_webhooks: z.literal('1').optional(),
  metadata: jsonObject.optional(),
  total: count,
  running: count,
  succeeded: count,
  failed: count,
  canceled: count,
  /** The results file in S3, once written. */
  results_bucket: z.string().optional(),
  results_key: z.string().optional(),
  results_bytes: num.optional(),
  /** The webhook state of batch.completed, like a generation's `webhook`. */
  webhook: jsonObject.optional(),
});
export type BatchRecord = z.output<typeof batchSchema>;

export class BatchStore {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async get(id: string): Promise<BatchRecord | undefined> {
    const raw = await this.#redis.hgetall(this.#keys.batch(id));
    if (!raw.id) return undefined;
    return batchSchema.parse(raw);
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** The batch object callers see (GET /v1/batches/:id) and the `data` of `batch.completed`. */
export function toBatchView(batch: BatchRecord, opts: { pricePerImage?: number | undefined; resultsUrl?: string | undefined; now?: number } = {}) {
  const ended = batch.succeeded + batch.failed + batch.canceled;
  const queued = Math.max(0, batch.total - ended - batch.running);
  const now = opts.now ?? Date.now();
  let estimated: number | undefined;
  if (batch.first_started_at !== undefined && ended > 0 && !BATCH_FINAL.has(batch.status)) {
    const rate = ended / Math.max(1, now - batch.first_started_at);
    estimated = now + Math.round((batch.total - ended) / rate);
  }
  return {
    id: batch.id,
    object: 'batch' as const,
    status: batch.status,
    request_counts: { total: batch.total, queued, running: batch.running, succeeded: batch.succeeded, failed: batch.failed, canceled: batch.canceled },
    created_at: iso(batch.created_at),
    in_progress_at: iso(batch.in_progress_at),
    canceling_at: iso(batch.canceling_at),
    finalizing_at: iso(batch.finalizing_at),
    completed_at: iso(batch.completed_at),
    cancel_after: iso(batch.cancel_after),
    estimated_completion_at: iso(estimated),
    webhook_url: batch.webhook_url ?? null,
    item_webhooks: batch.item_webhooks === '1',
    metadata: batch.metadata ?? null,
    results: batch.results_key ? { bucket: batch.results_bucket ?? null, key: batch.results_key, bytes: batch.results_bytes ?? null, url: opts.resultsUrl ?? null } : null,
    estimated_cost:
      opts.pricePerImage === undefined
        ? null
        : { per_image: opts.pricePerImage, images: batch.total - batch.canceled, total: Number(((batch.total - batch.canceled) * opts.pricePerImage).toFixed(6)) },
  };
}
export type BatchView = ReturnType<typeof toBatchView>;
