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
for i = 2 + nset, #ARGV - 1 do redis.call('HDEL', KEYS[1], ARGV[i]) end
local ttl = tonumber(ARGV[#ARGV])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return 1`;

export class GenerationStore {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async create(record: GenerationRecord): Promise<void> {
    await this.#redis.hset(this.#keys.generation(record.id), ...encode(record).set);
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
    const done = await this.#redis.eval(UPDATE_IF_EXISTS, 1, this.#keys.generation(id), ...args);
    return done === 1;
  }

  async increment(id: string, field: 'attempts' | 'paid_generations'): Promise<number> {
    return this.#redis.hincrby(this.#keys.generation(id), field, 1);
  }

  async delete(id: string): Promise<void> {
    await this.#redis.del(this.#keys.generation(id), this.#keys.deliveries(id));
  }
}
