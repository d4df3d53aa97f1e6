/**
 * Canceling a batch. The API's cancel is one script (startCanceling): `in_progress` → `canceling`
 * with canceling_at, and the batch into keys.batchesCanceling. From that step on no item of the
 * batch starts: the status script refuses an item's move from `queued` to `generating` once its
 * batch has canceling_at (generation-record.ts), and the generate stage then cancels the item.
 * Items that had started (called Z.AI) finish. The dispatcher adds no job for a queued item of a
 * canceled batch: it leaves the item to the sweep, which must therefore always reach the end.
 *
 * The queued items are canceled by a sweep over the item list (sweepCanceling): the API runs the
 * first CANCEL_INLINE_ITEMS of it inside the request, the finalize queue's `cancel` job the rest.
 * The sweep keeps its position on the batch (`cancel_position`, only ever raised), so a worker
 * killed midway is resumed where it stopped; it leaves keys.batchesCanceling only at the end, and
 * every dispatcher tick re-adds the job of each batch still there. Each cancel changes an item
 * only from `queued` (GenerationStore.cancel), so sweeps that overlap or repeat count every item
 * once; the item that ends last moves the batch to `finalizing`, as for any batch.
 */
import type { Redis } from 'ioredis';
import type { ErrorDetail } from './errors.ts';
import type { GenerationStore } from './generation-record.ts';
import type { RedisKeys } from './keys.ts';

export const CANCELED_BY_CALLER: ErrorDetail = { code: 'canceled', message: 'canceled before it started; nothing was generated or paid' };
export const EXPIRED: ErrorDetail = { code: 'expired', message: 'not started before its cancel_after time; nothing was generated or paid' };

/** Items the cancel request sweeps itself: a small batch is answered with every item canceled. */
export const CANCEL_INLINE_ITEMS = 1_000;
const CHUNK = 500;

// KEYS: the batch, keys.batchesCanceling. ARGV: now, batch id. Returns the status the batch had.
const START_CANCELING = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if status == 'in_progress' then
  redis.call('HSET', KEYS[1], 'status', 'canceling', 'canceling_at', ARGV[1], 'updated_at', ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
end
return status`;

// KEYS: the batch. ARGV: position. Raises cancel_position (an overlapping sweep may be behind).
const RAISE_POSITION = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'cancel_position') or '0') < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'cancel_position', ARGV[1])
end
return 1`;

export interface CancelDeps {
  redis: Redis;
  keys: RedisKeys;
  generations: GenerationStore;
}

/** The batch's status before: `in_progress` or `canceling` means it is canceling now; '' if gone. */
export async function startCanceling(deps: Pick<CancelDeps, 'redis' | 'keys'>, batchId: string, now = Date.now()): Promise<string> {
  return (await deps.redis.eval(START_CANCELING, 2, deps.keys.batch(batchId), deps.keys.batchesCanceling, String(now), batchId)) as string;
}

/** Cancels the queued items among `ids`; how many this call canceled. */
async function cancelEach(deps: CancelDeps, ids: readonly string[], detail: ErrorDetail, ttlSeconds: number): Promise<number> {
  const done = await Promise.all(ids.map((id) => deps.generations.cancel(id, detail, ttlSeconds)));
  return done.filter(Boolean).length;
}

/** Cancels every item of the batch that is still queued; returns how many this call canceled. */
export async function cancelQueuedItems(deps: CancelDeps, batchId: string, detail: ErrorDetail, ttlSeconds: number): Promise<number> {
  let canceled = 0;
  for (let start = 0; ; start += CHUNK) {
    const ids = await deps.redis.lrange(deps.keys.batchItems(batchId), start, start + CHUNK - 1);
    if (ids.length === 0) return canceled;
    canceled += await cancelEach(deps, ids, detail, ttlSeconds);
  }
}

export interface Sweep {
  /** Items this call canceled. */
  canceled: number;
  /** The sweep reached the end of the item list (the batch left keys.batchesCanceling). */
  done: boolean;
}

/**
 * Cancels the queued items of a canceling batch from its saved position on, at most `maxItems`
 * of them looked at (default: all), and leaves keys.batchesCanceling once the list is swept.
 */
export async function sweepCanceling(deps: CancelDeps, batchId: string, ttlSeconds: number, maxItems = Number.POSITIVE_INFINITY): Promise<Sweep> {
  const { redis, keys } = deps;
  let position = Number((await redis.hget(keys.batch(batchId), 'cancel_position')) ?? 0);
  const stop = position + maxItems;
  let canceled = 0;
  while (position < stop) {
    const ids = await redis.lrange(keys.batchItems(batchId), position, position + Math.min(CHUNK, stop - position) - 1);
    if (ids.length === 0) {
      await redis.zrem(keys.batchesCanceling, batchId);
      return { canceled, done: true };
    }
    canceled += await cancelEach(deps, ids, CANCELED_BY_CALLER, ttlSeconds);
    position += ids.length;
    await redis.eval(RAISE_POSITION, 1, keys.batch(batchId), String(position));
  }
  return { canceled, done: false };
}
