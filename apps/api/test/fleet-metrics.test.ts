import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { startRedisServer, type RedisServerHandle } from '@darkroom/local-stack';
import { FleetState, connectRedis, createQueues, createRedis, loadConfig, redisKeys, type Queues } from '@darkroom/shared';
import { registerFleetMetrics } from '../src/fleet-metrics.ts';

describe('darkroom_paid_per_stored_ratio', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  let queues: Queues;
  const keys = redisKeys('ratio');

  beforeAll(async () => {
    server = await startRedisServer({ appendonly: false });
    redis = createRedis(server.url, 'client');
    await connectRedis(redis);
    queues = createQueues(redis, loadConfig({ REDIS_URL: server.url, QUEUE_PREFIX: 'ratio' }));
  });
  afterAll(async () => {
    await queues.close();
    await redis.quit();
    await server.stop();
  });

  /** A fresh registry each time: no reading is cached between the cases. */
  async function ratio(): Promise<number | undefined> {
    const registry = new Registry();
    registerFleetMetrics(registry, { redis, keys, queues, fleet: new FleetState(redis, keys, queues.generate) }, 8);
    const metric = await registry.getSingleMetric('darkroom_paid_per_stored_ratio')?.get();
    return metric?.values[0]?.value;
  }

  it('is NaN before the first stored image, even when generations were paid', async () => {
    expect(await ratio()).toBeNaN();
    await redis.set(keys.paidGenerations, 3);
    expect(await ratio()).toBeNaN();
  });

  it('is paid generations per stored image, read from the fleet-wide counters in Redis', async () => {
    await redis.mset(keys.paidGenerations, 4, keys.storedImages, 4);
    expect(await ratio()).toBe(1);
    await redis.mset(keys.paidGenerations, 21, keys.storedImages, 20);
    expect(await ratio()).toBe(1.05);
  });

  it("shows each queue's oldest waiting job by the time it was added", async () => {
    const registry = new Registry();
    registerFleetMetrics(registry, { redis, keys, queues, fleet: new FleetState(redis, keys, queues.generate) }, 8, 0);
    const age = async (queue: string) =>
      (await registry.getSingleMetric('darkroom_queue_oldest_waiting_seconds')?.get())?.values.find((v) => v.labels.queue === queue)?.value;
    expect(await age('generate')).toBe(0);
    await queues.generate.add('generate', { v: 1, id: 'older', tenant: 't' }, { timestamp: Date.now() - 120_000 });
    await queues.generate.add('generate', { v: 1, id: 'newer', tenant: 't' }, { timestamp: Date.now() - 10_000 });
    expect(await age('generate')).toBeGreaterThanOrEqual(120);
    expect(await age('store')).toBe(0);
  });

  it('matches the two counters of the same scrape', async () => {
    await redis.mset(keys.paidGenerations, 6, keys.storedImages, 4);
    const registry = new Registry();
    registerFleetMetrics(registry, { redis, keys, queues, fleet: new FleetState(redis, keys, queues.generate) }, 8);
    const text = await registry.metrics();
    expect(text).toContain('darkroom_generations_paid_total 6');
    expect(text).toContain('darkroom_images_stored_total 4');
    expect(text).toContain('darkroom_paid_per_stored_ratio 1.5');
  });
});
