/**
 * The bulk retry object (POST /admin/v1/retries): one hash per retry (keys.retry), and every retry
 * by creation time (keys.retries). It is the audit record too: who (the admin token name), when,
 * the filter or ids, what the dry run found when it started (`planned`), and the progress. The
 * worker's `retries` processor is its only runner. It never holds the matched ids: it walks them
 * page by page (the ids given, or the filter's index by its search cursor), and saves, before each
 * generation, which one it is about to retry (`current`) and, after it, the cursor just past it
 * with the counts, in one step. A run that crashed is taken up where it stopped: the generation it
 * was retrying is finished first (its job added if the crash left it out), then the walk goes on
 * from the saved cursor, so nothing is retried or counted twice.
 * Records written before the walk (a `snapshotted` id list at keys.retryIds, `position` in it) are
 * worked through from that list.
 * Life: `running` → `completed`, or `aborted` (POST …/abort; the runner stops before its next id).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { adminFilterSchema, forEachMatch, type GenerationFilter, type SearchDeps } from './generation-search.ts';
import { planRetryNow, type RetryAction, type RetryOutcome, type RetryPlan } from './generation-retry.ts';
import type { GenerationRecord } from './generation-record.ts';
import type { RedisKeys } from './keys.ts';
import type { Queues } from './queues.ts';

export const RETRY_STATUSES = ['running', 'completed', 'aborted'] as const;
export type RetryStatus = (typeof RETRY_STATUSES)[number];

/** What a bulk retry asks for: a list of ids or a filter, and whether succeeded ones re-send their webhook. */
export const retryRequestSchema = z
  .strictObject({
    ids: z.array(z.string().regex(/^gen_[0-9a-f]{32}$/)).min(1).max(10_000).optional(),
    filter: adminFilterSchema.optional(),
    resend_webhook: z.boolean().default(false),
    dry_run: z.boolean().default(false),
  })
  .refine((r) => (r.ids === undefined) !== (r.filter === undefined), { message: 'give either ids or filter' });
export type RetryRequest = z.output<typeof retryRequestSchema>;

/** The dry run's answer, also kept on the retry object as `planned`. */
export interface RetryCounts {
  matched: number;
  by_error_code: Record<string, number>;
  by_stage: Record<string, number>;
  /** What a retry would do: copy a saved answer again (store), call Z.AI again (generate, paid), re-send a webhook. */
  actions: { store: number; generate: number; resend_webhook: number };
  skipped: Record<string, number>;
  /** Of `actions`: records a crashed retry left reopened without a job, whose job would be added again. */
  resumed: number;
  /** Generations whose retry needs a new paid Z.AI call. */
  new_paid_calls: number;
}

export function emptyCounts(): RetryCounts {
  return { matched: 0, by_error_code: {}, by_stage: {}, actions: { store: 0, generate: 0, resend_webhook: 0 }, skipped: {}, resumed: 0, new_paid_calls: 0 };
}

/** Adds `record` (or a missing one) and what a retry would do to it to the dry-run counts. */
export function countPlan(counts: RetryCounts, record: GenerationRecord | undefined, plan: RetryPlan): void {
  counts.matched++;
  const code = record?.error?.code ?? 'none';
  const stage = record?.failed_stage ?? 'none';
  counts.by_error_code[code] = (counts.by_error_code[code] ?? 0) + 1;
  counts.by_stage[stage] = (counts.by_stage[stage] ?? 0) + 1;
  if ('skip' in plan) counts.skipped[plan.skip] = (counts.skipped[plan.skip] ?? 0) + 1;
  else counts.actions[plan.action]++;
  if ('action' in plan && plan.resumed) counts.resumed++;
  if ('action' in plan && plan.action === 'generate') counts.new_paid_calls++;
}

/** The dry run of `request`: what a retry of each generation it matches would do now, counted page by page. */
export async function countRetry(
  deps: SearchDeps & { queues: Queues },
  request: { ids?: readonly string[] | undefined; filter?: GenerationFilter | undefined; resend_webhook: boolean },
  now = Date.now(),
): Promise<RetryCounts> {
  const counts = emptyCounts();
  const opts = { resendWebhook: request.resend_webhook, now };
  const count = async (record: GenerationRecord | undefined) => countPlan(counts, record, await planRetryNow(deps.queues, record, opts));
  if (request.ids) {
    for (const id of new Set(request.ids)) await count(await deps.generations.get(id));
  } else {
    await forEachMatch(deps, request.filter ?? {}, async (records) => {
      for (const record of records) await count(record);
    });
  }
  return counts;
}

const json = z.string().transform((s) => JSON.parse(s) as unknown);
const num = z.coerce.number();
const retrySchema = z.object({
  id: z.string(),
  who: z.string(),
  status: z.enum(RETRY_STATUSES),
  created_at: num,
  updated_at: num,
  completed_at: num.optional(),
  request: json.pipe(z.object({ ids: z.array(z.string()).optional(), filter: adminFilterSchema.optional(), resend_webhook: z.boolean() })),
  // Counts saved before `resumed` was counted read as none resumed.
  planned: json.pipe(z.custom<RetryCounts>((v) => typeof v === 'object' && v !== null)).transform((c) => ({ ...c, resumed: c.resumed ?? 0 })).optional(),
  /** Set by runners before the walk: the matched ids are in keys.retryIds, `position` indexes them. */
  snapshotted: z.literal('1').optional(),
  matched: num.default(0),
  /** How many generations were done (retried or skipped). */
  position: num.default(0),
  /** The walk's place, just past the last generation done (an index into the ids, or a search cursor). */
  cursor: z.string().optional(),
  current: json.pipe(z.custom<RetryIntent>((v) => typeof v === 'object' && v !== null)).optional(),
  retried: num.default(0),
  /** Of `retried`: records a crash had left reopened without a job (or re-sent without the message), whose job was added again. */
  resumed: num.default(0),
  skipped_total: num.default(0),
});
export type RetryRecord = z.output<typeof retrySchema> & { skipped: Record<string, number> };

/**
 * The generation a runner is about to retry: its id, the cursor just past it, its `retries` and
 * `webhook_resends` as read just before, and the planned action. Intents saved before
 * `webhook_resends` was kept lack it; so do the rounds their runs reopened of a `retry_id`.
 */
export interface RetryIntent {
  id: string;
  cursor: string;
  retries: number;
  webhook_resends?: number;
  action: RetryAction | null;
}

const SKIPPED = 'skipped:';
/** How long a finished retry object (its audit) is kept. */
export const RETRY_RETENTION_SECONDS = 30 * 86_400;

// Ends a retry only if it still runs (an abort and the runner's end race; the first one wins).
const FINISH = `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'completed_at', ARGV[2], 'updated_at', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1`;

export function newRetryId(): string {
  return `retry_${randomUUID().replaceAll('-', '')}`;
}

export class RetryStore {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async create(who: string, request: { ids?: string[] | undefined; filter?: GenerationFilter | undefined; resend_webhook: boolean }): Promise<string> {
    const id = newRetryId();
    const now = Date.now();
    await this.#redis
      .multi()
      .hset(this.#keys.retry(id), { id, who, status: 'running', created_at: now, updated_at: now, request: JSON.stringify(request) })
      .zadd(this.#keys.retries, now, id)
      .exec();
    return id;
  }

  async get(id: string): Promise<RetryRecord | undefined> {
    const raw = await this.#redis.hgetall(this.#keys.retry(id));
    if (!raw.id) return undefined;
    const skipped: Record<string, number> = {};
    for (const [k, v] of Object.entries(raw)) if (k.startsWith(SKIPPED)) skipped[k.slice(SKIPPED.length)] = Number(v);
    return { ...retrySchema.parse(raw), skipped };
  }

  /** Newest first; entries whose object expired are dropped. */
  async list(limit: number, before?: number): Promise<RetryRecord[]> {
    const ids = await this.#redis.zrevrangebyscore(this.#keys.retries, before === undefined ? '+inf' : `(${before}`, '-inf', 'LIMIT', 0, limit);
    const found = await Promise.all(ids.map((id) => this.get(id)));
    const gone = ids.filter((_, i) => !found[i]);
    if (gone.length) await this.#redis.zrem(this.#keys.retries, ...gone);
    return found.filter((r): r is RetryRecord => r !== undefined);
  }

  /** Saves the dry-run counts of what the retry matched when its walk began. */
  async plan(id: string, planned: RetryCounts): Promise<void> {
    await this.#redis.hset(this.#keys.retry(id), { matched: planned.matched, planned: JSON.stringify(planned), updated_at: Date.now() });
  }

  /** The ids a record written before the walk snapshotted (`snapshotted`). */
  async ids(id: string, from: number, count: number): Promise<string[]> {
    return this.#redis.lrange(this.#keys.retryIds(id), from, from + count - 1);
  }

  /** Notes the generation about to be retried, so a crash before `progress` is finished on the next run. */
  async begin(id: string, intent: RetryIntent): Promise<void> {
    await this.#redis.hset(this.#keys.retry(id), 'current', JSON.stringify(intent));
  }

  /**
   * Counts the outcome of the current generation, the `done`th, and moves the cursor past it, in
   * one step. `matched` grows with `done`: generations that failed after the count are walked too.
   */
  async progress(id: string, outcome: RetryOutcome, at: { cursor: string; done: number; matched: number }): Promise<void> {
    const key = this.#keys.retry(id);
    const tx = this.#redis.multi().hset(key, 'cursor', at.cursor, 'position', at.done, 'matched', Math.max(at.done, at.matched), 'updated_at', Date.now()).hdel(key, 'current');
    if ('retried' in outcome) {
      tx.hincrby(key, 'retried', 1);
      if (outcome.resumed) tx.hincrby(key, 'resumed', 1);
    } else tx.hincrby(key, 'skipped_total', 1).hincrby(key, `${SKIPPED}${outcome.skipped}`, 1);
    await tx.exec();
  }

  /** Moves the cursor past entries that matched nothing (the rest of a page). */
  async skipTo(id: string, cursor: string): Promise<void> {
    await this.#redis.hset(this.#keys.retry(id), 'cursor', cursor);
  }

  /** Ends a running retry as `status`; false if it had already ended (aborted, completed). */
  async finish(id: string, status: 'completed' | 'aborted'): Promise<boolean> {
    const done = await this.#redis.eval(FINISH, 2, this.#keys.retry(id), this.#keys.retryIds(id), status, String(Date.now()), String(RETRY_RETENTION_SECONDS));
    return done === 1;
  }
}

/** The retry object an admin sees. */
export function toRetryView(r: RetryRecord) {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: r.id,
    object: 'retry' as const,
    status: r.status,
    who: r.who,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    completed_at: iso(r.completed_at),
    ids: r.request.ids ?? null,
    filter: r.request.filter ?? null,
    resend_webhook: r.request.resend_webhook,
    planned: r.planned ?? null,
    progress: { matched: r.matched, done: r.position, retried: r.retried, resumed: r.resumed, skipped: r.skipped_total, skipped_by_reason: r.skipped, snapshotted: r.snapshotted === '1' || r.planned !== undefined },
  };
}
export type RetryView = ReturnType<typeof toRetryView>;
