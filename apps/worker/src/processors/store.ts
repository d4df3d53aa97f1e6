/**
 * Stage 2: copy the paid image into S3. Retries never call Z.AI: they copy again from the saved
 * URL, for as long as that URL is valid (30 days from Z.AI's `created`, at most STORE_RETRY_HOURS
 * after the answer arrived), so an S3 outage never throws a paid image away. Only an expired URL
 * (403/404/410) leads back to generation, once, as a new paid round.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { ImageExpiredError, ZAI_URL_TTL_HOURS, announce, countStoredImage, enqueueGenerate, storePayload, type ZaiResult } from '@darkroom/shared';
import type { WorkerContext } from '../context.ts';
import { copyImage } from '../image-copy.ts';
import { openRecord, settleCopy } from '../outcome.ts';
import { stage } from '../worker-metrics.ts';

export const MAX_REGENERATIONS = 1;

/**
 * Until when (epoch ms) a failed copy of this answer is retried: STORE_RETRY_HOURS from the answer,
 * or from the admin retry that started this round (`retriedAt`), within the URL's validity.
 */
export function copyDeadline(zai: ZaiResult, retryMs: number, retriedAt = 0): number {
  const created = zai.created > 0 ? zai.created * 1000 : zai.received_at;
  return Math.min(created + ZAI_URL_TTL_HOURS * 3_600_000, Math.max(zai.received_at, retriedAt) + retryMs);
}

export async function processStore(ctx: WorkerContext, job: Job, token?: string): Promise<void> {
  const payload = storePayload.safeParse(job.data);
  if (!payload.success) throw new UnrecoverableError(`unreadable store job: ${payload.error.message}`);
  const { id, tenant } = payload.data;
  const log = ctx.log.child({ jobId: job.id, id, tenant, stage: 'store' });
  const record = await openRecord(ctx, id, log);
  if (!record) return;
  if (!record.zai) {
    log.warn('no saved Z.AI answer; returning the job to generation');
    await enqueueGenerate(ctx.queues, { id, tenant }, record.regenerations, record.retries ?? 0);
    return;
  }

  const started = Date.now();
  const url = record.zai.url;
  const copyDeps = {
    s3: ctx.s3,
    bucket: ctx.bucket,
    downloadTimeoutMs: ctx.config.store.downloadTimeoutMs,
    s3TimeoutMs: ctx.config.s3.timeoutMs,
    maxBytes: ctx.config.store.maxBytes,
    dispatcher: ctx.imageDispatcher,
  };
  let stored;
  try {
    stored = await stage(ctx.metrics, 'copy', () => copyImage(copyDeps, { url, tenant, id }));
  } catch (err) {
    if (err instanceof ImageExpiredError && record.regenerations < MAX_REGENERATIONS) {
      const round = record.regenerations + 1;
      log.warn({ round, code: err.code }, 'image URL expired before the copy: regenerating (a new paid call)');
      await ctx.generations.update(id, { status: 'queued', zai: null, regenerations: round, next_attempt_at: null, last_error: err.detail() });
      await enqueueGenerate(ctx.queues, { id, tenant }, round, record.retries ?? 0);
      return;
    }
    return settleCopy(ctx, job, token, id, err, { until: copyDeadline(record.zai, ctx.config.store.retryMs, record.retried_at), lastError: record.last_error });
  }

  const now = Date.now();
  await ctx.generations.update(
    id,
    { status: 'succeeded', result: stored, completed_at: now, next_attempt_at: null, last_error: null },
    ctx.config.retention.succeededSeconds,
  );
  await countStoredImage(ctx.redis, ctx.keys);
  ctx.metrics.bytesStored(stored.bytes);
  log.info({ ms: now - started, key: stored.key, bytes: stored.bytes, sha256: stored.sha256 }, 'stored');
  const done = await ctx.generations.get(id);
  if (done) await announce(ctx, done);
}
