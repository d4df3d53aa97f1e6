import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** Where Redis is: a server, or (cluster) any one node of a Redis Cluster, which the client asks for the rest. */
export interface RedisTarget {
  url: string;
  cluster: boolean;
}

/**
 * `worker`: blocking BullMQ connections; commands wait through a reconnect (BullMQ requires
 * maxRetriesPerRequest: null). `client`: request-path connections; fail fast while Redis is away
 * so the API answers 503 instead of hanging.
 *
 * With `cluster`, the connection is an ioredis Cluster. It is typed as Redis on purpose: Cluster
 * has the same command methods (both are ioredis Commanders), BullMQ takes either, and every key
 * Darkroom and BullMQ touch shares the QUEUE_PREFIX hash tag (loadConfig insists), so each
 * command, script and MULTI goes to the one node that owns that slot. What differs is per-server
 * state: INFO and CONFIG GET answer for one node (the API's memory guard and the start-up check
 * read whichever node they reach).
 */
export function createRedis(target: string | RedisTarget, purpose: 'worker' | 'client', extra: RedisOptions = {}): Redis {
  const { url, cluster } = typeof target === 'string' ? { url: target, cluster: false } : target;
  const options: RedisOptions = {
    maxRetriesPerRequest: purpose === 'worker' ? null : 2,
    enableOfflineQueue: purpose === 'worker',
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
    lazyConnect: true,
    ...extra,
  };
  if (!cluster) return new Redis(url, options);
  const seed = new URL(url);
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...perNode } = options;
  const node: RedisOptions = {
    ...perNode,
    ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
    ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
    ...(seed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const client = new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
    redisOptions: node,
    clusterRetryStrategy: retryStrategy,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
  });
  return client as unknown as Redis;
}

/** Connects and proves Redis answers; a start-up that cannot reach Redis fails loudly. */
export async function connectRedis(redis: Redis): Promise<void> {
  if (redis.status === 'wait') await redis.connect();
  await redis.ping();
}

async function configValue(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', name)) as string[];
    return reply[1];
  } catch {
    return undefined; // managed Redis may forbid CONFIG
  }
}

/**
 * Start-up check of the Redis settings that keep acknowledged jobs: `maxmemory-policy noeviction`
 * (BullMQ needs it; anything else may evict queued jobs) and an AOF (without it a Redis restart
 * loses everything since the last snapshot). Warns for each one missing; true when none is.
 */
export async function checkRedisSettings(redis: Redis, logger: Logger): Promise<boolean> {
  let ok = true;
  const policy = await configValue(redis, 'maxmemory-policy');
  if (policy !== undefined && policy !== 'noeviction') {
    ok = false;
    logger.warn(
      { policy },
      `Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis may evict queued jobs. Set maxmemory-policy noeviction.`,
    );
  }
  if ((await configValue(redis, 'appendonly')) === 'no') {
    ok = false;
    logger.warn('Redis runs without an AOF (appendonly no): a Redis restart can lose acknowledged jobs. Set appendonly yes (appendfsync always to lose none).');
  }
  return ok;
}
