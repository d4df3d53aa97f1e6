/**
 * An admin retry of one generation, without ever paying Z.AI twice for an image already paid for:
 * - failed, with a saved answer whose URL is still valid (Z.AI's `created` + ZAI_URL_TTL_HOURS,
 *   less a margin for the copy itself): back to the store stage only, which copies the saved URL;
 * - failed without an answer, or with an expired URL: back to `queued`, a new paid call;
 * - succeeded (the image is in S3): nothing runs again; its webhook is sent again only if asked;
 * - failed while a Z.AI call may still be in flight (`calling_until` ahead): skipped (`calling`), so
 *   the retry never starts a second paid call beside it;
 * - queued or storing after an earlier retry, with no job for its current round (a crash between
 *   the reopen and the enqueue): its job is added again, `resumed`; a job that exists is left alone;
 * - anything else is skipped, with the reason.
 * A retry clears `cancel_after`: the admin asked for it to run. A batch item is not reopened once
 * its batch was canceled or completed longer ago than `batchWindowMs` (its other items may be gone).
 * The record keeps its id; the round that ended goes into `history`; `retries` counts the rounds,
 * so the new round's BullMQ jobs and webhook have ids of their own (queues.ts, job-view.ts).
 * Admission: a retry does not count against TENANT_MAX_UNFINISHED (an admin's decision after an
 * outage must not be refused by the tenant's own limit); the retried records do enter the open
 * index, so the tenant's new requests wait for them like for any unfinished work.
 */
import { ZAI_URL_TTL_HOURS } from './config.ts';
import type { GenerationRecord, GenerationStore, RetryRound } from './generation-record.ts';
import { resendEvent } from './generation-announce.ts';
import type { ImageLinker } from './image-links.ts';
import { enqueueGenerate, enqueueStore, generateJobId, storeJobId, type Queues } from './queues.ts';

/** A saved URL this close to its expiry is treated as expired: the copy would not finish in time. */
export const URL_MARGIN_MS = 3_600_000;

export type RetryAction = 'store' | 'generate' | 'resend_webhook';
export type SkipReason = 'not_failed' | 'succeeded' | 'canceled' | 'content_filtered' | 'no_webhook_url' | 'gone' | 'batch_closed' | 'calling';
export type RetryPlan = { action: RetryAction; resumed?: true } | { skip: SkipReason };

export interface RetryOptions {
  /** Re-send the webhook of a succeeded generation (never runs it again). */
  resendWebhook?: boolean;
  /** The admin token name, kept in the history. */
  by: string;
  /** The bulk retry asking (its id), kept in the history. */
  retryId?: string | undefined;
  now?: number;
}

/** Whether the saved answer's temporary URL can still be copied at `now`. */
export function savedUrlValid(record: GenerationRecord, now: number): boolean {
  if (!record.zai) return false;
  const created = record.zai.created > 0 ? record.zai.created * 1000 : record.zai.received_at;
  return created + ZAI_URL_TTL_HOURS * 3_600_000 - URL_MARGIN_MS > now;
}

/** What a retry would do to `record`, its job assumed present (see planRetryNow). */
export function planRetry(record: GenerationRecord | undefined, opts: { resendWebhook?: boolean | undefined; now: number }): RetryPlan {
  if (!record) return { skip: 'gone' };
  if (record.status === 'succeeded') {
    if (!opts.resendWebhook) return { skip: 'succeeded' };
    return record.webhook_url ? { action: 'resend_webhook' } : { skip: 'no_webhook_url' };
  }
  if (record.status === 'canceled') return { skip: 'canceled' };
  if (record.status !== 'failed') return { skip: 'not_failed' };
  // Its answer is paid and fails the content filter: a store would keep it, a new call would pay again.
  if (record.error?.code === 'content_filtered') return { skip: 'content_filtered' };
  if (record.calling_until !== undefined && record.calling_until > opts.now) return { skip: 'calling' };
  return { action: savedUrlValid(record, opts.now) ? 'store' : 'generate' };
}

export interface RetryDeps {
  generations: GenerationStore;
  queues: Queues;
  links: ImageLinker;
  /** The shortest record retention, in ms: a batch completed longer ago may have lost items. */
  batchWindowMs: number;
}

export type RetryOutcome = { retried: RetryAction; resumed?: true } | { skipped: SkipReason };

/** The history entry of the round that ended: its own attempts and payments, not earlier rounds'. */
function roundOf(record: GenerationRecord, opts: RetryOptions, now: number): RetryRound {
  const earlier = record.history ?? [];
  const sum = (f: 'attempts' | 'paid_generations') => earlier.reduce((n, r) => n + r[f], 0);
  return {
    status: record.status,
    error: record.error ?? null,
    failed_stage: record.failed_stage ?? null,
    started_at: record.started_at ?? null,
    completed_at: record.completed_at ?? null,
    attempts: record.attempts - sum('attempts'),
    paid_generations: record.paid_generations - sum('paid_generations'),
    retried_at: now,
    retried_by: opts.by,
    ...(opts.retryId ? { retry_id: opts.retryId } : {}),
  };
}

/** Retries generation `id` (see the module comment); safe to repeat and to race. */
export async function retryGeneration(deps: RetryDeps, id: string, opts: RetryOptions): Promise<RetryOutcome> {
  for (;;) {
    const now = opts.now ?? Date.now();
    const record = await deps.generations.get(id);
    const resumed = record && (await resumeRound(deps, record));
    if (resumed) return { retried: resumed, resumed: true };
    const plan = planRetry(record, { resendWebhook: opts.resendWebhook, now });
    if ('skip' in plan || !record) return { skipped: 'skip' in plan ? plan.skip : 'gone' };
    if (plan.action === 'resend_webhook') {
      await resendWebhook(deps, record);
      return { retried: plan.action };
    }
    const retry = (record.retries ?? 0) + 1;
    const toStore = plan.action === 'store';
    const fields = {
      retries: retry,
      retried_at: now,
      history: [...(record.history ?? []), roundOf(record, opts, now)],
      regenerations: 0,
      error: null,
      failed_stage: null,
      started_at: null,
      completed_at: null,
      next_attempt_at: null,
      calling_until: null,
      last_error: null,
      webhook: null,
      cancel_after: null,
      ...(toStore ? {} : { zai: null }),
    };
    const reopened = await deps.generations.reopen(id, toStore ? 'storing' : 'queued', fields, record.retries ?? 0, deps.batchWindowMs);
    if (reopened === 'reread') continue;
    if (reopened !== 'reopened') return { skipped: reopened };
    await enqueueRound(deps.queues, record, toStore ? 'store' : 'generate', 0, retry);
    return { retried: plan.action };
  }
}

async function enqueueRound(queues: Queues, record: GenerationRecord, stage: 'store' | 'generate', round: number, retry: number): Promise<void> {
  const job = { id: record.id, tenant: record.tenant };
  // Batch items queue behind interactive work, as the batch dispatcher adds them.
  if (stage === 'store') await enqueueStore(queues, job, round, retry);
  else await enqueueGenerate(queues, job, round, retry, record.batch_id ? 1 : undefined);
}

/** The stage whose job a retried record left queued or storing by a crash lacks; undefined if none is missing. */
async function missingRound(queues: Queues, record: GenerationRecord): Promise<'store' | 'generate' | undefined> {
  const retry = record.retries ?? 0;
  if (retry === 0 || (record.status !== 'queued' && record.status !== 'storing')) return undefined;
  const round = record.regenerations;
  const stage = record.status === 'storing' ? 'store' : 'generate';
  const queue = stage === 'store' ? queues.store : queues.generate;
  const jobId = stage === 'store' ? storeJobId(record.id, round, retry) : generateJobId(record.id, round, retry);
  return (await queue.getJob(jobId)) ? undefined : stage;
}

/** Adds the missing job of a retried record left queued or storing by a crash; undefined if none is missing. */
export async function resumeRound(deps: Pick<RetryDeps, 'queues'>, record: GenerationRecord): Promise<'store' | 'generate' | undefined> {
  const stage = await missingRound(deps.queues, record);
  if (stage) await enqueueRound(deps.queues, record, stage, record.regenerations, record.retries ?? 0);
  return stage;
}

/** What a retry would do to `record` now, a missing job included (the dry run counts these). */
export async function planRetryNow(queues: Queues, record: GenerationRecord | undefined, opts: { resendWebhook?: boolean | undefined; now: number }): Promise<RetryPlan> {
  const missing = record && (await missingRound(queues, record));
  return missing ? { action: missing, resumed: true } : planRetry(record, opts);
}

async function resendWebhook(deps: RetryDeps, record: GenerationRecord): Promise<void> {
  if (!record.webhook_url) return;
  const resend = (record.webhook_resends ?? 0) + 1;
  await deps.generations.update(record.id, { webhook_resends: resend });
  await resendEvent(deps, record, resend);
}
