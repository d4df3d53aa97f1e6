import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '@darkroom/local-stack';
import { createLogger } from '../src/logger.ts';
import { checkRedisSettings, connectRedis, createRedis } from '../src/redis.ts';

describe('checkRedisSettings', () => {
  let server: RedisServerHandle;
  beforeAll(async () => {
    server = await startRedisServer({ appendonly: false, maxmemoryPolicy: 'allkeys-lru' });
  });
  afterAll(() => server.stop());

  async function check() {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const redis = createRedis(server.url, 'client');
    await connectRedis(redis);
    try {
      return { ok: await checkRedisSettings(redis, createLogger({ level: 'info', name: 't' }, sink)), lines };
    } finally {
      await redis.quit();
    }
  }

  it('warns when Redis may evict queued jobs, and when it keeps no AOF', async () => {
    const { ok, lines } = await check();
    expect(ok).toBe(false);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      expect.objectContaining({ level: 40, policy: 'allkeys-lru', msg: expect.stringContaining('noeviction') as unknown }),
      expect.objectContaining({ level: 40, msg: expect.stringContaining('appendonly') as unknown }),
    ]);
  });

  it('stays quiet once the policy is noeviction and the AOF is on', async () => {
    const admin = createRedis(server.url, 'client');
    await connectRedis(admin);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'appendonly', 'yes');
    await admin.quit();
    const { ok, lines } = await check();
    expect(ok).toBe(true);
    expect(lines).toEqual([]);
  });
});
