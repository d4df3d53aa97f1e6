/**
 * POST /v1/batches/:id/cancel's work: the batch goes `canceling` in one script (batch-cancel.ts
 * startCanceling), from which step no item of it starts; the request then cancels up to
 * CANCEL_INLINE_ITEMS queued items itself and hands the rest of the sweep to the worker (the
 * finalize queue's cancel job). So the answer does not wait for a 100,000-item sweep, and a small
 * batch is answered with every queued item canceled. A repeat (a lost answer) sweeps again from
 * the saved position; the job id is fixed, so it is queued once.
 */
import { CANCEL_INLINE_ITEMS, enqueueBatchCancel, startCanceling, sweepCanceling } from '@darkroom/shared';
import type { ApiContext } from '../context.ts';

/** The batch's status before the cancel (`in_progress` or `canceling`: it is canceling now; '' if gone), and the items this call canceled. */
export async function cancelBatch(ctx: ApiContext, batch: { id: string; tenant: string }): Promise<{ before: string; canceled: number }> {
  const before = await startCanceling(ctx, batch.id);
  if (before !== 'in_progress' && before !== 'canceling') return { before, canceled: 0 };
  const sweep = await sweepCanceling(ctx, batch.id, ctx.config.retention.succeededSeconds, CANCEL_INLINE_ITEMS);
  if (!sweep.done) await enqueueBatchCancel(ctx.queues, { id: batch.id, tenant: batch.tenant });
  return { before, canceled: sweep.canceled };
}
