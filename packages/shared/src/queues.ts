/**
 * The job catalog: every queue, its job name, payload schema and retry policy. Both apps import
 * this and nothing else decides queue names or attempts. Processors parse `job.data` with the
 * payload schema first: an older deploy may have written it.
 *
 * generate  → calls Z.AI (paid) and saves its answer on the record, then enqueues store
 * store     → copies the image into S3 and verifies it, then enqueues notify
 * notify    → delivers one signed webhook event on its own retry schedule
 * finalize  → once every item of a batch has ended: its results file into S3, its final status,
 *             and its batch.completed event; also (job name BATCH_CANCEL_JOB) the sweep that
 *             cancels the queued items of a canceled batch (batch-cancel.ts)
 * retries   → runs one admin bulk retry (retry-record.ts): walks the matching ids page by page, reopens each
 */
import { Queue, type ConnectionOptions, type JobsOptions, type Telemetry } from 'bullmq';
import { z } from 'zod';
import type { Config } from './config.ts';
import { TransientError } from './errors.ts';

export const QUEUE = { generate: 'generate', store: 'store', notify: 'notify', finalize: 'finalize', retries: 'retries' } as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

export const WEBHOOK_EVENTS = ['image.generation.succeeded', 'image.generation.failed', 'image.generation.canceled', 'batch.completed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Name of the custom backoff the notify worker implements from WEBHOOK_RETRY_SCHEDULE. */
export const WEBHOOK_BACKOFF = 'webhook-schedule';
/** Name of the custom backoff of generate jobs: exponential with jitter, floored by the error's retryAfterMs. */
export const ZAI_BACKOFF = 'zai-backoff';
/** Name of the custom backoff of store jobs: exponential with jitter, capped at STORE_BACKOFF_MAX_MS. */
export const STORE_BACKOFF = 'store-backoff';

export const generatePayload = z.object({ v: z.literal(1), id: z.string().min(1), tenant: z.string().min(1) });
/** @alias The store stage names the same generation. */
export const storePayload = generatePayload;
export const notifyPayload = z.object({
  v: z.literal(1),
  id: z.string().min(1),
  tenant: z.string().min(1),
  event: z.enum(WEBHOOK_EVENTS),
  webhook_id: z.string().min(1),
  url: z.string().url(),
  /** The exact body, serialised once, so every attempt sends the same bytes. */
  body: z.string(),
});
/** The name of the finalize queue's other job: the item sweep of a canceled batch (same payload). */
export const BATCH_CANCEL_JOB = 'cancel';
/** A batch whose every item has ended, or (BATCH_CANCEL_JOB) that was canceled (`id` is the batch id). */
export const finalizePayload = z.object({ v: z.literal(1), id: z.string().min(1), tenant: z.string().min(1) });
export const retriesPayload = z.object({ v: z.literal(1), retry_id: z.string().min(1) });
export type RetriesPayload = z.infer<typeof retriesPayload>;
export type GeneratePayload = z.infer<typeof generatePayload>;
export type StorePayload = z.infer<typeof storePayload>;
export type NotifyPayload = z.infer<typeof notifyPayload>;
export type FinalizePayload = z.infer<typeof finalizePayload>;

/**
 * BullMQ's own attempt cap for stages whose retries the worker decides: a job carries no attempts,
 * backoff or retention of the process that enqueued it (an API of another deploy may have), only
 * the name of a backoff the worker implements from ITS configuration; settle() in the worker ends
 * the job. Jobs written by older deploys carry their own numbers, and BullMQ still honours those.
 */
export const WORKER_DECIDES_ATTEMPTS = Number.MAX_SAFE_INTEGER;

/**
 * Options every job of a queue is added with. Retention (removeOnComplete/removeOnFail) is left to
 * the Worker options: BullMQ uses a job's own setting when it has one, the worker's otherwise.
 * Notify jobs take the adding process's WEBHOOK_RETRY_SCHEDULE: a worker's, or the API's for the
 * `not_enqueued` failures it announces (configure both alike).
 */
export function jobOptions(config: Config): Record<QueueName, JobsOptions> {
  const schedule = config.webhooks.retryScheduleMs;
  return {
    generate: { attempts: WORKER_DECIDES_ATTEMPTS, backoff: { type: ZAI_BACKOFF } },
    store: { attempts: WORKER_DECIDES_ATTEMPTS, backoff: { type: STORE_BACKOFF } },
    notify: { attempts: schedule.length, backoff: { type: WEBHOOK_BACKOFF }, delay: schedule[0] ?? 0 },
    // Retried (S3 away) on the store stage's capped backoff until it succeeds: a batch always ends.
    finalize: { attempts: WORKER_DECIDES_ATTEMPTS, backoff: { type: STORE_BACKOFF } },
    // A bulk retry resumes from its saved position, so a crashed run is simply run again.
    retries: { attempts: 5, backoff: { type: 'exponential', delay: 1_000 } },
  };
}

/** How long a worker keeps finished BullMQ jobs: the same retention as the records. */
export function keepJobs(config: Config): { removeOnComplete: { age: number }; removeOnFail: { age: number } } {
  return {
    removeOnComplete: { age: config.retention.succeededSeconds },
    removeOnFail: { age: config.retention.failedSeconds },
  };
}

/**
 * Delay before generate attempt `attemptsMade + 1`: BullMQ's exponential backoff with 50% jitter,
 * but never shorter than what the error asks for (TransientError.retryAfterMs).
 */
export function zaiRetryDelay(baseMs: number, attemptsMade: number, err: unknown, random = Math.random): number {
  const exponential = baseMs * 2 ** Math.max(attemptsMade - 1, 0);
  const jittered = Math.round(exponential * (1 - 0.5 * random()));
  return Math.max(jittered, err instanceof TransientError ? err.retryAfterMs : 0);
}

/** Delay before store attempt `attemptsMade + 1`: 50–100% of `base × 2^(n−1)`, the exponential capped at `maxMs`. */
export function storeRetryDelay(store: Config['store'], attemptsMade: number, random = Math.random): number {
  const exponential = Math.min(store.backoffMaxMs, store.backoffMs * 2 ** Math.min(Math.max(attemptsMade - 1, 0), 52));
  return Math.round(exponential * (1 - 0.5 * random()));
}

/**
 * Delay before notify attempt `attemptsMade + 1`, from WEBHOOK_RETRY_SCHEDULE; a receiver's
 * Retry-After (TransientError.retryAfterMs) may push it later, up to the schedule's longest delay,
 * so the whole span stays within what loadConfig checked against the presign lifetime.
 */
export function webhookRetryDelay(scheduleMs: readonly number[], attemptsMade: number, err?: unknown): number {
  const scheduled = scheduleMs[Math.min(attemptsMade, scheduleMs.length - 1)] ?? 0;
  const asked = err instanceof TransientError ? Math.min(err.retryAfterMs, Math.max(0, ...scheduleMs)) : 0;
  return Math.max(scheduled, asked);
}

export interface Queues {
  generate: Queue<GeneratePayload>;
  store: Queue<StorePayload>;
  notify: Queue<NotifyPayload>;
  finalize: Queue<FinalizePayload>;
  retries: Queue<RetriesPayload>;
  close(): Promise<void>;
}

/** `telemetry` (tracing.ts) makes every add carry the active trace context into the job. */
export function createQueues(connection: ConnectionOptions, config: Config, telemetry?: Telemetry): Queues {
  const opts = jobOptions(config);
  const make = <T>(name: QueueName) =>
    new Queue<T>(name, { connection, prefix: config.redis.prefix, defaultJobOptions: opts[name], ...(telemetry ? { telemetry } : {}) });
  const generate = make<GeneratePayload>(QUEUE.generate);
  const store = make<StorePayload>(QUEUE.store);
  const notify = make<NotifyPayload>(QUEUE.notify);
  const finalize = make<FinalizePayload>(QUEUE.finalize);
  const retries = make<RetriesPayload>(QUEUE.retries);
  return {
    generate,
    store,
    notify,
    finalize,
    retries,
    close: async () => {
      await Promise.all([generate.close(), store.close(), notify.close(), finalize.close(), retries.close()]);
    },
  };
}

/**
 * The generate job of a generation's paid round (0, then one per regeneration) in its `retry`-th
 * life (0 until an admin retries it; each retry starts again at round 0 under a new id).
 */
export function generateJobId(id: string, round: number, retry = 0): string {
  const base = retry === 0 ? id : `${id}-t${retry}`;
  return round === 0 ? base : `${base}-r${round}`;
}
/** The life (`retries`) a generate or store job id belongs to. */
export function retryOfJobId(jobId: string): number {
  const m = /-t(\d+)(?:-r\d+)?$/.exec(jobId);
  return m ? Number(m[1]) : 0;
}
/** The store job of a generation's paid round in its `retry`-th life. */
export function storeJobId(id: string, round: number, retry = 0): string {
  return retry === 0 ? `${id}-r${round}` : `${id}-t${retry}-r${round}`;
}

/** The finalize job of a batch: one per batch, so the dispatcher may re-add it on every tick. */
export function finalizeJobId(batchId: string, reopened = 0): string {
  return reopened === 0 ? `finalize-${batchId}` : `finalize-${batchId}-${reopened}`;
}

/** The item sweep of a canceled batch: one per batch (a batch is canceled once). */
export function batchCancelJobId(batchId: string): string {
  return `cancel-${batchId}`;
}

/**
 * Enqueues stage work under a deterministic job id, so a repeat after a crash is a no-op rather
 * than a second job (BullMQ ignores an add whose id exists).
 */
export async function enqueueGenerate(queues: Queues, p: Omit<GeneratePayload, 'v'>, round = 0, retry = 0, priority?: number): Promise<void> {
  await queues.generate.add(QUEUE.generate, { v: 1, ...p }, { jobId: generateJobId(p.id, round, retry), ...(priority ? { priority } : {}) });
}
export async function enqueueStore(queues: Queues, p: Omit<StorePayload, 'v'>, round = 0, retry = 0): Promise<void> {
  await queues.store.add(QUEUE.store, { v: 1, ...p }, { jobId: storeJobId(p.id, round, retry) });
}
/** Starts (or, a repeat, leaves alone) the background run of bulk retry `id`. */
export async function enqueueRetries(queues: Queues, retryId: string): Promise<void> {
  await queues.retries.add(QUEUE.retries, { v: 1, retry_id: retryId }, { jobId: retryId });
}
export async function enqueueNotify(queues: Queues, p: Omit<NotifyPayload, 'v'>): Promise<void> {
  await queues.notify.add(QUEUE.notify, { v: 1, ...p }, { jobId: p.webhook_id });
}
export async function enqueueFinalize(queues: Queues, p: Omit<FinalizePayload, 'v'>): Promise<void> {
  await queues.finalize.add(QUEUE.finalize, { v: 1, ...p }, { jobId: finalizeJobId(p.id) });
}
/** Starts (or, a repeat, leaves alone) the item sweep of canceled batch `p.id`. */
export async function enqueueBatchCancel(queues: Queues, p: Omit<FinalizePayload, 'v'>): Promise<void> {
  await queues.finalize.add(BATCH_CANCEL_JOB, { v: 1, ...p }, { jobId: batchCancelJobId(p.id) });
}
