/**
 * The worker's writes to a batch hash: its end (finalize) and the state of its batch.completed
 * delivery (notify). Counters and `finalizing` are written only by the item status script
 * (generation-record.ts move()); these two touch neither.
 */
import type { Redis } from 'ioredis';
import type { BatchRecord, BatchStatus, RedisKeys, WebhookState } from '@darkroom/shared';

// Ends a batch once: only from the `finalizing` the caller read (1), i.e. the same finalizing_at and
// reopened: an admin retry may have reopened it since (and it may be finalizing again), and the
// results the caller wrote would then be stale (3). An ended one is left as it is (2), unless this
// very call ended it (its results key, ARGV[9], is the batch's: a re-sent command whose first reply
// was lost), which answers 1 again; 0 if it is gone or not finalizing. Ending starts the retention clock of the batch hash and its item list (an
// admin retry that reopens the batch stops it again: generation-record.ts REOPEN).
// KEYS: batch, its items. ARGV: status, now, retention seconds, finalizing_at and reopened read,
// then results field/value pairs.
const END_BATCH = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
if status == 'completed' or status == 'canceled' or status == 'expired' then
  if redis.call('HGET', KEYS[1], 'results_key') == ARGV[9] then return 1 end
  return 2
end
if status ~= 'finalizing' then return 0 end
local seen = redis.call('HMGET', KEYS[1], 'finalizing_at', 'reopened')
if tonumber(seen[1] or -1) ~= tonumber(ARGV[4]) or tonumber(seen[2] or 0) ~= tonumber(ARGV[5]) then return 3 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'completed_at', ARGV[2], 'updated_at', ARGV[2], unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return 1`;

// Takes a batch off keys.batchesToFinalize unless it is finalizing: a batch that was reopened and
// ended again meanwhile keeps its entry, so the dispatcher queues its next finalize.
// KEYS: batch, keys.batchesToFinalize. ARGV: batch id.
const DONE_FINALIZING = `
if redis.call('HGET', KEYS[1], 'status') == 'finalizing' then return 0 end
return redis.call('ZREM', KEYS[2], ARGV[1])`;

const SET_IF_EXISTS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

export type EndStatus = Extract<BatchStatus, 'completed' | 'canceled' | 'expired'>;

export interface ResultsFile {
  bucket: string;
  key: string;
  bytes: number;
}

/** Ends the batch as `read` (finalizing) it; its hash and item list then expire after `retentionSeconds`. */
export async function endBatch(
  redis: Redis,
  keys: RedisKeys,
  read: Pick<BatchRecord, 'id' | 'finalizing_at' | 'reopened'>,
  status: EndStatus,
  file: ResultsFile,
  retentionSeconds: number,
): Promise<'ended' | 'already' | 'not_finalizing' | 'stale'> {
  const { id } = read;
  const results = ['results_bucket', file.bucket, 'results_key', file.key, 'results_bytes', String(file.bytes)];
  const seen = [String(read.finalizing_at ?? -1), String(read.reopened)];
  const done = await redis.eval(END_BATCH, 2, keys.batch(id), keys.batchItems(id), status, String(Date.now()), String(retentionSeconds), ...seen, ...results);
  return done === 1 ? 'ended' : done === 2 ? 'already' : done === 3 ? 'stale' : 'not_finalizing';
}

/** Takes the batch off keys.batchesToFinalize, unless it is finalizing (again). */
export async function doneFinalizing(redis: Redis, keys: RedisKeys, id: string): Promise<void> {
  await redis.eval(DONE_FINALIZING, 2, keys.batch(id), keys.batchesToFinalize, id);
}

/** The delivery state of the batch's batch.completed event, on the batch (never re-creates a gone one). */
export async function setBatchWebhook(redis: Redis, keys: RedisKeys, id: string, state: WebhookState): Promise<void> {
  await redis.eval(SET_IF_EXISTS, 1, keys.batch(id), 'webhook', JSON.stringify(state));
}
