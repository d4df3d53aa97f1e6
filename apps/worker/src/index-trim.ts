/**
 * Retention of the generation indexes (generation-record.ts) and the tenants' batch indexes: a
 * record expires with its TTL (JOB_RETENTION_HOURS / FAILED_RETENTION_HOURS from its end), its
 * index entries do not. Searches drop the entries they read whose record is gone; this upkeep drops
 * the rest, oldest first, from the fleet-wide indexes (all generations, each status) and from every
 * tenant's (keys.tenants: its generations, each status, its batches), one worker of the fleet at a
 * time, until each index is examined up to the cutoff or the run's time budget is spent (the next
 * run goes on from there). The cutoff (scores are created_at) only narrows what is examined: an
 * entry is removed only when its record no longer exists, so a live record, however old (an admin
 * retry reopens old records), never loses its entry.
 */
import { STATUSES, type Logger, type RedisKeys } from '@darkroom/shared';
import type { Redis } from 'ioredis';

/** Entries examined per read. */
const BATCH = 500;
/** Time one run may spend, ms. */
const BUDGET_MS = 2_000;
export const TRIM_EVERY_MS = 60_000;

export interface IndexTrimDeps {
  redis: Redis;
  keys: RedisKeys;
  /** The shortest record retention, ms: nothing created since can have expired. */
  minRetentionMs: number;
  log: Logger;
  /** Time one run may spend, ms (default BUDGET_MS). */
  budgetMs?: number;
}

interface Index {
  key: string;
  /** The key of the record an entry stands for. */
  record: (id: string) => string;
}

export function indexTrimmer(deps: IndexTrimDeps): () => Promise<number> {
  const { redis, keys } = deps;
  // Where the previous run stopped: the index it was in, and within each index the entries of live
  // records below the cutoff it had passed.
  let next = 0;
  const offsets = new Map<string, number>();

  async function indexes(): Promise<Index[]> {
    const list: Index[] = [keys.generations, ...STATUSES.map((s) => keys.statusIndex(s))].map((key) => ({ key, record: keys.generation }));
    for (const tenant of (await redis.smembers(keys.tenants)).sort()) {
      for (const key of [keys.tenantGenerations(tenant), ...STATUSES.map((s) => keys.tenantStatus(tenant, s))]) list.push({ key, record: keys.generation });
      list.push({ key: keys.tenantBatches(tenant), record: keys.batch });
    }
    return list;
  }

  /** One read of `index` from where it stopped; whether the index is now examined up to the cutoff. */
  async function step(index: Index, cutoff: number): Promise<{ dropped: number; done: boolean }> {
    const offset = offsets.get(index.key) ?? 0;
    const ids = await redis.zrangebyscore(index.key, '-inf', `(${cutoff}`, 'LIMIT', offset, BATCH);
    const exists = await Promise.all(ids.map((id) => redis.exists(index.record(id))));
    const gone = ids.filter((_, i) => exists[i] === 0);
    if (gone.length) await redis.zrem(index.key, ...gone);
    const done = ids.length < BATCH;
    if (done) offsets.delete(index.key);
    else offsets.set(index.key, offset + ids.length - gone.length);
    return { dropped: gone.length, done };
  }

  return async () => {
    if ((await redis.set(keys.indexTrimLock, '1', 'PX', TRIM_EVERY_MS - 1_000, 'NX')) !== 'OK') return 0;
    const cutoff = Date.now() - deps.minRetentionMs;
    const stopAt = Date.now() + (deps.budgetMs ?? BUDGET_MS);
    const list = await indexes();
    let dropped = 0;
    if (next >= list.length) next = 0;
    const first = next;
    do {
      const index = list[next]!;
      for (;;) {
        const got = await step(index, cutoff);
        dropped += got.dropped;
        if (got.done) break;
        if (Date.now() >= stopAt) break;
      }
      if (Date.now() >= stopAt && offsets.has(index.key)) break;
      next = (next + 1) % list.length;
    } while (next !== first && Date.now() < stopAt);
    if (dropped) deps.log.info({ dropped }, 'index entries of expired generations and batches dropped');
    return dropped;
  };
}
