/**
 * Canceling: only a generation still `queued` is canceled (GenerationStore.cancel), so one that
 * has called Z.AI always finishes and nothing paid is thrown away. A batch goes `canceling` first;
 * each item's cancel counts it in the batch, and the item that ends last moves the batch to
 * `finalizing` (generation-record.ts move()). Canceling a batch again (a lost answer, a crash
 * midway) cancels whatever is still queued.
 */
import type { ErrorDetail } from '@darkroom/shared';
import type { ApiContext } from '../context.ts';

export const CANCELED_BY_CALLER: ErrorDetail = { code: 'canceled', message: 'canceled before it started; nothing was generated or paid' };
export const EXPIRED: ErrorDetail = { code: 'expired', message: 'not started before its cancel_after time; nothing was generated or paid' };

const CHUNK = 500;

// KEYS[1] the batch. ARGV[1] now. Returns the status the batch had.
const START_CANCELING = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if status == 'in_progress' then
  redis.call('HSET', KEYS[1], 'status', 'canceling', 'canceling_at', ARGV[1], 'updated_at', ARGV[1])
end
return status`;

/** The batch's status before: `in_progress` or `canceling` means it is canceling now; '' if gone. */
export async function startCanceling(ctx: ApiContext, batchId: string): Promise<string> {
  return (await ctx.redis.eval(START_CANCELING, 1, ctx.keys.batch(batchId), String(Date.now()))) as string;
}

/** Cancels every item of the batch that is still queued; returns how many this call canceled. */
export async function cancelQueuedItems(ctx: ApiContext, batchId: string, detail: ErrorDetail): Promise<number> {
  const ttl = ctx.config.retention.succeededSeconds;
  let canceled = 0;
  for (let start = 0; ; start += CHUNK) {
    const ids = await ctx.redis.lrange(ctx.keys.batchItems(batchId), start, start + CHUNK - 1);
    if (ids.length === 0) break;
    const done = await Promise.all(ids.map((id) => ctx.generations.cancel(id, detail, ttl)));
    canceled += done.filter(Boolean).length;
  }
  return canceled;
}
