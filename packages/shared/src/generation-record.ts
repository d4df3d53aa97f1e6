/**
 * The generation record: the API's view of a job, one Redis hash per generation, written by the
 * API (create) and the worker (stage changes). BullMQ's job is the execution; this is the promise
 * to the caller. It outlives BullMQ's retention of the job and carries the paid Z.AI result, so a
 * retry of any later stage never calls Z.AI again.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ErrorDetail } from './errors.ts';
import type { ZaiRequest } from './generation-request.ts';
import type { RedisKeys } from './keys.ts';

export const STATUSES = ['queued', 'generating', 'storing', 'succeeded', 'failed', 'canceled'] as const;
export type Status = (typeof STATUSES)[number];
export const TERMINAL: ReadonlySet<Status> = new Set(['succeeded', 'failed', 'canceled']);

export interface ContentFilter {
  role: string;
  level: number;
}

/** What Z.AI answered for the paid generation, saved before the image is copied. */
export interface ZaiResult {
  created: number;
  url: string;
  content_filter: ContentFilter[];
  received_at: number;
}

export interface StoredImage {
  bucket: string;
  key: string;
  sha256: string;
  bytes: number;
  content_type: string;
  width: number;
  height: number;
}

/** One earlier life of a retried generation, as it ended. */
export interface RetryRound {
  status: Status;
  error: ErrorDetail | null;
  failed_stage: string | null;
  started_at: number | null;
  completed_at: number | null;
  /** Attempts and paid Z.AI answers of that round alone. */
  attempts: number;
  paid_generations: number;
  retried_at: number;
  /** The admin token name that asked for the retry. */
  retried_by: string;
  /**
   * The bulk retry (its id) that reopened the record, so a run taking over a crashed one knows
   * whether the crash came after its own reopen; absent for single retries and older rounds.
   */
  retry_id?: string;
}

export interface WebhookState {
  event: string;
  webhook_id: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status_code?: number | undefined;
  last_error?: string | undefined;
}

const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'invalid JSON' });
      return z.NEVER;
    }
  }).pipe(schema);

const num = z.coerce.number();

const recordSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  status: z.enum(STATUSES),
  request: json(z.custom<ZaiRequest>((v) => typeof v === 'object' && v !== null)),
  webhook_url: z.string().optional(),
  metadata: json(z.record(z.string(), z.unknown())).optional(),
  created_at: num,
  updated_at: num,
  started_at: num.optional(),
  completed_at: num.optional(),
  attempts: num.default(0),
  paid_generations: num.default(0),
  /** Paid rounds after the first, made because the temporary image URL expired before the copy. */
  regenerations: num.default(0),
  /** After a failed copy, until the job ends: when the store stage (next) tries again. */
  next_attempt_at: num.optional(),
  /** Set while a worker waits for Z.AI: until then, no other worker may call for this record. */
  calling_until: num.optional(),
  zai: json(z.custom<ZaiResult>((v) => typeof v === 'object' && v !== null)).optional(),
  result: json(z.custom<StoredImage>((v) => typeof v === 'object' && v !== null)).optional(),
  error: json(z.custom<ErrorDetail>((v) => typeof v === 'object' && v !== null)).optional(),
  last_error: json(z.custom<ErrorDetail>((v) => typeof v === 'object' && v !== null)).optional(),
  webhook: json(z.custom<WebhookState>((v) => typeof v === 'object' && v !== null)).optional(),
  batch_id: z.string().optional(),
  /** The caller's name for a batch item, unique within its batch, and the item's line (0-based). */
  custom_id: z.string().optional(),
  batch_index: num.optional(),
  /** Epoch ms: a generation that has not called Z.AI by then is canceled instead. */
  cancel_after: num.optional(),
  /** '1' once the record has left `queued` for the first time (counted as running in its batch). */
  started: z.literal('1').optional(),
  /** Where a failed generation failed: the stage (generate, store) or `admit`. */
  failed_stage: z.string().optional(),
  /** Admin retries so far (absent: none); each one is a new round with its own job and webhook ids. */
  retries: num.optional(),
  /** When the current round was started by a retry (the store stage's retry window restarts then). */
  retried_at: num.optional(),
  history: json(z.array(z.custom<RetryRound>((v) => typeof v === 'object' && v !== null))).optional(),
  /** Webhook re-sends asked for on a succeeded generation. */
  webhook_resends: num.optional(),
});
export type GenerationRecord = z.output<typeof recordSchema>;

type Writable = Partial<{
  [K in keyof GenerationRecord]: GenerationRecord[K] | null;
}>;

export function newGenerationId(): string {
  return `gen_${randomUUID().replaceAll('-', '')}`;
}

function encode(fields: Writable): { set: string[]; del: string[] } {
  const set: string[] = [];
  const del: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (v === null) del.push(k);
    else set.push(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  return { set, del };
}

// KEYS: the records' five admit indexes (#admitIndexes), then (optional) a list for the ids.
// ARGV: the generation key prefix, the record count, then every record packed into one MessagePack
// array of strings (packStrings): id, created_at, field count, fields, for each record in turn.
// One argument for the chunk, not one per field: ioredis builds a command's bytes argument by
// argument, and for a MULTI of HSETs that was a fifth of all a batch upload allocated; Redis
// decodes the array in C (cmsgpack). The keys are built here from the prefix, as the dispatcher's
// scripts do.
const CREATE_MANY = `
local prefix, n = ARGV[1], tonumber(ARGV[2])
local a = cmsgpack.unpack(ARGV[3])
local at, ids, scores = 1, {}, {}
for r = 1, n do
  local id, created, count = a[at], a[at + 1], tonumber(a[at + 2])
  redis.call('HSET', prefix .. id, unpack(a, at + 3, at + 2 + count))
  at = at + 3 + count
  ids[r] = id
  scores[2 * r - 1] = created
  scores[2 * r] = id
end
if KEYS[6] then redis.call('RPUSH', KEYS[6], unpack(ids)) end
for k = 1, 5 do redis.call('ZADD', KEYS[k], unpack(scores)) end
return n`;

/** Records per CREATE_MANY call at most: its ZADDs unpack two values a record (Lua's unpack has a stack limit). */
const CREATE_MANY_MAX = 1000;

/** `values` as one MessagePack array of strings (UTF-8), written straight into one Buffer. */
function packStrings(values: readonly string[]): Buffer {
  let size = values.length < 0x10000 ? 3 : 5;
  for (let i = 0; i < values.length; i++) {
    const len = Buffer.byteLength(values[i] ?? '');
    size += len + (len < 32 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5);
  }
  const buf = Buffer.allocUnsafe(size);
  let at = values.length < 0x10000 ? buf.writeUInt16BE(values.length, buf.writeUInt8(0xdc, 0)) : buf.writeUInt32BE(values.length, buf.writeUInt8(0xdd, 0));
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? '';
    const len = Buffer.byteLength(v);
    if (len < 32) at = buf.writeUInt8(0xa0 | len, at);
    else if (len < 0x100) at = buf.writeUInt8(len, buf.writeUInt8(0xd9, at));
    else if (len < 0x10000) at = buf.writeUInt16BE(len, buf.writeUInt8(0xda, at));
    else at = buf.writeUInt32BE(len, buf.writeUInt8(0xdb, at));
    at += buf.write(v, at);
  }
  return buf;
}

// A status change moves the record between the indexes, and counts it in its batch, in the same
// script as the change itself, crash or not. `k` names, in order: the tenant's open index, the
// tenant's and the global index of the old status, then of the new one, the batch (items only) and
// the batches to finalize. Batch counters: `running` counts items that left `queued` and have not
// ended; each final status has its own counter; the item that ends the batch moves it to
// `finalizing` and queues it for its results file and event.
const MOVE = `
local final = { succeeded = true, failed = true, canceled = true }
local function move(gen, k, current, nextStatus, now)
  if nextStatus == current then return end
  local f = redis.call('HMGET', gen, 'id', 'created_at', 'started')
  local id, created, started = f[1], f[2], f[3]
  redis.call('ZREM', k[2], id)
  redis.call('ZREM', k[3], id)
  redis.call('ZADD', k[4], created, id)
  redis.call('ZADD', k[5], created, id)
  if final[nextStatus] then redis.call('ZREM', k[1], id) end
  if not k[6] or redis.call('EXISTS', k[6]) == 0 then return end
  if (nextStatus == 'generating' or nextStatus == 'storing') and not started then
    redis.call('HSET', gen, 'started', '1')
    redis.call('HINCRBY', k[6], 'running', 1)
    redis.call('HSETNX', k[6], 'first_started_at', now)
  elseif final[nextStatus] then
    if started then redis.call('HINCRBY', k[6], 'running', -1) end
    redis.call('HINCRBY', k[6], nextStatus, 1)
    local c = redis.call('HMGET', k[6], 'total', 'succeeded', 'failed', 'canceled', 'status', 'id')
    local ended = (tonumber(c[2]) or 0) + (tonumber(c[3]) or 0) + (tonumber(c[4]) or 0)
    if ended >= tonumber(c[1]) and (c[5] == 'in_progress' or c[5] == 'canceling') then
      redis.call('HSET', k[6], 'status', 'finalizing', 'finalizing_at', now, 'updated_at', now)
      redis.call('ZADD', k[7], now, c[6])
    end
  end
end
`;

// Updates only a record that exists, so a late worker never resurrects an expired one, and never
// moves a record out of a final status (a stalled worker waking up late must not undo the outcome).
// A batch item never starts once its batch is canceled (5: `queued` → `generating` refused while the
// batch has canceling_at; batch-cancel.ts).
// KEYS[1] the record, KEYS[2..8] the `k` of move() (status changes only).
// ARGV: nset, ndel, ttl, the status the caller read (status changes only: the old-status keys are
// named after it, so 4 = read again), the statuses the change is allowed from ('' = any open one;
// 3 = refused), now, the `retries` the record must have ('' = any; 3 = refused), then nset
// field/value items and ndel field names.
const UPDATE_IF_EXISTS = MOVE + `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local nset, ndel, ttl, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[6]
if ARGV[7] ~= '' and (redis.call('HGET', KEYS[1], 'retries') or '0') ~= ARGV[7] then return 3 end
local current = redis.call('HGET', KEYS[1], 'status')
local nextStatus = nil
for i = 8, 7 + nset, 2 do
  if ARGV[i] == 'status' then nextStatus = ARGV[i + 1] end
end
if nextStatus then
  if final[current] then return 2 end
  if ARGV[4] ~= current then return 4 end
  if ARGV[5] ~= '' and not string.find(',' .. ARGV[5] .. ',', ',' .. current .. ',', 1, true) then return 3 end
  if current == 'queued' and nextStatus == 'generating' and KEYS[7] and redis.call('HEXISTS', KEYS[7], 'canceling_at') == 1 then return 5 end
end
if nset > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 8, 7 + nset)) end
for i = 8 + nset, 7 + nset + ndel do redis.call('HDEL', KEYS[1], ARGV[i]) end
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
if nextStatus then move(KEYS[1], { unpack(KEYS, 2) }, current, nextStatus, now) end
return 1`;

// Admission of a new record: refused when the tenant already has its most unfinished records
// (ARGV[1], or with quotas its `max_waiting` in KEYS[7]), when (with quotas) the day's images
// (KEYS[8]) reached its `daily_images`, or (with KEYS[9]) when the Idempotency-Key is already
// claimed; otherwise the record, its entries in the indexes (KEYS[2] open, KEYS[3..6] the tenant's
// and the global index of all generations and of `queued`), the day's count and the claim are
// written together.
// ARGV: max, id, created_at, claim value, claim ttl, quotas ('1' or ''), day counter ttl, then the
// record's field/value pairs.
const ADMIT = `
if KEYS[9] then
  local prior = redis.call('GET', KEYS[9])
  if prior then return {'claimed', prior} end
end
local max, tenantMax, budget = tonumber(ARGV[1]), false, nil
if ARGV[6] == '1' then
  local l = redis.call('HMGET', KEYS[7], 'max_waiting', 'daily_images')
  if l[1] then max, tenantMax = tonumber(l[1]), true end
  budget = tonumber(l[2])
end
local open = redis.call('ZCARD', KEYS[2])
if open >= max then return {'full', tostring(open), tenantMax and tostring(max) or ''} end
if budget then
  local used = tonumber(redis.call('GET', KEYS[8]) or '0')
  if used + 1 > budget then return {'budget', tostring(used), tostring(budget)} end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
for i = 2, 6 do redis.call('ZADD', KEYS[i], ARGV[3], ARGV[2]) end
if ARGV[6] == '1' then
  redis.call('INCR', KEYS[8])
  redis.call('EXPIRE', KEYS[8], tonumber(ARGV[7]))
end
if KEYS[9] then redis.call('SET', KEYS[9], ARGV[4], 'EX', tonumber(ARGV[5])) end
return {'created'}`;

// Reopens a failed record for an admin retry, the only way out of a final status. KEYS[1] the
// record, KEYS[2..8] the `k` of move() from `failed` to ARGV[1] (`queued` or `storing`), KEYS[9]
// the batch's item list (in a batch). ARGV: the new status, the `retries` count the caller read
// (optimistic: 'reread' if it moved), now, nset, ndel, the batch's reopen window in ms, then
// field/value items and field names. A batch that was canceled, or completed longer ago than the
// window (its succeeded items may be gone: a new results file would lose them), is `batch_closed`. The
// record leaves the retention clock (PERSIST), re-enters the open index and the new status's
// indexes; in a batch the item stops counting as failed and counts as queued (`started` cleared)
// or running again, and a batch that was finalizing or completed goes back to in_progress with
// `reopened` counted (the finalize job and the batch.completed event of the next end need ids of
// their own: see batch-contract notes), its hash and item list taken off the retention clock that
// its end started.
const REOPEN = `
local k = { unpack(KEYS, 2) }
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local f = redis.call('HMGET', KEYS[1], 'status', 'retries', 'id', 'created_at', 'started')
if f[1] ~= 'failed' then return 'not_failed' end
if (f[2] or '0') ~= ARGV[2] then return 'reread' end
local batch = k[6] and redis.call('EXISTS', k[6]) == 1
if batch then
  local b = redis.call('HMGET', k[6], 'status', 'canceling_at', 'completed_at')
  local bs = b[1]
  if bs ~= 'in_progress' and bs ~= 'finalizing' and bs ~= 'completed' then return 'batch_closed' end
  if b[2] then return 'batch_closed' end
  if bs == 'completed' and b[3] and tonumber(b[3]) + tonumber(ARGV[6]) <= tonumber(ARGV[3]) then return 'batch_closed' end
end
local nset, ndel = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'status', ARGV[1], unpack(ARGV, 7, 6 + nset))
for i = 7 + nset, 6 + nset + ndel do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('PERSIST', KEYS[1])
local id, created = f[3], f[4]
redis.call('ZREM', k[2], id)
redis.call('ZREM', k[3], id)
redis.call('ZADD', k[4], created, id)
redis.call('ZADD', k[5], created, id)
redis.call('ZADD', k[1], created, id)
if batch then
  redis.call('HINCRBY', k[6], 'failed', -1)
  if ARGV[1] == 'queued' then
    redis.call('HDEL', KEYS[1], 'started')
  else
    redis.call('HSET', KEYS[1], 'started', '1')
    redis.call('HINCRBY', k[6], 'running', 1)
  end
  local bs = redis.call('HGET', k[6], 'status')
  if bs == 'finalizing' or bs == 'completed' then
    redis.call('PERSIST', k[6])
    redis.call('PERSIST', k[8])
    redis.call('HSET', k[6], 'status', 'in_progress', 'updated_at', ARGV[3])
    redis.call('HDEL', k[6], 'finalizing_at', 'completed_at')
    redis.call('HINCRBY', k[6], 'reopened', 1)
    redis.call('ZREM', k[7], redis.call('HGET', k[6], 'id'))
  end
end
return 'reopened'`;

/** What became of a reopen: `reopened`, or why not. */
export type Reopen = 'reopened' | 'gone' | 'not_failed' | 'batch_closed';

export type Admission =
  | { created: true }
  /** `max`: set when the tenant's own `max_waiting` (not the default) refused it. */
  | { created: false; full: number; max?: number }
  /** The tenant's daily image budget is spent: `used` of `max` today. */
  | { created: false; budget: { used: number; max: number } }
  | { created: false; claimed: string };

/** Tenant quotas applied by admit: the UTC day (YYYY-MM-DD) whose image count is checked and raised. */
export interface AdmitQuota {
  day: string;
  /** Lifetime of the day's counter. */
  ttlSeconds: number;
}

// Saves a paid Z.AI answer once: a repeat of the same save (a reply lost to a reconnect) changes
// nothing; an answer saved by a peer is kept, and this one is still counted as paid, on the record
// and in the fleet-wide total (KEYS[2]). KEYS[3..9] the `k` of move(); ARGV: answer, now, the
// status the caller read (4 = read again).
const SAVE_ANSWER = MOVE + `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local status = redis.call('HGET', KEYS[1], 'status')
local saved = redis.call('HGET', KEYS[1], 'zai')
if saved == ARGV[1] then return 'saved' end
if not final[status] and not saved and status ~= ARGV[3] then return 'reread' end
redis.call('HINCRBY', KEYS[1], 'paid_generations', 1)
redis.call('INCR', KEYS[2])
if final[status] then return 'finished' end
if saved then return 'other' end
redis.call('HSET', KEYS[1], 'status', 'storing', 'zai', ARGV[1], 'updated_at', ARGV[2])
redis.call('HDEL', KEYS[1], 'calling_until')
move(KEYS[1], { unpack(KEYS, 3) }, status, 'storing', ARGV[2])
return 'saved'`;

/** What became of a paid answer handed to `saveAnswer`. */
export type AnswerSave = 'saved' | 'other' | 'finished' | 'gone';

// Marks the record as being called for, in the same step as the checks that allow it, so two runs
// of one job (a stalled worker and the peer that took its job over) can never both call: the
// record must exist, be open, hold no saved answer and no unexpired mark, and (a batch item still
// `queued`) its batch must not be canceled (batch-cancel.ts). The mark moves it to
// `generating` (with move()'s bookkeeping) and counts the attempt. KEYS[1] the record, KEYS[2..8]
// the `k` of move(); ARGV: the status the caller read ('reread' if it moved), now, the mark's end.
const MARK_CALLING = MOVE + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
local f = redis.call('HMGET', KEYS[1], 'status', 'zai', 'calling_until', 'started_at')
local status, now = f[1], ARGV[2]
if final[status] then return {'gone'} end
if f[2] then return {'answered'} end
if f[3] and tonumber(f[3]) > tonumber(now) then return {'busy', f[3]} end
if status ~= ARGV[1] then return {'reread'} end
if status == 'queued' and KEYS[7] and redis.call('HEXISTS', KEYS[7], 'canceling_at') == 1 then return {'batch_canceled'} end
redis.call('HSET', KEYS[1], 'status', 'generating', 'calling_until', ARGV[3], 'updated_at', now)
if not f[4] then redis.call('HSET', KEYS[1], 'started_at', now) end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
move(KEYS[1], { unpack(KEYS, 2) }, status, 'generating', now)
return {'marked'}`;

/**
 * What became of `markCalling`: `marked` (call now), `busy` (a peer's mark holds until `until`,
 * epoch ms), `answered` (an answer is saved: nothing to call for), `batch_canceled` (a queued item
 * of a canceled batch: never to start) or `gone` (missing or finished).
 */
export type CallingMark = { state: 'marked' } | { state: 'busy'; until: number } | { state: 'answered' } | { state: 'batch_canceled' } | { state: 'gone' };

type Fields3 = [string | null, string | null, string | null];

/** Options of GenerationStore.update for a status change. */
export interface UpdateOptions {
  /** Starts the retention clock. */
  ttlSeconds?: number;
  /** The change happens only from one of these statuses (default: from any open one). */
  onlyFrom?: readonly Status[];
  /**
   * The change happens only in this life of the record (its `retries`): a late write for a job of
   * an earlier life never touches a record an admin retry has reopened since.
   */
  retries?: number;
}

export class GenerationStore {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** Writes a new record outside any admission control (tests, tools); it joins the indexes. */
  async create(record: GenerationRecord): Promise<void> {
    await this.admit(record, { maxOpen: Number.MAX_SAFE_INTEGER });
  }

  /**
   * Creates `record` unless its tenant has `maxOpen` unfinished records, or `claim.key` is already
   * set (then its value is returned); one atomic step, so concurrent requests never overshoot.
   */
  async admit(
    record: GenerationRecord,
    opts: { maxOpen: number; quota?: AdmitQuota; claim?: { key: string; value: string; ttlSeconds: number } },
  ): Promise<Admission> {
    const day = opts.quota?.day ?? '';
    const keys = [
      this.#keys.generation(record.id),
      ...this.#admitIndexes(record),
      this.#keys.tenantLimits(record.tenant),
      this.#keys.tenantDailyImages(record.tenant, day),
    ];
    if (opts.claim) keys.push(opts.claim.key);
    const args = [
      String(opts.maxOpen),
      record.id,
      String(record.created_at),
      opts.claim?.value ?? '',
      String(opts.claim?.ttlSeconds ?? 0),
      opts.quota ? '1' : '',
      String(opts.quota?.ttlSeconds ?? 0),
    ];
    const reply = (await this.#redis.eval(ADMIT, keys.length, ...keys, ...args, ...encode(record).set)) as string[];
    if (reply[0] === 'created') return { created: true };
    if (reply[0] === 'claimed') return { created: false, claimed: reply[1] ?? '' };
    if (reply[0] === 'budget') return { created: false, budget: { used: Number(reply[1]), max: Number(reply[2]) } };
    return reply[2] ? { created: false, full: Number(reply[1]), max: Number(reply[2]) } : { created: false, full: Number(reply[1]) };
  }

  /**
   * Writes many new `queued` records with their index entries, without admission control (the
   * caller checked its limits for all of them at once): one script per chunk, so each chunk is
   * whole. With `list`, the chunk's ids are appended to it in the same script.
   */
  async createMany(records: readonly GenerationRecord[], chunk = 500, opts: { list?: string } = {}): Promise<void> {
    for (let i = 0; i < records.length; ) {
      const first = records[i];
      if (!first) break;
      // The records of a run share their tenant and status (one batch's items do), so their index
      // keys: a run ends at a change of either, or after `chunk` records.
      const end = Math.min(i + Math.min(chunk, CREATE_MANY_MAX), records.length);
      let j = i + 1;
      while (j < end && records[j]?.tenant === first.tenant && records[j]?.status === first.status) j += 1;
      const run = records.slice(i, j);
      i = j;
      const indexes = this.#admitIndexes(first);
      const values: string[] = [];
      for (const record of run) {
        const set = encode(record).set;
        values.push(record.id, String(record.created_at), String(set.length));
        for (let f = 0; f < set.length; f++) values.push(set[f] ?? '');
      }
      if (opts.list) indexes.push(opts.list);
      await this.#redis.eval(CREATE_MANY, indexes.length, ...indexes, this.#keys.generation(''), String(run.length), packStrings(values));
    }
  }

  #admitIndexes(record: GenerationRecord): string[] {
    return [
      this.#keys.openGenerations(record.tenant),
      this.#keys.tenantGenerations(record.tenant),
      this.#keys.generations,
      this.#keys.tenantStatus(record.tenant, record.status),
      this.#keys.statusIndex(record.status),
    ];
  }

  /** The keys move() needs for a change of `tenant`'s record from `from` to `to`. */
  #moveKeys(tenant: string, batchId: string | null, from: string, to: string): string[] {
    const keys = [
      this.#keys.openGenerations(tenant),
      this.#keys.tenantStatus(tenant, from),
      this.#keys.statusIndex(from),
      this.#keys.tenantStatus(tenant, to),
      this.#keys.statusIndex(to),
    ];
    if (batchId) keys.push(this.#keys.batch(batchId), this.#keys.batchesToFinalize);
    return keys;
  }

  /** How many generations of `tenant` have not yet ended. */
  async openCount(tenant: string): Promise<number> {
    return this.#redis.zcard(this.#keys.openGenerations(tenant));
  }

  async get(id: string): Promise<GenerationRecord | undefined> {
    const raw = await this.#redis.hgetall(this.#keys.generation(id));
    if (!raw.id) return undefined;
    return recordSchema.parse(raw);
  }

  /**
   * Sets (or with null, clears) fields; `ttlSeconds` starts the retention clock. False if the
   * record is gone, if the update would change the status of a finished record, if the status
   * is not one of `onlyFrom`, or if it would start (`generating`) an item of a canceled batch.
   */
  async update(id: string, fields: Writable, opts: number | UpdateOptions = {}): Promise<boolean> {
    const { ttlSeconds = 0, onlyFrom = [], retries } = typeof opts === 'number' ? { ttlSeconds: opts } : opts;
    const { set, del } = encode({ ...fields, updated_at: Date.now() });
    const gen = this.#keys.generation(id);
    for (;;) {
      const keys = [gen];
      let read = '';
      if (fields.status) {
        // The tenant and batch never change, so reading them first is safe; the status is checked
        // again in the script (4: it moved meanwhile, read again).
        const [tenant, batchId, status] = (await this.#redis.hmget(gen, 'tenant', 'batch_id', 'status')) as Fields3;
        if (tenant === null || status === null) return false;
        if (TERMINAL.has(status as Status)) return false;
        read = status;
        keys.push(...this.#moveKeys(tenant, batchId, status, fields.status));
      }
      const args = [String(set.length), String(del.length), String(ttlSeconds), read, onlyFrom.join(','), String(Date.now()), retries === undefined ? '' : String(retries), ...set, ...del];
      const done = await this.#redis.eval(UPDATE_IF_EXISTS, keys.length, ...keys, ...args);
      if (done !== 4) return done === 1;
    }
  }

  /**
   * Cancels a generation that has not called Z.AI (status `queued`, no saved answer): true if it is
   * now canceled by this call. A worker that reads it afterwards finds it final and never calls.
   */
  async cancel(id: string, detail: ErrorDetail, ttlSeconds: number): Promise<boolean> {
    const now = Date.now();
    return this.update(id, { status: 'canceled', error: detail, completed_at: now, next_attempt_at: null }, { ttlSeconds, onlyFrom: ['queued'] });
  }

  /**
   * Saves Z.AI's answer on the record (status `storing`, `calling_until` cleared) and counts it as
   * paid (on the record and fleet-wide), atomically and idempotently: `saved` (now or by an earlier
   * try), `other` (a peer's answer is already there), `finished` or `gone`.
   */
  async saveAnswer(id: string, zai: ZaiResult): Promise<AnswerSave> {
    const gen = this.#keys.generation(id);
    const answer = JSON.stringify(zai);
    for (;;) {
      const [tenant, batchId, status] = (await this.#redis.hmget(gen, 'tenant', 'batch_id', 'status')) as Fields3;
      if (tenant === null || status === null) return 'gone';
      const keys = [gen, this.#keys.paidGenerations, ...this.#moveKeys(tenant, batchId, status, 'storing')];
      const done = (await this.#redis.eval(SAVE_ANSWER, keys.length, ...keys, answer, String(Date.now()), status)) as AnswerSave | 'reread';
      if (done !== 'reread') return done;
    }
  }

  /**
   * Reopens a failed record (admin retry) as `to`, with `fields` set and `clear` removed; refuses
   * anything but `failed` (a concurrent retry reopened it first: `not_failed`), and a batch item
   * whose batch was canceled or completed more than `batchWindowMs` ago (`batch_closed`).
   */
  async reopen(id: string, to: 'queued' | 'storing', fields: Writable, readRetries: number, batchWindowMs: number): Promise<Reopen | 'reread'> {
    const gen = this.#keys.generation(id);
    const [tenant, batchId] = (await this.#redis.hmget(gen, 'tenant', 'batch_id')) as [string | null, string | null];
    if (tenant === null) return 'gone';
    const keys = [gen, ...this.#moveKeys(tenant, batchId, 'failed', to)];
    // An ended batch's hash and item list are on the retention clock: a reopen takes them off it.
    if (batchId) keys.push(this.#keys.batchItems(batchId));
    const { set, del } = encode({ ...fields, updated_at: Date.now() });
    const args = [to, String(readRetries), String(Date.now()), String(set.length), String(del.length), String(batchWindowMs), ...set, ...del];
    return (await this.#redis.eval(REOPEN, keys.length, ...keys, ...args)) as Reopen | 'reread';
  }

  /**
   * Claims the paid call of a generation until `until` (epoch ms), checked and marked in one step:
   * only one of concurrent claimers gets `marked` (status `generating`, `started_at` kept or set,
   * one more attempt); the others `busy` until the mark expires, after which a claim takes it over.
   */
  async markCalling(id: string, mark: { now: number; until: number }): Promise<CallingMark> {
    const gen = this.#keys.generation(id);
    for (;;) {
      const [tenant, batchId, status] = (await this.#redis.hmget(gen, 'tenant', 'batch_id', 'status')) as Fields3;
      if (tenant === null || status === null) return { state: 'gone' };
      const keys = [gen, ...this.#moveKeys(tenant, batchId, status, 'generating')];
      const reply = (await this.#redis.eval(MARK_CALLING, keys.length, ...keys, status, String(mark.now), String(mark.until))) as string[];
      if (reply[0] === 'busy') return { state: 'busy', until: Number(reply[1]) };
      if (reply[0] !== 'reread') return { state: reply[0] as 'marked' | 'answered' | 'batch_canceled' | 'gone' };
    }
  }

  /**
   * Removes `tenant`'s records that were written `queued` but never accepted (a batch refused
   * before it was handed to the dispatcher), with their index entries, in MULTI chunks.
   */
  async deleteUnaccepted(tenant: string, ids: readonly string[], chunk = 1000): Promise<void> {
    const indexes = this.#admitIndexes({ tenant, status: 'queued' } as GenerationRecord);
    for (let i = 0; i < ids.length; i += chunk) {
      const part = ids.slice(i, i + chunk);
      const tx = this.#redis.multi().del(...part.map((id) => this.#keys.generation(id)));
      for (const index of indexes) tx.zrem(index, ...part);
      await tx.exec();
    }
  }

  /** Removes a record that never ran (its job could not be enqueued) and its index entries. */
  async delete(id: string): Promise<void> {
    const [tenant, status] = (await this.#redis.hmget(this.#keys.generation(id), 'tenant', 'status')) as Fields3;
    const tx = this.#redis.multi().del(this.#keys.generation(id), this.#keys.deliveries(id));
    if (tenant !== null) {
      tx.zrem(this.#keys.openGenerations(tenant), id).zrem(this.#keys.tenantGenerations(tenant), id).zrem(this.#keys.generations, id);
      if (status !== null) tx.zrem(this.#keys.tenantStatus(tenant, status), id).zrem(this.#keys.statusIndex(status), id);
    }
    await tx.exec();
  }
}
