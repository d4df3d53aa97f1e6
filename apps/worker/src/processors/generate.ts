/**
 * Stage 1: the paid call. Invariants:
 * - Z.AI's answer is saved on the record before anything else happens, and every run first checks
 *   the record: a job that finds an answer saved (a crash after the call, a stalled job taken over
 *   by a peer) only hands over to the store stage.
 * - Before calling, the record is marked `calling_until` (the call's deadline plus a margin), checked
 *   and marked in one atomic step (markCalling). A run that finds the mark unexpired waits for it
 *   instead of calling: the first worker may only be stalled (lost its lock, event loop blocked)
 *   and still get its answer. So one paid call per round, unless the caller crashed mid-call,
 *   which only costs the wait.
 * - An answer that arrives while Redis is unreachable (or refuses writes) is held in this process
 *   (PendingAnswers) until saved; a run of the same job here saves that answer, never calls again.
 * - While the fleet releases a canary after a pause, only the canary job calls; the others go
 *   back to the queue without spending an attempt.
 * - A `queued` record past its cancel_after is canceled (`expired`), never called; so is a batch
 *   item whose batch was canceled (`canceled`): the status script refuses to start it.
 */
import { DelayedError, RateLimitError, type Job } from 'bullmq';
import {
  CANCELED_BY_CALLER,
  PermanentError,
  enqueueStore,
  generatePayload,
  type ContentFilter,
  type GenerationRecord,
  type Logger,
  type ZaiResult,
} from '@darkroom/shared';
import type { WorkerContext } from '../context.ts';
import { expireGeneration, isPastCancelAfter } from '../expiry.ts';
import { openRecord, settle } from '../outcome.ts';
import { callLifetimeMs } from '../zai-client.ts';


function filterError(filters: ContentFilter[], minLevel: number | undefined): PermanentError | undefined {
  const blocked = minLevel === undefined ? undefined : filters.find((f) => f.level < minLevel);
  if (!blocked) return undefined;
  return new PermanentError(
    'content_filtered',
    `content filter level ${blocked.level} (${blocked.role}) is below CONTENT_FILTER_MIN_LEVEL ${minLevel}`,
  );
}

/** A run that finds the paid answer saved (by an earlier run or a peer) never calls: it hands over. */
async function handOver(ctx: WorkerContext, job: Job, record: GenerationRecord, zai: ZaiResult, log: Logger): Promise<void> {
  const blocked = filterError(zai.content_filter, ctx.config.zai.contentFilterMinLevel);
  if (blocked) return settle(ctx, job, record.id, blocked);
  log.info('Z.AI answer already saved: handing over to store without calling again');
  await enqueueStore(ctx.queues, { id: record.id, tenant: record.tenant }, record.regenerations, record.retries ?? 0);
}

export async function processGenerate(ctx: WorkerContext, job: Job, token?: string): Promise<void> {
  const { id, tenant } = generatePayload.parse(job.data);
  const log = ctx.log.child({ jobId: job.id, id, tenant, stage: 'generate' });
  if (ctx.pending.has(id)) {
    log.warn('this process holds the paid answer of this job: saving it instead of calling Z.AI again');
    await ctx.pending.settled(id);
  }
  const record = await openRecord(ctx, id, log);
  if (!record) return;
  if (record.cancel_after !== undefined && isPastCancelAfter(record)) {
    // Canceled, never called; a peer that moved it meanwhile (the cancel refused) owns it now.
    await expireGeneration(ctx, id, record.cancel_after, log);
    return;
  }
  const minLevel = ctx.config.zai.contentFilterMinLevel;
  if (record.zai) return handOver(ctx, job, record, record.zai, log);

  const holdMs = await ctx.fleet.admit(id);
  if (holdMs > 0) {
    await ctx.queues.generate.rateLimit(holdMs);
    throw new RateLimitError();
  }

  const started = Date.now();
  const mark = await ctx.generations.markCalling(id, { now: started, until: started + callLifetimeMs(ctx.config.zai.timeoutMs) });
  if (mark.state === 'busy') {
    // The canary slot, if this job holds it, stays: it is this generation's, whose peer is calling.
    log.warn({ until: new Date(mark.until).toISOString() }, 'another worker may still be calling Z.AI for this job: waiting for it');
    if (!token) throw new Error('another worker may still be calling Z.AI for this job');
    await job.moveToDelayed(mark.until, token);
    throw new DelayedError();
  }
  if (mark.state === 'answered') {
    await ctx.fleet.releaseCanary(id);
    const answered = await openRecord(ctx, id, log);
    if (answered?.zai) await handOver(ctx, job, answered, answered.zai, log);
    return;
  }
  if (mark.state === 'batch_canceled' || mark.state === 'gone') {
    await ctx.fleet.releaseCanary(id);
    // Still queued: its batch was canceled (the start is refused from the cancel on), so it ends canceled.
    if (mark.state === 'batch_canceled' && (await ctx.generations.cancel(id, CANCELED_BY_CALLER, ctx.config.retention.succeededSeconds))) {
      log.info({ batch: record.batch_id }, 'batch canceled: item canceled before its call');
      return;
    }
    // Gone or finished since it was read (deleted, failed by a peer): a paid answer would be dropped.
    log.warn('generation record is gone or finished: not calling Z.AI');
    return;
  }
  let answer;
  try {
    answer = await ctx.zai.generate(record.request);
  } catch (err) {
    await ctx.generations.update(id, { calling_until: null });
    await ctx.fleet.callFailed(id, err);
    return settle(ctx, job, id, err);
  }
  const saved = await ctx.pending.save(id, { ...answer, received_at: Date.now() });
  // The call succeeded whatever the save says: the account works (ends a canary phase), and
  // neither step may fail the job now that the answer is paid (both are best-effort).
  await ctx.fleet.answered();
  await ctx.fleet.calm();
  if (saved !== 'saved') {
    log.warn({ saved }, 'paid answer not used: the record already has an answer or is finished');
    // A peer's saved answer still needs its copy; a repeat of this add is a no-op.
    if (saved === 'other') await enqueueStore(ctx.queues, { id, tenant }, record.regenerations, record.retries ?? 0);
    return;
  }
  log.info({ ms: Date.now() - started, content_filter: answer.content_filter }, 'generated');

  const blocked = filterError(answer.content_filter, minLevel);
  if (blocked) return settle(ctx, job, id, blocked);
  await enqueueStore(ctx.queues, { id, tenant }, record.regenerations, record.retries ?? 0);
}
