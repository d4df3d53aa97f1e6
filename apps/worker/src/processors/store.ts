/**
 * Stage 2: copy the paid image into S3. Retries never call Z.AI: they copy again from the saved
 * URL. Only an expired URL (403/404) leads back to generation, once, as a new paid round.
 */
import type { Job } from 'bullmq';
import { ImageExpiredError, countStoredImage, enqueueGenerate, storePayload } from '@darkroom/shared';
import type { WorkerContext } from '../context.ts';
import { copyImage } from '../image-copy.ts';
import { announce, openRecord, settle } from '../outcome.ts';

export const MAX_REGENERATIONS = 1;

export async function processStore(ctx: WorkerContext, job: Job): Promise<void> {
  const { id, tenant } = storePayload.parse(job.data);
  const log = ctx.log.child({ jobId: job.id, id, tenant, stage: 'store' });
  const record = await openRecord(ctx, id, log);
  if (!record) return;
  if (!record.zai) {
    log.warn('no saved Z.AI answer; returning the job to generation');
    await enqueueGenerate(ctx.queues, { id, tenant }, record.regenerations);
    return;
  }

  const started = Date.now();
  let stored;
  try {
    stored = await copyImage(
      { s3: ctx.s3, bucket: ctx.bucket, timeoutMs: ctx.config.zai.timeoutMs, dispatcher: ctx.imageDispatcher },
      { url: record.zai.url, tenant, id },
    );
  } catch (err) {
    if (err instanceof ImageExpiredError && record.regenerations < MAX_REGENERATIONS) {
      const round = record.regenerations + 1;
      log.warn({ round, code: err.code }, 'image URL expired before the copy: regenerating (a new paid call)');
      await ctx.generations.update(id, { status: 'queued', zai: null, regenerations: round, last_error: err.detail() });
      await enqueueGenerate(ctx.queues, { id, tenant }, round);
      return;
    }
    return settle(ctx, job, id, err);
  }

  const now = Date.now();
  await ctx.generations.update(
    id,
    { status: 'succeeded', result: stored, completed_at: now, last_error: null },
    ctx.config.retention.succeededSeconds,
  );
  await countStoredImage(ctx.redis, ctx.keys);
  log.info({ ms: now - started, key: stored.key, bytes: stored.bytes, sha256: stored.sha256 }, 'stored');
  const done = await ctx.generations.get(id);
  if (done) await announce(ctx, done);
}
