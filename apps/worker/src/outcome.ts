/**
 * The one place where a processor's error becomes a BullMQ move, and where jobs reach their end.
 *
 * Invariants:
 * - a record is marked failed and its failure announced BEFORE BullMQ fails the job, so a crash in
 *   between re-runs the job, which finds the record terminal and only re-announces (idempotent);
 *   a poison job too (endPoisonJob): BullMQ's own stall limit would fail the job first;
 * - rate limits and fleet pauses never spend an attempt;
 * - the last allowed attempt of a transient error fails the record like a permanent one; which
 *   attempt is the last is THIS worker's configuration, whatever process enqueued the job;
 * - a generate job never fails a record whose paid answer is saved: unless the error is permanent,
 *   the store stage takes over (handOverSavedAnswer), so Z.AI's paid image is copied, not lost;
 * - a paid image is retried, not failed, for as long as its URL is valid (settleCopy), except
 *   errors of the image itself: too large fails at once, a wrong type or an incomplete body after
 *   IMAGE_CONTENT_ATTEMPTS (config.store.imageContentAttempts) consecutive attempts of the same kind.
 */
import { DelayedError, RateLimitError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import {
  FleetPauseError,
  ImageContentError,
  ImageExpiredError,
  JobError,
  PermanentError,
  QUEUE,
  RateLimitedError,
  RetryStore,
  TERMINAL,
  announce,
  enqueueGenerate,
  enqueueStore,
  retryOfJobId,
  storeRetryDelay,
  type ErrorDetail,
  type GenerationRecord,
  type Logger,
} from '@darkroom/shared';
import type { WorkerContext } from './context.ts';

/**
 * The record a stage should work on, or undefined when there is nothing left to do: a record that
 * is gone (expired or deleted) is logged; a finished one is only re-announced, which is what a
 * re-run after a crash between "record finished" and "job finished" needs.
 */
export async function openRecord(ctx: WorkerContext, id: string, log: Logger): Promise<GenerationRecord | undefined> {
  const record = await ctx.generations.get(id);
  if (!record) {
    log.warn('generation record is gone (expired or deleted); nothing to do');
    return undefined;
  }
  if (TERMINAL.has(record.status)) {
    await announce(ctx, record);
    return undefined;
  }
  return record;
}

/** Marks the generation failed for good in `stage` (a queue name) and announces it. */
export async function failRecord(ctx: WorkerContext, id: string, detail: ErrorDetail & Record<string, unknown>, stage: string, retries?: number): Promise<void> {
  const now = Date.now();
  const updated = await ctx.generations.update(
    id,
    { status: 'failed', error: detail, completed_at: now, next_attempt_at: null, failed_stage: stage },
    { ttlSeconds: ctx.config.retention.failedSeconds, ...(retries === undefined ? {} : { retries }) },
  );
  if (!updated) return;
  const record = await ctx.generations.get(id);
  if (record) await announce(ctx, record);
}

/**
 * For a generate job that is about to fail or retry: when its record already holds a saved, paid
 * answer, enqueues the store stage instead (a repeat is a no-op) and returns true.
 */
export async function handOverSavedAnswer(ctx: WorkerContext, queueName: string, id: string, log: Logger): Promise<boolean> {
  if (queueName !== QUEUE.generate) return false;
  const record = await ctx.generations.get(id);
  if (!record?.zai || TERMINAL.has(record.status)) return false;
  log.warn({ id }, 'the paid answer is saved: handing over to store instead of failing the generation');
  await enqueueStore(ctx.queues, { id, tenant: record.tenant }, record.regenerations, record.retries ?? 0);
  return true;
}

/**
 * For a store job that is about to fail: when its record is open without an answer (the copy found
 * the image URL expired and the record went back to `queued` for a regeneration), the store job's
 * work is done but for adding the generate job of that round; adds it (a repeat is a no-op) and
 * returns true. Failing the record instead would drop the answer of a regeneration already calling.
 */
export async function handBackToGeneration(ctx: WorkerContext, queueName: string, id: string, log: Logger): Promise<boolean> {
  if (queueName !== QUEUE.store) return false;
  const record = await ctx.generations.get(id);
  if (!record || record.zai || TERMINAL.has(record.status)) return false;
  log.warn({ id, round: record.regenerations }, 'no saved answer: returning the job to generation instead of failing the generation');
  await enqueueGenerate(ctx.queues, { id, tenant: record.tenant }, record.regenerations, record.retries ?? 0);
  return true;
}

/** Thrown for a job that stalled more than WORKER_MAX_STALLS times, once its record is settled. */
export class PoisonJobError extends UnrecoverableError {
  readonly code = 'stalled_too_often';
}

/**
 * For a job picked up after more than WORKER_MAX_STALLS stalls (each one a worker that died
 * holding it): settles its record without running the stage again, then throws what fails the job.
 * A generate job whose paid answer is saved hands over to the store stage and completes instead;
 * a store job whose record went back to generation (an expired URL) hands back and completes; a
 * record whose call mark has not expired (a stalled worker may still get its paid answer) is
 * waited for first. A bulk retry job ends its retry as `aborted`.
 * Called on every pickup, so a crash anywhere in here is settled by the next one.
 */
export async function endPoisonJob(ctx: WorkerContext, job: Job, token?: string): Promise<void> {
  const maxStalls = ctx.config.worker.maxStalls;
  const log = ctx.log.child({ jobId: job.id, queue: job.queueName });
  const message = `the job stalled ${job.stalledCounter} times (its worker died each time); WORKER_MAX_STALLS is ${maxStalls}`;
  const data = job.data as { id?: unknown; retry_id?: unknown };
  const id = data.id;
  // Only generation stages settle a record (notify and finalize jobs have none to settle).
  if ((job.queueName === QUEUE.generate || job.queueName === QUEUE.store) && typeof id === 'string') {
    if (await handOverSavedAnswer(ctx, job.queueName, id, log)) return;
    if (await handBackToGeneration(ctx, job.queueName, id, log)) return;
    const record = await openRecord(ctx, id, log);
    if (record?.calling_until !== undefined && record.calling_until > Date.now() && token) {
      // A worker that lost its lock may still be calling, and get a paid answer: wait it out first.
      log.warn({ until: new Date(record.calling_until).toISOString() }, 'poison job: waiting for a call that may still be in flight before failing it');
      await job.moveToDelayed(record.calling_until, token);
      throw new DelayedError();
    }
    log.error({ alert: 'poison_job', stalls: job.stalledCounter, maxStalls }, 'a job crashed its worker too often: failed without running it again');
    // Only the life this job belongs to: a record an admin retry reopened since is not this job's to fail.
    if (record) await failRecord(ctx, id, { code: 'stalled_too_often', message }, job.queueName, retryOfJobId(job.id ?? ''));
  } else {
    log.error({ alert: 'poison_job', stalls: job.stalledCounter, maxStalls }, 'a job crashed its worker too often: failed without running it again');
  }
  // A bulk retry shows it ended, rather than `running` with nothing running it.
  if (job.queueName === QUEUE.retries && typeof data.retry_id === 'string') await new RetryStore(ctx.redis, ctx.keys).finish(data.retry_id, 'aborted');
  throw new PoisonJobError(`stalled_too_often: ${message}`);
}

async function failJob(ctx: WorkerContext, job: Job, log: Logger, id: string, err: unknown, detail: ErrorDetail & Record<string, unknown>, attempt: number): Promise<never> {
  log.warn({ err, code: detail.code, attemptsMade: attempt }, 'generation failed');
  await failRecord(ctx, id, detail, job.queueName);
  throw new UnrecoverableError(`${detail.code}: ${detail.message}`);
}

function detailOf(err: unknown): ErrorDetail & Record<string, unknown> {
  if (err instanceof JobError) {
    return err.zai
      ? { code: err.code, message: err.message, zai_status: err.zai.status, zai_body: err.zai.body }
      : { code: err.code, message: err.message };
  }
  return { code: 'internal_error', message: err instanceof Error ? err.message : String(err) };
}

/**
 * Decides the fate of a generation job after `err`: throws the error BullMQ must see, or returns
 * (the job completes) when the store stage took over a saved answer.
 */
export async function settle(ctx: WorkerContext, job: Job, id: string, err: unknown): Promise<void> {
  const log = ctx.log.child({ jobId: job.id, id, queue: job.queueName });
  const detail = detailOf(err);
  if (err instanceof JobError && err.alert) {
    log.error({ alert: err.alert, code: err.code, zai: err.zai?.body }, `operator attention: ${err.message}`);
  }

  if (err instanceof RateLimitedError && err.lowerConcurrency && job.token) {
    // 1302: the shared cap already came down (adaptive-limit.ts). Only this job goes back, to the
    // head of the queue; nothing cools down, since the fleet is already under the limit again.
    log.info({ code: err.code }, 'over the account concurrency limit: job put back, attempt not spent');
    await ctx.generations.update(id, { status: 'queued', last_error: detail });
    await job.moveToWait(job.token);
    throw new WaitingError();
  }
  if (err instanceof RateLimitedError) {
    const delay = await ctx.fleet.cooldown(err);
    await ctx.queues.generate.rateLimit(delay);
    log.warn({ code: err.code, delay }, 'rate limited: slowing the queue, attempt not spent');
    await ctx.generations.update(id, { status: 'queued', last_error: detail });
    throw new RateLimitError();
  }
  if (err instanceof FleetPauseError) {
    await ctx.fleet.pause({ code: err.code, message: err.message, resumeAt: err.resumeAt });
    await ctx.generations.update(id, { status: 'queued', last_error: detail });
    throw new RateLimitError();
  }
  // A job from an older deploy carries its own attempts, which BullMQ enforces: never go past them.
  const attempts = Math.min(ctx.config.zai.maxAttempts, job.opts.attempts ?? 1);
  const lastAttempt = job.attemptsMade + 1 >= attempts;
  if (err instanceof PermanentError || err instanceof ImageExpiredError) return failJob(ctx, job, log, id, err, detail, job.attemptsMade + 1);
  if (await handOverSavedAnswer(ctx, job.queueName, id, log)) return;
  if (lastAttempt) return failJob(ctx, job, log, id, err, detail, job.attemptsMade + 1);
  log.info({ code: detail.code, attemptsMade: job.attemptsMade + 1 }, 'transient failure: will retry');
  await ctx.generations.update(id, { status: 'queued', last_error: detail });
  throw err instanceof Error ? err : new Error(String(err));
}

/** How many consecutive attempts, this one included, failed with `code` (kept on last_error). */
function repeatsOf(code: string, lastError: (ErrorDetail & { repeats?: unknown }) | undefined): number {
  if (lastError?.code !== code) return 1;
  return (typeof lastError.repeats === 'number' ? lastError.repeats : 1) + 1;
}

/**
 * Decides the fate of a store job after a failed copy; always throws what BullMQ must see. A
 * permanent error fails the job, and so does an error of the image itself (ImageContentError)
 * repeated IMAGE_CONTENT_ATTEMPTS times in a row; any other is retried on this worker's store
 * backoff for as long as the copy may still succeed (`until`, epoch ms: the image URL's validity,
 * STORE_RETRY_HOURS). The retry moves the job to delayed itself, so no attempt cap baked into the
 * job (an older deploy's) can end it early; the record stays `storing` and shows when the next
 * attempt runs. `lastError` is the record's, from the attempt before.
 */
export async function settleCopy(
  ctx: WorkerContext,
  job: Job,
  token: string | undefined,
  id: string,
  err: unknown,
  copy: { until: number; lastError: ErrorDetail | undefined },
): Promise<never> {
  const log = ctx.log.child({ jobId: job.id, id, queue: job.queueName });
  const attempt = Math.max(job.attemptsStarted, 1);
  const base = detailOf(err);
  if (err instanceof PermanentError || err instanceof ImageExpiredError) return failJob(ctx, job, log, id, err, base, attempt);
  const repeats = err instanceof ImageContentError ? repeatsOf(base.code, copy.lastError) : undefined;
  const detail = repeats === undefined ? base : { ...base, repeats };
  if (repeats !== undefined && repeats >= ctx.config.store.imageContentAttempts) {
    log.error({ err, code: detail.code, repeats }, 'the image itself failed the copy again and again: failing a paid job');
    return failJob(ctx, job, log, id, err, detail, attempt);
  }
  const next = Date.now() + storeRetryDelay(ctx.config.store, attempt);
  if (next > copy.until) {
    log.error({ err, code: detail.code, attempt, until: new Date(copy.until).toISOString() }, 'image copy failed until its URL expired: failing a paid job');
    return failJob(ctx, job, log, id, err, detail, attempt);
  }
  log.warn({ code: detail.code, attempt, next_attempt_at: new Date(next).toISOString() }, 'image copy failed: will retry from the saved URL');
  await ctx.generations.update(id, { status: 'storing', next_attempt_at: next, last_error: detail });
  // Without a token (never from a Worker) BullMQ retries on its own, with the same store backoff.
  if (!token) throw err instanceof Error ? err : new Error(String(err));
  await job.moveToDelayed(next, token);
  throw new DelayedError();
}
