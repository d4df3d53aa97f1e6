import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '@darkroom/local-stack';
import { createLogger } from '../src/logger.ts';
import { checkEvictionPolicy, connectRedis, createRedis } from '../src/redis.ts';

describe('checkEvictionPolicy', () => {
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
      return { ok: await checkEvictionPolicy(redis, createLogger({ level: 'info', name: 't' }, sink)), lines };
    } finally {
      await redis.quit();
    }
  }

  it('warns, naming the policy, when Redis may evict queued jobs', async () => {
    const { ok, lines } = await check();
    expect(ok).toBe(false);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, policy: 'allkeys-lru', msg: expect.stringContaining('noeviction') as unknown });
  });

  it('stays quiet once the policy is noeviction', async () => {
    const admin = createRedis(server.url, 'client');
    await connectRedis(admin);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.quit();
    const { ok, lines } = await check();
    expect(ok).toBe(true);
    expect(lines).toEqual([]);
  });
});
