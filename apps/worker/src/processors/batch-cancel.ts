/**
 * The finalize queue's `cancel` job (BATCH_CANCEL_JOB, job id cancel-<batchId>): cancels the queued
 * items of a canceled batch that the API's cancel request left, from the sweep's saved position
 * (batch-cancel.ts). Killed midway, it is resumed: BullMQ re-runs a stalled job, and the dispatcher
 * re-adds it while the batch is in keys.batchesCanceling. No item starts meanwhile: the status
 * script refuses to start an item of a canceled batch.
 */
import type { Job } from 'bullmq';
import { finalizePayload, sweepCanceling } from '@darkroom/shared';
import type { WorkerContext } from '../context.ts';

export async function processBatchCancel(ctx: WorkerContext, job: Job): Promise<void> {
  const { id } = finalizePayload.parse(job.data);
  const log = ctx.log.child({ jobId: job.id, batch: id, stage: 'batch-cancel' });
  const { canceled } = await sweepCanceling(ctx, id, ctx.config.retention.succeededSeconds);
  log.info({ canceled }, 'batch items canceled');
}
