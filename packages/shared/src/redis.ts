import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/**
 * `worker`: blocking BullMQ connections; commands wait through a reconnect (BullMQ requires
 * maxRetriesPerRequest: null). `client`: request-path connections; fail fast while Redis is away
 * so the API answers 503 instead of hanging.
 */
export function createRedis(url: string, purpose: 'worker' | 'client', extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: purpose === 'worker' ? null : 2,
    enableOfflineQueue: purpose === 'worker',
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
    lazyConnect: true,
    ...extra,
  });
}

/** Connects and proves Redis answers; a start-up that cannot reach Redis fails loudly. */
export async function connectRedis(redis: Redis): Promise<void> {
  if (redis.status === 'wait') await redis.connect();
  await redis.ping();
}

/** BullMQ needs `maxmemory-policy noeviction`; anything else can silently drop queued jobs. */
export async function evictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    return reply[1];
  } catch {
    return undefined; // managed Redis may forbid CONFIG
  }
}

/** Start-up check: warns (and returns false) when Redis may evict queued jobs. */
export async function checkEvictionPolicy(redis: Redis, logger: Logger): Promise<boolean> {
  const policy = await evictionPolicy(redis);
  if (policy === undefined || policy === 'noeviction') return true;
  logger.warn(
    { policy },
    `Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis may evict queued jobs. Set maxmemory-policy noeviction.`,
  );
  return false;
}
