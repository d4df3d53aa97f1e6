import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisClusterHandle } from '../src/index.ts';

describe('startRedisCluster', () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(() => cluster.stop());

  it('joins three masters that split the 16384 slots between them', async () => {
    expect(cluster.urls).toHaveLength(3);
    const client = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    try {
      const slots = await client.cluster('SLOTS');
      const owners = new Set(slots.map((s) => s[2]?.[1]));
      expect([...owners].sort()).toEqual([...cluster.ports].sort());
      expect(slots.reduce((n, [from, to]) => n + to - from + 1, 0)).toBe(16_384);
      // Keys in different slots land on different nodes, and the client follows them there.
      for (let i = 0; i < 20; i++) await client.set(`k${i}`, String(i));
      const counts = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
      expect(counts.filter((n) => n > 0).length).toBeGreaterThan(1);
      expect(await client.get('k7')).toBe('7');
    } finally {
      client.disconnect();
    }
  });

  it('stops every node', async () => {
    const other = await startRedisCluster();
    await other.stop();
    const client = new Cluster([{ host: '127.0.0.1', port: other.ports[0]! }], { clusterRetryStrategy: () => null, lazyConnect: true });
    await expect(client.connect()).rejects.toThrow();
    client.disconnect();
  }, 60_000);
});
