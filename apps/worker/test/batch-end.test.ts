import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { startS3Server, type S3ServerHandle } from '@darkroom/local-stack';
import { BatchStore, createLogger, createS3Client, imageLinker, loadConfig, newBatchId, type Config, type RedisKeys } from '@darkroom/shared';
import type { Redis } from 'ioredis';
import { endRound } from '../src/batch-end.ts';
import { endBatch } from '../src/batch-state.ts';
import { buildResults, type ResultsDeps } from '../src/results-file.ts';
import { describe, expect, test } from './redis.ts';

describe('the results file a batch points at', () => {
  let server: S3ServerHandle;
  let s3: S3Client;
  let config: Config;
  const depsOf = (redis: Redis, keys: RedisKeys): ResultsDeps & { log: ReturnType<typeof createLogger> } => ({
    redis,
    keys,
    s3,
    bucket: server.bucket,
    config,
    links: imageLinker(s3, config.s3),
    log: createLogger({ level: 'silent', name: 'test' }),
  });

  beforeAll(async () => {
    server = await startS3Server();
    config = loadConfig({
      S3_ENDPOINT: server.endpoint,
      S3_BUCKET: server.bucket,
      S3_REGION: server.region,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: server.accessKeyId,
      S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    });
    s3 = createS3Client(config.s3);
  });
  afterAll(async () => {
    s3.destroy();
    await server.stop();
  });

  const read = async (key: string) => (await (await s3.send(new GetObjectCommand({ Bucket: server.bucket, Key: key }))).Body?.transformToString()) ?? '';
  const listed = async (id: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `acme/batches/${id}/` }))).Contents ?? []).map((o) => o.Key).sort();

  /** A batch whose two items ended (a succeeded, b failed), finalizing at 1,000. */
  async function endedItems(redis: Redis, keys: RedisKeys) {
    const id = newBatchId();
    const [a, b] = [`gen_a_${id}`, `gen_b_${id}`];
    const failed = JSON.stringify({ code: '1301', message: 'refused' });
    await redis.hset(keys.generation(a), { id: a, status: 'succeeded', custom_id: 'a' });
    await redis.hset(keys.generation(b), { id: b, status: 'failed', custom_id: 'b', error: failed });
    await redis.rpush(keys.batchItems(id), a, b);
    await redis.hset(keys.batch(id), { id, tenant: 'acme', status: 'finalizing', created_at: 1, updated_at: 1, finalizing_at: 1_000, total: 2, succeeded: 1, failed: 1 });
    return { id, a, b };
  }

  test('stays the newer end’s file when a finalize run that read the earlier end writes after it', async ({ redis, keys }) => {
    const deps = depsOf(redis, keys);
    const { id, b } = await endedItems(redis, keys);
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

  test('an end step re-sent after its reply was lost still ends the batch with its own file', async ({ redis, keys }) => {
    const { id } = await endedItems(redis, keys);
    const read = await new BatchStore(redis, keys).get(id);
    if (!read) throw new Error('no batch');
    const file = { bucket: server.bucket, key: `acme/batches/${id}/results-0-0123456789abcdef.jsonl`, bytes: 10 };
    expect(await endBatch(redis, keys, read, 'completed', file, 60)).toBe('ended');
    // The same command again (ioredis re-sends a command whose reply a dropped connection lost):
    // the caller must not take it for another run's end and delete the file the batch points at.
    expect(await endBatch(redis, keys, read, 'completed', file, 60)).toBe('ended');
    const other = { ...file, key: `acme/batches/${id}/results-0-fedcba9876543210.jsonl` };
    expect(await endBatch(redis, keys, read, 'completed', other, 60)).toBe('already');
  });
});
