/**
 * Stage 4 (batches only): once every item of a batch has ended (the item status script set it
 * `finalizing` and queued it in keys.batchesToFinalize), write its results.jsonl to S3, end it
 * (`completed`, `canceled` or `expired`, with completed_at and the file's key), queue its one
 * batch.completed event, and only then take it off keys.batchesToFinalize (unless an admin retry
 * reopened it and it is finalizing again: then it stays for its next finalize, and the end of the
 * round this job read is refused as stale).
 *
 * Exactly once across crashes: every step is idempotent and the batch stays in
 * keys.batchesToFinalize until the last one, so the dispatcher re-adds this job after any crash.
 * Each run writes the results file under a key of its own and the batch points at the file of the
 * run that ended it (batch-end.ts): a stale run can never replace it. A re-run after the batch
 * ended rewrites nothing (its status and file stay as they were) and re-queues the event under the
 * same job id (msg_<batchId>_completed, `_t<n>` after the n-th reopening by an admin retry), which
 * BullMQ ignores.
 */
import type { Job } from 'bullmq';
import { BATCH_FINAL, BatchStore, enqueueNotify, finalizePayload, toBatchView, webhookId, type BatchRecord } from '@darkroom/shared';
import { endRound } from '../batch-end.ts';
import { doneFinalizing, setBatchWebhook } from '../batch-state.ts';
import type { WorkerContext } from '../context.ts';
import { buildResults } from '../results-file.ts';

/** Queues batch.completed when the batch has a webhook; a repeat is a no-op (same job id). */
async function announceBatch(ctx: WorkerContext, batch: BatchRecord): Promise<void> {
  if (!batch.webhook_url) return;
  const event = 'batch.completed';
  // Each end of a batch an admin retry reopened is its own event.
  const id = webhookId(batch.id, event, batch.reopened);
  const resultsUrl = batch.results_bucket && batch.results_key ? await ctx.links(batch.results_bucket, batch.results_key) : undefined;
  const body = JSON.stringify({
    type: event,
    timestamp: new Date(batch.completed_at ?? Date.now()).toISOString(),
    data: toBatchView(batch, { resultsUrl, pricePerImage: ctx.config.batches.pricePerImage }),
  });
  if (batch.webhook?.webhook_id !== id) await setBatchWebhook(ctx.redis, ctx.keys, batch.id, { event, webhook_id: id, status: 'pending', attempts: 0 });
  await enqueueNotify(ctx.queues, { id: batch.id, tenant: batch.tenant, event, webhook_id: id, url: batch.webhook_url, body });
}

export async function processFinalize(ctx: WorkerContext, job: Job): Promise<void> {
  const { id } = finalizePayload.parse(job.data);
  const log = ctx.log.child({ jobId: job.id, batch: id, stage: 'finalize' });
  const batches = new BatchStore(ctx.redis, ctx.keys);
  let batch = await batches.get(id);
  if (batch?.status === 'finalizing') {
    await endRound({ ...ctx, log }, batch, await buildResults(ctx, id));
    batch = await batches.get(id);
  }
  if (!batch) {
    log.warn('batch is gone: nothing to finalize');
  } else if (BATCH_FINAL.has(batch.status)) {
    await announceBatch(ctx, batch);
  } else {
    // Not every item has ended: the item that ends it queues the batch again.
    log.warn({ status: batch.status }, 'batch is not finalizing: left for the item that ends it');
  }
  await doneFinalizing(ctx.redis, ctx.keys, id);
}
