/**
 * Runs one admin bulk retry (retry-record.ts). First the dry-run counts (`planned`), taken once.
 * Then the walk: the ids given, or the filter's index newest first by its search cursor (created_at
 * and id, never an offset: a retried generation leaving the `failed` index shifts no one), one page
 * of RETRY_PAGE_SIZE at a time, so memory does not grow with the number matched. Each generation is
 * retried (generation-retry.ts decides how, never paying twice) or skipped with a reason; an abort
 * is seen before the next one.
 * Exactly once: before a generation the runner reads it again and saves it as `current` (with its
 * `webhook_resends` as read), after it the cursor past it with its count. A reopen names the retry
 * in the round it ends (`retry_id`). A run that finds a `current` left by a crash finishes that one
 * first: if a round of its history names this retry, the crashed run had reopened it, and only a
 * job the crash left out is added (`resumed`); it is never reopened again, even if it has failed
 * since. A `retries` that went up proves nothing: another admin's retry may have reopened it, and
 * it may have failed again. If its `webhook_resends` went up, the crashed run had re-sent its
 * webhook: only a message the crash left out is queued (`resumed`), never a second re-send.
 * Otherwise it is retried as usual. The walk then goes on past it, so none is retried or counted
 * twice.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import {
  RetryStore,
  countRetry,
  decodeCursor,
  planRetry,
  resumeRound,
  retriesPayload,
  retryGeneration,
  requeueResend,
  searchGenerations,
  type GenerationRecord,
  type Logger,
  type RetryIntent,
  type RetryOutcome,
  type RetryRecord,
} from '@darkroom/shared';
import type { WorkerContext } from '../context.ts';

interface Step {
  id: string;
  /** The cursor just past this one. */
  cursor: string;
}

interface Page {
  steps: Step[];
  /** Where the next page starts; null at the end. */
  next: string | null;
}

/** The pages of the walk from `from` (a saved cursor; undefined at the start). */
async function readPage(ctx: WorkerContext, store: RetryStore, retry: RetryRecord, from: string | undefined, size: number): Promise<Page> {
  if (retry.snapshotted === '1' || retry.request.ids) {
    const at = from === undefined ? 0 : Number(from);
    const ids = retry.snapshotted === '1' ? await store.ids(retry.id, at, size) : [...new Set(retry.request.ids)].slice(at, at + size);
    const steps = ids.map((id, n) => ({ id, cursor: String(at + n + 1) }));
    return { steps, next: ids.length < size ? null : String(at + ids.length) };
  }
  const cursor = from === undefined ? undefined : decodeCursor(from);
  const page = await searchGenerations(ctx, retry.request.filter ?? {}, { cursor, limit: size });
  const steps = page.items.map((record, n) => ({ id: record.id, cursor: page.cursors[n] ?? '' }));
  return { steps, next: page.next_cursor };
}

export async function processRetries(ctx: WorkerContext, job: Job): Promise<void> {
  const payload = retriesPayload.safeParse(job.data);
  if (!payload.success) throw new UnrecoverableError(`unreadable retries job: ${payload.error.message}`);
  const store = new RetryStore(ctx.redis, ctx.keys);
  const log = ctx.log.child({ jobId: job.id, retry: payload.data.retry_id, stage: 'retries' });
  try {
    await run(ctx, store, payload.data.retry_id, log);
  } catch (err) {
    // The last attempt ends the retry object too, so it never shows `running` with nothing running it.
    if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
      log.error({ err }, 'bulk retry failed on its last attempt: aborted');
      await store.finish(payload.data.retry_id, 'aborted');
    }
    throw err;
  }
}

async function run(ctx: WorkerContext, store: RetryStore, retryId: string, log: Logger): Promise<void> {
  let retry = await store.get(retryId);
  if (!retry || retry.status !== 'running') return;
  if (!retry.planned) {
    await store.plan(retry.id, await countRetry(ctx, retry.request));
    retry = await store.get(retry.id);
    if (!retry) return;
    log.info({ matched: retry.matched, planned: retry.planned }, 'bulk retry: matching generations counted');
  }
  const { id, who, request } = retry;
  const batchWindowMs = Math.min(ctx.config.retention.succeededSeconds, ctx.config.retention.failedSeconds) * 1000;
  const deps = { generations: ctx.generations, queues: ctx.queues, links: ctx.links, batchWindowMs };
  const opts = { resendWebhook: request.resend_webhook, by: who, retryId: id };
  let done = retry.position;
  const matched = retry.matched;
  // A snapshotted id list (a record from before the walk) keeps its place in `position`.
  let from = retry.snapshotted === '1' ? String(retry.position) : retry.cursor;

  if (retry.current) {
    const outcome = await finishCrashed(deps, retry.current, opts);
    await store.progress(id, outcome, { cursor: retry.current.cursor, done: ++done, matched });
    from = retry.current.cursor;
    log.warn({ generation: retry.current.id, outcome }, 'bulk retry: the generation a crashed run was retrying is finished');
  }
  for (;;) {
    const page = await readPage(ctx, store, retry, from, ctx.config.worker.retryPageSize);
    for (const step of page.steps) {
      if ((await store.get(id))?.status !== 'running') {
        log.warn({ done }, 'bulk retry aborted');
        return;
      }
      // Read now, not with the page: the intent must hold what the record was just before the retry.
      const record = await ctx.generations.get(step.id);
      const plan = planRetry(record, { resendWebhook: request.resend_webhook, now: Date.now() });
      const intent = { id: step.id, cursor: step.cursor, retries: record?.retries ?? 0, webhook_resends: record?.webhook_resends ?? 0 };
      await store.begin(id, { ...intent, action: 'action' in plan ? plan.action : null });
      const outcome = await retryGeneration(deps, step.id, opts);
      await store.progress(id, outcome, { cursor: step.cursor, done: ++done, matched });
    }
    if (page.next === null) break;
    from = page.next;
    await store.skipTo(id, from);
  }
  if (await store.finish(id, 'completed')) log.info({ matched: retry.matched, done }, 'bulk retry completed');
}

type RetryRunOptions = Parameters<typeof retryGeneration>[2] & { retryId: string };

/** The outcome of the generation a crashed run was retrying (see the module comment). */
async function finishCrashed(deps: Parameters<typeof retryGeneration>[0], intent: RetryIntent, opts: RetryRunOptions): Promise<RetryOutcome> {
  const record = await deps.generations.get(intent.id);
  if (!record) return retryGeneration(deps, intent.id, opts);
  if (reopenedBy(record, opts.retryId, intent)) {
    const resumed = await resumeRound(deps, record);
    if (resumed) return { retried: resumed, resumed: true };
    return intent.action ? { retried: intent.action } : { skipped: 'not_failed' };
  }
  if (opts.resendWebhook && intent.webhook_resends !== undefined && (record.webhook_resends ?? 0) > intent.webhook_resends) {
    return (await requeueResend(deps, record, intent.webhook_resends + 1)) ? { retried: 'resend_webhook', resumed: true } : { retried: 'resend_webhook' };
  }
  return retryGeneration(deps, intent.id, opts);
}

/** Whether the crashed run of `retryId` had reopened `record`. Older intents (their rounds unnamed) compare `retries`. */
function reopenedBy(record: GenerationRecord, retryId: string, intent: RetryIntent): boolean {
  if (intent.webhook_resends === undefined) return (record.retries ?? 0) > intent.retries;
  return (record.history ?? []).some((round) => round.retry_id === retryId);
}
