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

export const STATUSES = ['queued', 'generating', 'storing', 'succeeded', 'failed'] as const;
export type Status = (typeof STATUSES)[number];
export const TERMINAL: ReadonlySet<Status> = new Set(['succeeded', 'failed']);

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

// Updates only a record that exists, so a late worker never resurrects an expired one, and never
// moves a record out of a final status (a stalled worker waking up late must not undo the outcome).
// KEYS[2], the tenant's open index, is passed when the status may become final: the record leaves
// the index in the same step, so the index holds exactly the unfinished records, crash or not.
const UPDATE_IF_EXISTS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local nset = tonumber(ARGV[1])
local current = redis.call('HGET', KEYS[1], 'status')
if current == 'succeeded' or current == 'failed' then
  for i = 2, 1 + nset, 2 do
    if ARGV[i] == 'status' then return 2 end
  end
end
if nset > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 2, 1 + nset)) end
if KEYS[2] then
  local now = redis.call('HGET', KEYS[1], 'status')
  if now == 'succeeded' or now == 'failed' then redis.call('ZREM', KEYS[2], redis.call('HGET', KEYS[1], 'id')) end
end
for i = 2 + nset, #ARGV - 1 do redis.call('HDEL', KEYS[1], ARGV[i]) end
local ttl = tonumber(ARGV[#ARGV])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return 1`;

// Admission of a new record: refused when the tenant already has `max` unfinished records, or
// (with KEYS[3]) when the Idempotency-Key is already claimed; otherwise the record, its entry in
// the open index and the claim are written together.
// ARGV: max, id, created_at, claim value, claim ttl, then the record's field/value pairs.
const ADMIT = `
if KEYS[3] then
  local prior = redis.call('GET', KEYS[3])
  if prior then return {'claimed', prior} end
end
local open = redis.call('ZCARD', KEYS[2])
if open >= tonumber(ARGV[1]) then return {'full', tostring(open)} end
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
if KEYS[3] then redis.call('SET', KEYS[3], ARGV[4], 'EX', tonumber(ARGV[5])) end
return {'created'}`;

export type Admission = { created: true } | { created: false; full: number } | { created: false; claimed: string };

// Saves a paid Z.AI answer once: a repeat of the same save (a reply lost to a reconnect) changes
// nothing; an answer saved by a peer is kept, and this one is still counted as paid, on the record
// and in the fleet-wide total (KEYS[2]).
const SAVE_ANSWER = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local status = redis.call('HGET', KEYS[1], 'status')
local saved = redis.call('HGET', KEYS[1], 'zai')
if saved == ARGV[1] then return 'saved' end
redis.call('HINCRBY', KEYS[1], 'paid_generations', 1)
redis.call('INCR', KEYS[2])
if status == 'succeeded' or status == 'failed' then return 'finished' end
if saved then return 'other' end
redis.call('HSET', KEYS[1], 'status', 'storing', 'zai', ARGV[1], 'updated_at', ARGV[2])
redis.call('HDEL', KEYS[1], 'calling_until')
return 'saved'`;

/** What became of a paid answer handed to `saveAnswer`. */
export type AnswerSave = 'saved' | 'other' | 'finished' | 'gone';

export class GenerationStore {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** Writes a new record outside any admission control (tests, tools); it joins the open index. */
  async create(record: GenerationRecord): Promise<void> {
    await this.admit(record, { maxOpen: Number.MAX_SAFE_INTEGER });
  }

  /**
   * Creates `record` unless its tenant has `maxOpen` unfinished records, or `claim.key` is already
   * set (then its value is returned); one atomic step, so concurrent requests never overshoot.
   */
  async admit(record: GenerationRecord, opts: { maxOpen: number; claim?: { key: string; value: string; ttlSeconds: number } }): Promise<Admission> {
    const keys = [this.#keys.generation(record.id), this.#keys.openGenerations(record.tenant)];
    if (opts.claim) keys.push(opts.claim.key);
    const args = [String(opts.maxOpen), record.id, String(record.created_at), opts.claim?.value ?? '', String(opts.claim?.ttlSeconds ?? 0)];
    const reply = (await this.#redis.eval(ADMIT, keys.length, ...keys, ...args, ...encode(record).set)) as string[];
    if (reply[0] === 'created') return { created: true };
    if (reply[0] === 'claimed') return { created: false, claimed: reply[1] ?? '' };
    return { created: false, full: Number(reply[1]) };
  }

  /** How many generations of `tenant` have not yet succeeded or failed. */
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
   * record is gone, or if the update would change the status of a finished record.
   */
  async update(id: string, fields: Writable, ttlSeconds = 0): Promise<boolean> {
    const { set, del } = encode({ ...fields, updated_at: Date.now() });
    const args = [String(set.length), ...set, ...del, String(ttlSeconds)];
    const keys = [this.#keys.generation(id)];
    if (fields.status && TERMINAL.has(fields.status)) {
      // The tenant never changes, so reading it first is safe; a record that is gone has none.
      const tenant = await this.#redis.hget(keys[0]!, 'tenant');
      if (tenant === null) return false;
      keys.push(this.#keys.openGenerations(tenant));
    }
    const done = await this.#redis.eval(UPDATE_IF_EXISTS, keys.length, ...keys, ...args);
    return done === 1;
  }

  /**
   * Saves Z.AI's answer on the record (status `storing`, `calling_until` cleared) and counts it as
   * paid (on the record and fleet-wide), atomically and idempotently: `saved` (now or by an earlier try), `other` (a peer's answer
   * is already there), `finished` or `gone`.
   */
  async saveAnswer(id: string, zai: ZaiResult): Promise<AnswerSave> {
    const keys = [this.#keys.generation(id), this.#keys.paidGenerations];
    const done = await this.#redis.eval(SAVE_ANSWER, keys.length, ...keys, JSON.stringify(zai), String(Date.now()));
    return done as AnswerSave;
  }

  async increment(id: string, field: 'attempts'): Promise<number> {
    return this.#redis.hincrby(this.#keys.generation(id), field, 1);
  }

  async delete(id: string): Promise<void> {
    const tenant = await this.#redis.hget(this.#keys.generation(id), 'tenant');
    const tx = this.#redis.multi().del(this.#keys.generation(id), this.#keys.deliveries(id));
    if (tenant !== null) tx.zrem(this.#keys.openGenerations(tenant), id);
    await tx.exec();
  }
}
