/**
 * Runs one admin bulk retry (retry-record.ts). First the snapshot: the ids given, or every
 * generation matching the filter at this moment, with the dry-run counts; taken once, so a re-run
 * after a crash works through the same list. Then each id from the saved position: retried
 * (generation-retry.ts decides how, never paying twice) or skipped with a reason. An abort is seen
 * before the next id. A repeat of an id (crash between its retry and the saved position) finds the
 * record no longer failed and counts it skipped: the generation itself is never retried twice. A
 * crash between a reopen and its enqueue is mended by the repeat: the record is found queued or
 * storing with no job for its round, and the job is added (`resumed`, counted as retried).
 */
import { UnrecoverableError, type Job } from 'bullmq';
import {
  RetryStore,
  countPlan,
  emptyCounts,
  forEachMatch,
  retriesPayload,
  retryGeneration,
  type Logger,
  type RetryRecord,
} from '@darkroom/shared';
import type { WorkerContext } from '../context.ts';

const CHUNK = 100;

async function takeSnapshot(ctx: WorkerContext, store: RetryStore, retry: RetryRecord): Promise<void> {
  const now = Date.now();
  const resendWebhook = retry.request.resend_webhook;
  const counts = emptyCounts();
  const ids: string[] = [];
  if (retry.request.ids) {
    for (const id of new Set(retry.request.ids)) {
      ids.push(id);
      countPlan(counts, await ctx.generations.get(id), { resendWebhook, now });
    }
  } else {
    await forEachMatch(ctx, retry.request.filter ?? {}, (records) => {
      for (const record of records) {
        ids.push(record.id);
        countPlan(counts, record, { resendWebhook, now });
      }
    });
  }
  await store.snapshot(retry.id, ids, counts);
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
  if (!retry.snapshotted) {
    await takeSnapshot(ctx, store, retry);
    retry = await store.get(retry.id);
    if (!retry) return;
    log.info({ matched: retry.matched, planned: retry.planned }, 'bulk retry: matching generations snapshotted');
  }
  const batchWindowMs = Math.min(ctx.config.retention.succeededSeconds, ctx.config.retention.failedSeconds) * 1000;
  const deps = { generations: ctx.generations, queues: ctx.queues, links: ctx.links, batchWindowMs };
  let position = retry.position;
  for (;;) {
    const ids = await store.ids(retry.id, position, CHUNK);
    if (ids.length === 0) break;
    for (const id of ids) {
      if ((await store.get(retry.id))?.status !== 'running') {
        log.warn({ position }, 'bulk retry aborted');
        return;
      }
      const outcome = await retryGeneration(deps, id, { resendWebhook: retry.request.resend_webhook, by: retry.who });
      await store.progress(retry.id, position, outcome);
      position++;
    }
  }
  if (await store.finish(retry.id, 'completed')) log.info({ matched: retry.matched }, 'bulk retry completed');
}
