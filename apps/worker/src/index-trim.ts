/**
 * Retention of the generation indexes (generation-record.ts): a record expires with its TTL
 * (JOB_RETENTION_HOURS / FAILED_RETENTION_HOURS from its end), its index entries do not. Searches
 * drop the entries they read whose record is gone; this upkeep drops the rest from the fleet-wide
 * indexes (all generations, each status), oldest first, a bounded batch per run, one worker of the
 * fleet at a time. The cutoff (scores are created_at) only narrows what is examined: an entry is
 * removed only when its record no longer exists, so a live record, however old (an admin retry
 * reopens old records), never loses its entry. A tenant's own indexes are trimmed when searched.
 */
import { STATUSES, type Logger, type RedisKeys } from '@darkroom/shared';
import type { Redis } from 'ioredis';

/** Entries examined per index per run. */
const BATCH = 500;
export const TRIM_EVERY_MS = 60_000;

export interface IndexTrimDeps {
  redis: Redis;
  keys: RedisKeys;
  /** The shortest record retention, ms: nothing created since can have expired. */
  minRetentionMs: number;
  log: Logger;
}

export function indexTrimmer(deps: IndexTrimDeps): () => Promise<number> {
  const { redis, keys } = deps;
  const indexes = [keys.generations, ...STATUSES.map((s) => keys.statusIndex(s))];
  // Where the previous run stopped in each index (entries of live records stay below the cutoff).
  const offsets = new Map<string, number>();
  return async () => {
    if ((await redis.set(keys.indexTrimLock, '1', 'PX', TRIM_EVERY_MS - 1_000, 'NX')) !== 'OK') return 0;
    const cutoff = Date.now() - deps.minRetentionMs;
    let dropped = 0;
    for (const index of indexes) {
      const offset = offsets.get(index) ?? 0;
      const ids = await redis.zrangebyscore(index, '-inf', `(${cutoff}`, 'LIMIT', offset, BATCH);
      const exists = await Promise.all(ids.map((id) => redis.exists(keys.generation(id))));
      const gone = ids.filter((_, i) => exists[i] === 0);
      if (gone.length) await redis.zrem(index, ...gone);
      dropped += gone.length;
      offsets.set(index, ids.length < BATCH ? 0 : offset + ids.length - gone.length);
    }
    if (dropped) deps.log.info({ dropped }, 'index entries of expired generations dropped');
    return dropped;
  };
}
