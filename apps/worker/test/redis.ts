import { randomBytes } from 'node:crypto';
import { test as base } from 'vitest';
import { provideRedis } from '@darkroom/local-stack';
import { connectRedis, createRedis, redisKeys } from '@darkroom/shared';

/**
 * `redis`: a client of REDIS_URL when set, as the e2e harness uses it, else of a Redis started for
 * this file (a container where Docker answers, else a redis-server process); `keys`: the key layout
 * under a prefix of the test's own, whose keys are removed after the test.
 */
export const test = base
  .extend('redis', { scope: 'file' }, async ({}, { onCleanup }) => {
    const provided = await provideRedis(process.env);
    const redis = createRedis(provided.url, 'client');
    onCleanup(async () => {
      await redis.quit();
      await provided.stop();
    });
    await connectRedis(redis);
    return redis;
  })
  .extend('keys', ({ redis }, { onCleanup }) => {
    const prefix = `wtest${randomBytes(4).toString('hex')}`;
    onCleanup(async () => {
      for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
        const batch = found as string[];
        if (batch.length) await redis.unlink(...batch);
      }
    });
    return redisKeys(prefix);
  });

export { describe, expect } from 'vitest';
