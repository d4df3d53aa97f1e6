/**
 * cancel_after: a generation (single or batch item) that has not called Z.AI by then is canceled
 * with code `expired`, never called. GenerationStore.cancel changes only a `queued` record, so a
 * record whose call has started is never touched; a record it cancels is announced like any other
 * final one (only when it has a webhook_url).
 */
import { announce, type GenerationRecord, type Logger } from '@darkroom/shared';
import type { WorkerContext } from './context.ts';

export function isPastCancelAfter(record: Pick<GenerationRecord, 'status' | 'cancel_after' | 'zai'>, now = Date.now()): boolean {
  return record.status === 'queued' && !record.zai && record.cancel_after !== undefined && record.cancel_after <= now;
}

/** Cancels `id` as expired; true if this call canceled it. */
export async function expireGeneration(ctx: WorkerContext, id: string, cancelAfter: number, log: Logger): Promise<boolean> {
  const detail = { code: 'expired', message: `not started before its cancel_after (${new Date(cancelAfter).toISOString()})` };
  const canceled = await ctx.generations.cancel(id, detail, ctx.config.retention.failedSeconds);
  if (!canceled) return false;
  log.info({ id, cancel_after: cancelAfter }, 'canceled: cancel_after passed before the call');
  const record = await ctx.generations.get(id);
  if (record) await announce(ctx, record);
  return true;
}
