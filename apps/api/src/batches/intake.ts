/**
 * Writes a new batch while its requests are checked, and hands it to the dispatcher only once all
 * of them are good and the tenant's quotas allow it.
 *
 * While the batch is `validating`, its item records are written in chunks (GenerationStore.
 * createMany) with their ids in keys.batchItems, but nothing is in keys.tenantPending: no worker
 * can run an item, so a refused batch is deleted whole (discard) with nothing queued or paid.
 * activate() is one script: the Idempotency-Key claim, the quotas (max_waiting against the open
 * index, which already holds these items; daily_images against the day's counter), then
 * `in_progress`, the tenant's batch index, every item id onto keys.tenantPending and the tenant
 * into keys.dispatchRing (once). If every item has already ended, it finalizes the batch at once.
 * A batch whose upload died stays `validating`; the worker's upkeep discards it (batch-discard.ts).
 */
import {
  DAILY_COUNTER_TTL_SECONDS,
  discardValidatingBatch,
  newGenerationId,
  utcDay,
  zaiFields,
  type GenerationRecord,
} from '@darkroom/shared';
import type { ApiContext } from '../context.ts';
import type { BatchItemRequest, BatchOptions } from './batch-request.ts';

const WRITE_CHUNK = 500;
/** Ids moved by one LRANGE/RPUSH inside the activation script (Lua's unpack has a stack limit). */
const MOVE_CHUNK = 5000;

// KEYS: batch, items, tenant's batches, tenant's pending, dispatch ring, tenant's open index,
// tenant's limits, the day's image count, batches to finalize, validating batches, [claim].
// ARGV: id, n, now, default max_waiting, day counter ttl, claim value, claim ttl, tenant, created_at.
const ACTIVATE = `
if redis.call('HGET', KEYS[1], 'status') ~= 'validating' or redis.call('HEXISTS', KEYS[1], 'discarding') == 1 then return {'gone'} end
if KEYS[11] then
  local prior = redis.call('GET', KEYS[11])
  if prior then return {'claimed', prior} end
end
local n, now = tonumber(ARGV[2]), ARGV[3]
local l = redis.call('HMGET', KEYS[7], 'max_waiting', 'daily_images')
local max = tonumber(l[1]) or tonumber(ARGV[4])
local open = redis.call('ZCARD', KEYS[6])
if open > max then return {'quota', 'max_waiting', tostring(open - n), tostring(max)} end
local budget = tonumber(l[2])
if budget then
  local used = tonumber(redis.call('GET', KEYS[8]) or '0')
  if used + n > budget then return {'quota', 'daily_images', tostring(used), tostring(budget)} end
end
redis.call('INCRBY', KEYS[8], n)
redis.call('EXPIRE', KEYS[8], tonumber(ARGV[5]))
redis.call('HSET', KEYS[1], 'status', 'in_progress', 'total', n, 'in_progress_at', now, 'updated_at', now)
redis.call('ZREM', KEYS[10], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[9], ARGV[1])
for i = 0, n - 1, ${MOVE_CHUNK} do
  local ids = redis.call('LRANGE', KEYS[2], i, i + ${MOVE_CHUNK - 1})
  if #ids > 0 then redis.call('RPUSH', KEYS[4], unpack(ids)) end
end
if not redis.call('LPOS', KEYS[5], ARGV[8]) then redis.call('RPUSH', KEYS[5], ARGV[8]) end
local c = redis.call('HMGET', KEYS[1], 'succeeded', 'failed', 'canceled')
if (tonumber(c[1]) or 0) + (tonumber(c[2]) or 0) + (tonumber(c[3]) or 0) >= n then
  redis.call('HSET', KEYS[1], 'status', 'finalizing', 'finalizing_at', now)
  redis.call('ZADD', KEYS[9], now, ARGV[1])
end
if KEYS[11] then redis.call('SET', KEYS[11], ARGV[6], 'EX', tonumber(ARGV[7])) end
return {'accepted'}`;

export type Activation =
  | { accepted: true }
  | { accepted: false; claimed: string }
  | { accepted: false; quota: { limit: 'max_waiting' | 'daily_images'; current: number; max: number } };

/** What the intake uses of the API's context. */
export type IntakeDeps = Pick<ApiContext, 'redis' | 'keys' | 'config' | 'generations'>;

export class BatchIntake {
  readonly #ctx: IntakeDeps;
  readonly id: string;
  readonly tenant: string;
  readonly createdAt: number;
  readonly #options: BatchOptions;
  #chunk: GenerationRecord[] = [];
  #writing: Promise<void> = Promise.resolve();
  #count = 0;

  constructor(ctx: IntakeDeps, ids: { id: string; tenant: string }, options: BatchOptions, now: number) {
    this.#ctx = ctx;
    this.id = ids.id;
    this.tenant = ids.tenant;
    this.#options = options;
    this.createdAt = now;
  }

  /** Items added so far. */
  get count(): number {
    return this.#count;
  }

  /** Writes the batch hash, `validating`, and lists it among the batches being uploaded. */
  async open(): Promise<void> {
    const o = this.#options;
    const fields: Record<string, string> = {
      id: this.id,
      tenant: this.tenant,
      status: 'validating',
      created_at: String(this.createdAt),
      updated_at: String(this.createdAt),
      total: '0',
    };
    if (o.webhook_url !== undefined) fields.webhook_url = o.webhook_url;
    if (o.item_webhooks) fields.item_webhooks = '1';
    if (o.metadata !== undefined) fields.metadata = JSON.stringify(o.metadata);
    if (o.cancel_after !== undefined) fields.cancel_after = String(o.cancel_after);
    const { redis, keys } = this.#ctx;
    await redis.multi().hset(keys.batch(this.id), fields).zadd(keys.validatingBatches, this.createdAt, this.id).exec();
  }

  /** Adds the next item (input order); written in chunks. */
  async add(item: BatchItemRequest): Promise<void> {
    const batchCancel = this.#options.cancel_after;
    const cancelAfter = item.cancel_after === undefined ? batchCancel : batchCancel === undefined ? item.cancel_after : Math.min(item.cancel_after, batchCancel);
    this.#chunk.push({
      id: newGenerationId(),
      tenant: this.tenant,
      status: 'queued',
      request: zaiFields(item),
      webhook_url: this.#options.item_webhooks ? this.#options.webhook_url : undefined,
      metadata: item.metadata,
      created_at: this.createdAt,
      updated_at: this.createdAt,
      attempts: 0,
      paid_generations: 0,
      regenerations: 0,
      batch_id: this.id,
      custom_id: item.custom_id,
      batch_index: this.#count,
      cancel_after: cancelAfter,
    });
    this.#count += 1;
    if (this.#chunk.length >= WRITE_CHUNK) await this.#send();
  }

  /**
   * Starts writing the current chunk once the previous write is done: one chunk is written while
   * the next is checked, so memory holds at most two.
   */
  async #send(): Promise<void> {
    const chunk = this.#chunk;
    this.#chunk = [];
    await this.#writing;
    this.#writing = this.#write(chunk);
    // Seen by the next #send or flush; until then it must not count as unhandled.
    this.#writing.catch(() => undefined);
  }

  async #write(chunk: GenerationRecord[]): Promise<void> {
    if (chunk.length === 0) return;
    // The ids go into the batch's list in the same script: discard() finds every record through them.
    await this.#ctx.generations.createMany(chunk, WRITE_CHUNK, { list: this.#ctx.keys.batchItems(this.id) });
  }

  /** Writes what is left and waits for every write. */
  async #flush(): Promise<void> {
    await this.#send();
    await this.#writing;
  }

  /**
   * Deletes everything written for this batch, unless it was handed to the dispatcher after all
   * (activate's reply lost to a dropped connection): an accepted batch is never deleted.
   */
  async discard(): Promise<void> {
    this.#chunk = [];
    await this.#writing.catch(() => undefined);
    await discardValidatingBatch(this.#ctx, this.id);
  }

  /** Hands the batch to the dispatcher, or refuses it (then the caller discards it). */
  async activate(claim?: { key: string; value: string; ttlSeconds: number }): Promise<Activation> {
    await this.#flush();
    const { keys, config } = this.#ctx;
    const now = Date.now();
    const k = [
      keys.batch(this.id),
      keys.batchItems(this.id),
      keys.tenantBatches(this.tenant),
      keys.tenantPending(this.tenant),
      keys.dispatchRing,
      keys.openGenerations(this.tenant),
      keys.tenantLimits(this.tenant),
      keys.tenantDailyImages(this.tenant, utcDay(now)),
      keys.batchesToFinalize,
      keys.validatingBatches,
    ];
    if (claim) k.push(claim.key);
    const args = [
      this.id,
      String(this.#count),
      String(now),
      String(config.limits.tenantMaxUnfinished),
      String(DAILY_COUNTER_TTL_SECONDS),
      claim?.value ?? '',
      String(claim?.ttlSeconds ?? 0),
      this.tenant,
      String(this.createdAt),
    ];
    const reply = (await this.#ctx.redis.eval(ACTIVATE, k.length, ...k, ...args)) as string[];
    if (reply[0] === 'accepted') return { accepted: true };
    if (reply[0] === 'claimed') return { accepted: false, claimed: reply[1] ?? '' };
    if (reply[0] === 'quota') {
      const limit = reply[1] === 'daily_images' ? 'daily_images' : 'max_waiting';
      return { accepted: false, quota: { limit, current: Number(reply[2]), max: Number(reply[3]) } };
    }
    throw new Error(`batch ${this.id} is no longer validating`);
  }
}
