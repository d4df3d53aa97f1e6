/**
 * One end of a batch, as a finalize run read it (`finalizing`): its results file goes to S3 under
 * this run's own key, then the end step (batch-state.ts endBatch) points the batch at that key,
 * only if the batch is still in the end the run read. A run whose end step does not end the batch
 * (a stale run: an admin retry reopened the batch since its read; or a second run of the same end,
 * after the first ended it) removes its own file. So the file a batch points at is always the one
 * written by the run that ended it, whatever the order in which runs finish.
 *
 * A run that dies between its write and its end step leaves its object unreferenced (the bucket's
 * lifecycle rules remove it); the run that ends the batch writes its own.
 */
import type { BatchRecord, Logger } from '@darkroom/shared';
import { endBatch, type EndStatus } from './batch-state.ts';
import { deleteResults, newRunId, putResults, resultsKey, type BuiltResults, type ResultsDeps } from './results-file.ts';

function endStatus(batch: BatchRecord, built: BuiltResults): EndStatus {
  if (batch.canceling_at !== undefined) return 'canceled';
  if (built.expired > 0 && built.canceled === 0) return 'expired';
  return 'completed';
}

type EndOutcome = Awaited<ReturnType<typeof endBatch>>;

/** Writes `built` (read for `read`) and ends the batch with it; what the end step answered. */
export async function endRound(deps: ResultsDeps & { log: Logger }, read: BatchRecord, built: BuiltResults): Promise<EndOutcome> {
  const key = resultsKey(read, newRunId());
  await putResults(deps, key, built.body);
  const status = endStatus(read, built);
  // A batch outlives every item record it lists: it is kept as long as the longest of them.
  const retention = Math.max(deps.config.retention.succeededSeconds, deps.config.retention.failedSeconds);
  const file = { bucket: deps.bucket, key, bytes: built.body.length };
  const ended = await endBatch(deps.redis, deps.keys, read, status, file, retention);
  deps.log.info({ status, ended, lines: read.total, bytes: file.bytes, key }, ended === 'ended' ? 'batch results written' : 'batch not ended by this run');
  if (ended !== 'ended') {
    await deleteResults(deps, key).catch((err: unknown) => deps.log.warn({ err, key }, 'could not remove the results file of a run that did not end the batch'));
  }
  return ended;
}
