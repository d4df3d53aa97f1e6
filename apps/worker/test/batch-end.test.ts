import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server, type S3ServerHandle } from '@darkroom/local-stack';
import { BatchStore, connectRedis, createLogger, createRedis, createS3Client, imageLinker, loadConfig, newBatchId, redisKeys } from '@darkroom/shared';
import { endRound } from '../src/batch-end.ts';
import { buildResults, type ResultsDeps } from '../src/results-file.ts';

// The machine's Redis, under a key prefix of this test's own (removed afterwards), and an s3rver of its own.
const REDIS_URL = 'redis://127.0.0.1:6379';

describe('the results file a batch points at', () => {
  const prefix = `bend${randomBytes(4).toString('hex')}`;
  const keys = redisKeys(prefix);
  let server: S3ServerHandle;
  let redis: Redis;
  let s3: S3Client;
  let deps: ResultsDeps & { log: ReturnType<typeof createLogger> };

  beforeAll(async () => {
    server = await startS3Server();
    const config = loadConfig({
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      S3_ENDPOINT: server.endpoint,
      S3_BUCKET: server.bucket,
      S3_REGION: server.region,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: server.accessKeyId,
      S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    });
    redis = createRedis(REDIS_URL, 'client');
    await connectRedis(redis);
    s3 = createS3Client(config.s3);
    deps = { redis, keys, s3, bucket: server.bucket, config, links: imageLinker(s3, config.s3), log: createLogger({ level: 'silent', name: 'test' }) };
  });
  afterAll(async () => {
    for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
      if ((found as string[]).length) await redis.unlink(...(found as string[]));
    }
    await redis.quit();
    s3.destroy();
    await server.stop();
  });

  const read = async (key: string) => (await (await s3.send(new GetObjectCommand({ Bucket: server.bucket, Key: key }))).Body?.transformToString()) ?? '';
  const listed = async (id: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `acme/batches/${id}/` }))).Contents ?? []).map((o) => o.Key).sort();

  it('stays the newer end’s file when a finalize run that read the earlier end writes after it', async () => {
    const id = newBatchId();
    const [a, b] = [`gen_a_${id}`, `gen_b_${id}`];
    const failed = JSON.stringify({ code: '1301', message: 'refused' });
    await redis.hset(keys.generation(a), { id: a, status: 'succeeded', custom_id: 'a' });
    await redis.hset(keys.generation(b), { id: b, status: 'failed', custom_id: 'b', error: failed });
    await redis.rpush(keys.batchItems(id), a, b);
    await redis.hset(keys.batch(id), { id, tenant: 'acme', status: 'finalizing', created_at: 1, updated_at: 1, finalizing_at: 1_000, total: 2, succeeded: 1, failed: 1 });
    const batches = new BatchStore(redis, keys);

    // Two runs read the first end: one ends it, the other stalls with the lines it built.
    const first = await batches.get(id);
    if (!first) throw new Error('no batch');
    const staleLines = await buildResults(deps, id);
    expect(await endRound(deps, first, await buildResults(deps, id))).toBe('ended');

    // An admin retry reopens the batch; b succeeds this time and the batch ends again.
    await redis.hset(keys.generation(b), { status: 'succeeded' });
    await redis.hdel(keys.generation(b), 'error');
    await redis.hset(keys.batch(id), { status: 'finalizing', finalizing_at: 2_000, reopened: 1, succeeded: 2, failed: 0 });
    const second = await batches.get(id);
    if (!second) throw new Error('no batch');
    const newer = await buildResults(deps, id);
    expect(await endRound(deps, second, newer)).toBe('ended');
    const pointed = await batches.get(id);
    expect(pointed?.results_key).toMatch(new RegExp(`^acme/batches/${id}/results-1-[0-9a-f]{16}\\.jsonl$`));
    const before = await listed(id);
    expect(before).toHaveLength(2);

    const pointsAtNewer = async () => {
      expect(await batches.get(id)).toMatchObject({ status: 'completed', results_key: pointed?.results_key, results_bytes: newer.body.length });
      const text = await read(pointed?.results_key ?? '');
      expect(text.trim().split('\n').map((l) => (JSON.parse(l) as { status: string }).status)).toEqual(['succeeded', 'succeeded']);
      expect(text).toBe(newer.body.toString());
      // A run that did not end the batch leaves nothing behind; each end's own file stays.
      expect(await listed(id)).toEqual(before);
    };
    // The stalled run of the first end finishes now: the batch has ended, it does not end it.
    expect(await endRound(deps, first, staleLines)).toBe('already');
    await pointsAtNewer();
    // And a late second run of the newer end.
    expect(await endRound(deps, second, await buildResults(deps, id))).toBe('already');
    await pointsAtNewer();
  });
});
