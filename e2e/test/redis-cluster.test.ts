/**
 * The pipeline on a Redis Cluster: a local 3-node cluster (local-stack), the real API and worker
 * processes with REDIS_CLUSTER=true and a hash-tagged QUEUE_PREFIX, the simulator and S3. One
 * generation goes from POST to a verified webhook and a stored object whose bytes are Z.AI's.
 * Also shown: with one hash tag every key sits in one slot, so on one node (docs/scaling.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Cluster } from 'ioredis';
import { freePort, startRedisCluster, type RedisClusterHandle } from '@darkroom/local-stack';
import { TenantStore, connectRedis, createRedis, createS3Client, loadConfig, redisKeys } from '@darkroom/shared';
import { afterEach } from 'vitest';
import { describe, expect, test } from './fixtures.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import { testEnv } from './stack.ts';
import { waitUntil } from './wait.ts';

const API_MAIN = fileURLToPath(new URL('../../apps/api/src/main.ts', import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL('../../apps/worker/src/main.ts', import.meta.url));

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function start(main: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  return child;
}

describe('Redis Cluster', () => {
  test('a generation goes through API, worker, Z.AI and S3 on a 3-node cluster', async ({ sim }) => {
    const cluster: RedisClusterHandle = await startRedisCluster();
    cleanups.push(() => cluster.stop());
    const prefix = `{c${Date.now().toString(36)}}`;
    const port = await freePort();
    const env = testEnv(sim, prefix, { REDIS_URL: cluster.urls[0]!, REDIS_CLUSTER: 'true', PORT: String(port), LOG_LEVEL: 'warn' });
    const config = loadConfig(env);

    const redis = createRedis(config.redis, 'client');
    await connectRedis(redis);
    cleanups.push(() => redis.quit());
    expect(redis).toBeInstanceOf(Cluster);
    const tenant = await new TenantStore(redis, redisKeys(prefix)).createKey('cluster');
    const receiver: Receiver = await startReceiver(tenant.webhook_secret);
    cleanups.push(() => receiver.close());

    start(API_MAIN, env);
    start(WORKER_MAIN, env);
    const api = `http://127.0.0.1:${port}`;
    await waitUntil(() => fetch(`${api}/readyz`).then((r) => r.ok || undefined, () => undefined), 'the API to be ready', 30_000);

    const created = await fetch(`${api}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.api_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cogview-4-250304', prompt: 'a lighthouse on a cluster', size: '512x512', webhook_url: receiver.url }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };

    const [delivery] = await receiver.waitFor((d) => d.length > 0, 40_000);
    expect(delivery?.verified).toBe(true);
    expect(delivery?.payload).toMatchObject({ type: 'image.generation.succeeded', data: { id, status: 'succeeded' } });

    const job = (await fetch(`${api}/v1/images/generations/${id}`, { headers: { authorization: `Bearer ${tenant.api_key}` } }).then((r) => r.json())) as {
      status: string;
      result: { bucket: string; key: string; sha256: string };
    };
    expect(job.status).toBe('succeeded');
    const issued = sim.issuedImages();
    expect(issued).toHaveLength(1);
    expect(job.result.sha256).toBe(issued[0]!.sha256);
    const s3 = createS3Client(config.s3);
    cleanups.push(() => Promise.resolve(s3.destroy()));
    const object = await s3.send(new GetObjectCommand({ Bucket: job.result.bucket, Key: job.result.key }));
    expect(createHash('sha256').update(await object.Body!.transformToByteArray()).digest('hex')).toBe(issued[0]!.sha256);

    // One hash tag: every key of this deployment (BullMQ's and Darkroom's) is on one node.
    const perNode = await Promise.all((redis as unknown as Cluster).nodes('master').map((node) => node.dbsize()));
    expect(perNode.filter((n) => n > 0)).toHaveLength(1);
  });
});
