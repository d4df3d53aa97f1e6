import { HeadBucketCommand, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dockerAvailable, provideRedis, provideS3 } from '../src/index.ts';
import { safeClient } from './s3-client.ts';

// Forces the no-Docker path whatever machine the tests run on.
const NO_DOCKER = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
const dockerHere = existsSync('/var/run/docker.sock') && (await dockerAvailable({}));

describe('provideRedis', () => {
  it('uses REDIS_URL as is when set; stop() is a no-op', async () => {
    const redis = await provideRedis({ REDIS_URL: 'redis://10.9.8.7:6380/2' });
    expect(redis).toMatchObject({ url: 'redis://10.9.8.7:6380/2', source: 'env' });
    await redis.stop();
  });

  it.skipIf(dockerHere)('without Docker, given {}, starts a redis-server process', async () => {
    const redis = await provideRedis({});
    try {
      expect(redis.source).toBe('process');
      expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      expect(await client.ping()).toBe('PONG');
      client.disconnect();
    } finally {
      await redis.stop();
    }
  });

  it('falls back to a process when DOCKER_HOST does not answer', async () => {
    const redis = await provideRedis({ ...NO_DOCKER, REDIS_URL: '  ' });
    try {
      expect(redis.source).toBe('process');
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      client.disconnect();
    } finally {
      await redis.stop();
    }
  });
});

describe('provideS3', () => {
  it('uses S3_* from env with defaults', async () => {
    const s3 = await provideS3({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' });
    expect(s3).toMatchObject({
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'darkroom',
      region: 'us-east-1',
      accessKeyId: 'a',
      secretAccessKey: 'b',
      forcePathStyle: true,
      source: 'env',
    });
    await s3.stop();

    const custom = await provideS3({ S3_ENDPOINT: 'https://s3.example.test', S3_BUCKET: 'b2', S3_REGION: 'eu-west-1', S3_FORCE_PATH_STYLE: 'false' });
    expect(custom).toMatchObject({ bucket: 'b2', region: 'eu-west-1', forcePathStyle: false, source: 'env' });
  });

  it('rejects a malformed S3_FORCE_PATH_STYLE', async () => {
    await expect(provideS3({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_FORCE_PATH_STYLE: 'maybe' })).rejects.toThrow(/S3_FORCE_PATH_STYLE/);
  });

  it('falls back to an in-process s3rver with the bucket created', async () => {
    const s3 = await provideS3({ ...NO_DOCKER, S3_BUCKET: 'provided' });
    const client = safeClient(s3);
    try {
      expect(s3).toMatchObject({ source: 'process', bucket: 'provided', forcePathStyle: true });
      await client.send(new HeadBucketCommand({ Bucket: s3.bucket }));
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'x', Body: 'hello' }));
      const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'x' }));
      expect(await got.Body!.transformToString()).toBe('hello');
    } finally {
      client.destroy();
      await s3.stop();
    }
  });
});
