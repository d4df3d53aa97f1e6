/**
 * Stage 1: the paid call. Invariant: a generation is paid for at most once per round, because
 * Z.AI's answer is saved on the record before anything else happens, and every run first checks
 * the record: a job that finds an answer saved (a crash after the call, a stalled job taken over
 * by a peer) only hands over to the store stage.
 */
import type { Job } from 'bullmq';
import { PermanentError, enqueueStore, generatePayload, type ContentFilter } from '@darkroom/shared';
import type { WorkerContext } from '../context.ts';
import { openRecord, settle } from '../outcome.ts';

function filtered(filters: ContentFilter[], minLevel: number | undefined): ContentFilter | undefined {
  if (minLevel === undefined) return undefined;
  return filters.find((f) => f.level < minLevel);
}

export async function processGenerate(ctx: WorkerContext, job: Job): Promise<void> {
  const { id, tenant } = generatePayload.parse(job.data);
  const log = ctx.log.child({ jobId: job.id, id, tenant, stage: 'generate' });
  const record = await openRecord(ctx, id, log);
  if (!record) return;
  if (record.zai) {
    log.info('Z.AI answer already saved: handing over to store without calling again');
    await enqueueStore(ctx.queues, { id, tenant }, record.regenerations);
    return;
  }

  await ctx.generations.update(id, { status: 'generating', started_at: record.started_at ?? Date.now() });
  await ctx.generations.increment(id, 'attempts');
  const started = Date.now();
  let answer;
  try {
    answer = await ctx.zai.generate(record.request);
  } catch (err) {
    return settle(ctx, job, id, err);
  }
  await ctx.fleet.calm();
  await ctx.generations.update(id, {
    status: 'storing',
    zai: { ...answer, received_at: Date.now() },
    paid_generations: record.paid_generations + 1,
  });
  log.info({ ms: Date.now() - started, content_filter: answer.content_filter }, 'generated');

  const blocked = filtered(answer.content_filter, ctx.config.zai.contentFilterMinLevel);
  if (blocked) {
    return settle(
      ctx,
      job,
      id,
      new PermanentError(
        'content_filtered',
        `content filter level ${blocked.level} (${blocked.role}) is below CONTENT_FILTER_MIN_LEVEL ${ctx.config.zai.contentFilterMinLevel}`,
      ),
    );
  }
  await enqueueStore(ctx.queues, { id, tenant }, record.regenerations);
}
