/**
 * Deleting a batch that was never accepted: everything its intake wrote while it was `validating`
 * (item records, their index entries, the item list, the hash). The intake does it when it refuses
 * a batch; the worker's upkeep (sweepValidatingBatches) does it for a batch whose upload died (API
 * crash, a failed discard) and is still `validating` past VALIDATING_DEADLINE_MS, so its items no
 * longer hold the tenant's open places. keys.validatingBatches lists those batches by creation time:
 * the intake adds one when it opens it, activation and the discard take it off.
 */
import type { Redis } from 'ioredis';
import type { GenerationStore } from './generation-record.ts';
import type { RedisKeys } from './keys.ts';

/** Uploads take seconds: a batch still `validating` this long after its creation is abandoned. */
export const VALIDATING_DEADLINE_MS = 15 * 60_000;
const READ_CHUNK = 1000;

// Marks a `validating` batch as being discarded (activation then refuses it: intake.ts ACTIVATE),
// 1; 0 if it is gone or was accepted (then off the validating set).
// KEYS: batch, keys.validatingBatches. ARGV: batch id.
const CLAIM = `
if redis.call('HGET', KEYS[1], 'status') == 'validating' then
  redis.call('HSET', KEYS[1], 'discarding', '1')
  return 1
end
redis.call('ZREM', KEYS[2], ARGV[1])
return 0`;

export interface DiscardDeps {
  redis: Redis;
  keys: RedisKeys;
  generations: GenerationStore;
}

/** Deletes batch `id` if it is still `validating` (an accepted batch is never touched); whether it did. */
export async function discardValidatingBatch(deps: DiscardDeps, id: string): Promise<boolean> {
  const { redis, keys } = deps;
  if ((await redis.eval(CLAIM, 2, keys.batch(id), keys.validatingBatches, id)) !== 1) return false;
  const tenant = await redis.hget(keys.batch(id), 'tenant');
  const itemsKey = keys.batchItems(id);
  // Repeatable after a crash: the batch stays claimed and listed until the last step.
  for (let start = 0; tenant !== null; start += READ_CHUNK) {
    const ids = await redis.lrange(itemsKey, start, start + READ_CHUNK - 1);
    if (ids.length === 0) break;
    await deps.generations.deleteUnaccepted(tenant, ids);
  }
  await redis.multi().del(itemsKey, keys.batch(id)).zrem(keys.validatingBatches, id).exec();
  return true;
}

/** Discards every batch still `validating` past the deadline; how many. */
export async function sweepValidatingBatches(deps: DiscardDeps, now = Date.now()): Promise<number> {
  const stale = await deps.redis.zrangebyscore(deps.keys.validatingBatches, '-inf', now - VALIDATING_DEADLINE_MS, 'LIMIT', 0, 100);
  let discarded = 0;
  for (const id of stale) if (await discardValidatingBatch(deps, id)) discarded++;
  return discarded;
}
