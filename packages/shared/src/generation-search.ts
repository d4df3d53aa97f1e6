/**
 * Finding generations through the indexes the status-change scripts keep (generation-record.ts),
 * never a SCAN. The index is the narrowest one the filter allows: a tenant's status, a tenant's
 * generations, a status, or all; a batch's item list for `batch_id`. Newest first (score =
 * created_at, ties by id, descending); a batch in input order.
 *
 * The cursor is the last entry examined (score and id), not an offset, and a page starts right
 * after it at read time: entries written meanwhile (newer, so above it) or removed (a status change
 * out of a status index) shift no one, so a listing never repeats or skips an entry that exists for
 * its whole duration. Filters no index covers (error_code, stage, paid, and any filter on a batch
 * list) are applied to the records read, at most `maxExamined` entries per request: a page may
 * then hold fewer than `limit` items and still a next_cursor; follow it until it is null.
 * An entry whose record is gone (expired) is dropped from the index it was read from.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { STATUSES, type GenerationRecord, type GenerationStore } from './generation-record.ts';
import type { RedisKeys } from './keys.ts';

const epochOrIso = z.union([
  z.coerce.number().int().nonnegative(),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]);

/** The filters a tenant may use (GET /v1/images/generations). Times: epoch ms or ISO 8601, exclusive. */
export const tenantFilterSchema = z.strictObject({
  status: z.enum(STATUSES).optional(),
  batch_id: z.string().min(1).max(100).optional(),
  created_after: epochOrIso.optional(),
  created_before: epochOrIso.optional(),
});
/** An admin's filters: a tenant's plus tenant, error_code, stage (where it failed) and paid. */
export const adminFilterSchema = tenantFilterSchema.extend({
  tenant: z.string().min(1).max(63).optional(),
  error_code: z.string().min(1).max(100).optional(),
  stage: z.string().min(1).max(40).optional(),
  paid: bool.optional(),
});
export type GenerationFilter = z.output<typeof adminFilterSchema>;

export const SEARCH_MAX_LIMIT = 100;
/** Index entries examined per request, at most. */
export const SEARCH_MAX_EXAMINED = 1_000;

// One page of a sorted index, newest first, after the cursor (ARGV[3] score, ARGV[4] id; '' for
// none), skipping entries from `before` up, stopping at `after` (both exclusive bounds). A cursor
// whose entry left the index is placed by score, then among entries of that score by id (binary
// search: a batch's items share one created_at). Returns id, score pairs, then 1 if the index has
// nothing further.
const PAGE = `
local key, before, after, cs, cid, n = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local start = 0
if before ~= '+inf' then start = redis.call('ZCOUNT', key, before, '+inf') end
if cid ~= '' then
  local at
  local sc = redis.call('ZSCORE', key, cid)
  if sc and tonumber(sc) == tonumber(cs) then
    at = redis.call('ZREVRANK', key, cid) + 1
  else
    at = redis.call('ZCOUNT', key, '(' .. cs, '+inf')
    local lo, hi = 0, redis.call('ZCOUNT', key, cs, cs)
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      local m = redis.call('ZREVRANGEBYSCORE', key, cs, cs, 'LIMIT', mid, 1)[1]
      if m > cid then lo = mid + 1 else hi = mid end
    end
    at = at + lo
  end
  if at > start then start = at end
end
local got = redis.call('ZREVRANGE', key, start, start + n - 1, 'WITHSCORES')
local out = {}
for i = 1, #got, 2 do
  if tonumber(got[i + 1]) <= after then
    out[#out + 1] = 1
    return out
  end
  out[#out + 1] = got[i]
  out[#out + 1] = got[i + 1]
end
if #got < 2 * n then out[#out + 1] = 1 end
return out`;

interface Cursor {
  /** Sorted index: the last entry's score and id. */
  s?: number;
  i?: string;
  /** Batch list: the next position. */
  o?: number;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** The cursor of a request, or undefined if it is not one of ours. */
export function decodeCursor(raw: string): Cursor | undefined {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (typeof c !== 'object' || c === null) return undefined;
    const { s, i, o } = c as Cursor;
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0) return { o };
    if (typeof s === 'number' && typeof i === 'string') return { s, i };
  } catch {
    // fall through
  }
  return undefined;
}

export interface SearchPage {
  items: GenerationRecord[];
  /** For each item, the cursor just past it (a walk that stops there goes on with the next one). */
  cursors: string[];
  next_cursor: string | null;
  examined: number;
}

export interface SearchDeps {
  redis: Redis;
  keys: RedisKeys;
  generations: GenerationStore;
}

/** Whether `record` passes the filters, indexed or not (an index only narrows what is read). */
export function matches(record: GenerationRecord, f: GenerationFilter): boolean {
  if (f.tenant !== undefined && record.tenant !== f.tenant) return false;
  if (f.status !== undefined && record.status !== f.status) return false;
  if (f.batch_id !== undefined && record.batch_id !== f.batch_id) return false;
  if (f.created_after !== undefined && record.created_at <= f.created_after) return false;
  if (f.created_before !== undefined && record.created_at >= f.created_before) return false;
  if (f.error_code !== undefined && record.error?.code !== f.error_code) return false;
  if (f.stage !== undefined && record.failed_stage !== f.stage) return false;
  if (f.paid !== undefined && record.paid_generations > 0 !== f.paid) return false;
  return true;
}

function indexFor(keys: RedisKeys, f: GenerationFilter): string {
  if (f.tenant !== undefined) return f.status ? keys.tenantStatus(f.tenant, f.status) : keys.tenantGenerations(f.tenant);
  return f.status ? keys.statusIndex(f.status) : keys.generations;
}

/**
 * One page of the generations matching `filter`. `cursor` is a next_cursor from before (the caller
 * checks it with decodeCursor). A tenant's search must set `filter.tenant`.
 */
export async function searchGenerations(
  deps: SearchDeps,
  filter: GenerationFilter,
  opts: { cursor?: Cursor | undefined; limit: number; maxExamined?: number },
): Promise<SearchPage> {
  const limit = Math.min(Math.max(1, opts.limit), SEARCH_MAX_LIMIT);
  const budget = opts.maxExamined ?? SEARCH_MAX_EXAMINED;
  const items: GenerationRecord[] = [];
  const cursors: string[] = [];
  let examined = 0;
  const chunk = Math.min(Math.max(limit, 50), budget);

  if (filter.batch_id !== undefined) {
    // Another tenant's batch reads as an empty page, never as a cursor that shows it exists.
    if (filter.tenant !== undefined && (await deps.redis.hget(deps.keys.batch(filter.batch_id), 'tenant')) !== filter.tenant) {
      return { items, cursors, next_cursor: null, examined };
    }
    const list = deps.keys.batchItems(filter.batch_id);
    let at = opts.cursor?.o ?? 0;
    while (items.length < limit && examined < budget) {
      const ids = await deps.redis.lrange(list, at, at + Math.min(chunk, budget - examined) - 1);
      if (ids.length === 0) return { items, cursors, next_cursor: null, examined };
      for (const [n, record] of (await readAll(deps, ids)).entries()) {
        examined++;
        at++;
        if (record && matches(record, filter)) {
          items.push(record);
          cursors.push(encodeCursor({ o: at }));
        }
        if (items.length === limit && n < ids.length - 1) return { items, cursors, next_cursor: encodeCursor({ o: at }), examined };
      }
    }
    return { items, cursors, next_cursor: encodeCursor({ o: at }), examined };
  }

  const index = indexFor(deps.keys, filter);
  const before = filter.created_before === undefined ? '+inf' : String(filter.created_before);
  const after = filter.created_after ?? -1;
  let last = opts.cursor?.i === undefined ? undefined : { s: opts.cursor.s ?? 0, i: opts.cursor.i };
  while (items.length < limit && examined < budget) {
    const n = Math.min(chunk, budget - examined);
    const reply = (await deps.redis.eval(PAGE, 1, index, before, String(after), String(last?.s ?? ''), last?.i ?? '', String(n))) as (string | number)[];
    const done = reply.length % 2 === 1;
    const pairs: { id: string; score: number }[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) pairs.push({ id: String(reply[i]), score: Number(reply[i + 1]) });
    const records = await readAll(deps, pairs.map((p) => p.id));
    const gone: string[] = [];
    for (const [k, pair] of pairs.entries()) {
      const record = records[k];
      examined++;
      last = { s: pair.score, i: pair.id };
      if (!record) gone.push(pair.id);
      else if (matches(record, filter)) {
        items.push(record);
        cursors.push(encodeCursor(last));
      }
      if (items.length === limit) break;
    }
    if (gone.length) await deps.redis.zrem(index, ...gone);
    const consumedAll = items.length < limit || last?.i === pairs.at(-1)?.id;
    if (done && consumedAll) return { items, cursors, next_cursor: null, examined };
  }
  return { items, cursors, next_cursor: last ? encodeCursor(last) : null, examined };
}

async function readAll(deps: SearchDeps, ids: string[]): Promise<(GenerationRecord | undefined)[]> {
  return Promise.all(ids.map((id) => deps.generations.get(id)));
}

/** Every matching generation, page by page (dry runs): `each` gets one page at a time. */
export async function forEachMatch(deps: SearchDeps, filter: GenerationFilter, each: (records: GenerationRecord[]) => void | Promise<void>): Promise<void> {
  let cursor: Cursor | undefined;
  for (;;) {
    const page = await searchGenerations(deps, filter, { cursor, limit: SEARCH_MAX_LIMIT });
    if (page.items.length) await each(page.items);
    if (!page.next_cursor) return;
    cursor = decodeCursor(page.next_cursor);
  }
}
