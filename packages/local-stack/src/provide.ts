import { dockerAvailable } from './docker.ts';
import { startRedisServer } from './redis-server.ts';
import { ensureBucket } from './s3-bucket.ts';
import { startS3Server } from './s3-server.ts';

export interface ProvidedRedis {
  url: string;
  source: 'env' | 'container' | 'process';
  /** Stops what was started here; a no-op for source 'env'. */
  stop(): Promise<void>;
}

export interface ProvidedS3 {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  source: 'env' | 'container' | 'process';
  /** Stops what was started here; a no-op for source 'env'. */
  stop(): Promise<void>;
}

// Same major versions as docker-compose.yml. MinIO images are published on quay.io only.
export const REDIS_IMAGE = 'redis:7-alpine';
export const MINIO_IMAGE = 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z';

const DEFAULT_BUCKET = 'darkroom';
const DEFAULT_REGION = 'us-east-1';
const MINIO_USER = 'darkroom';
const MINIO_PASSWORD = 'darkroom-secret';

const nonEmpty = (v: string | undefined): string | undefined => (v?.trim() ? v.trim() : undefined);

function parseBool(name: string, value: string | undefined, fallback: boolean): boolean {
  const v = nonEmpty(value)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new Error(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

/**
 * A Redis for tests and `pnpm dev`: REDIS_URL if set; else a Docker container (appendonly,
 * noeviction) if an engine answers; else a local `redis-server` process.
 */
export async function provideRedis(env: Record<string, string | undefined>): Promise<ProvidedRedis> {
  const url = nonEmpty(env.REDIS_URL);
  if (url) return { url, source: 'env', stop: () => Promise.resolve() };

  if (await dockerAvailable(env)) {
    // Loaded only when used: testcontainers is large and not needed for the process fallback.
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer(REDIS_IMAGE)
      .withCommand(['redis-server', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'])
      .start();
    return {
      url: container.getConnectionUrl(),
      source: 'container',
      stop: once(async () => {
        await container.stop();
      }),
    };
  }

  const server = await startRedisServer();
  return { url: server.url, source: 'process', stop: () => server.stop() };
}

/**
 * An S3-compatible store: S3_ENDPOINT (+ S3_BUCKET, S3_REGION, S3_ACCESS_KEY_ID,
 * S3_SECRET_ACCESS_KEY, S3_FORCE_PATH_STYLE) if set, used as is; else a MinIO container if Docker
 * answers; else an in-process s3rver. The last two get bucket S3_BUCKET (default 'darkroom') created.
 */
export async function provideS3(env: Record<string, string | undefined>): Promise<ProvidedS3> {
  const endpoint = nonEmpty(env.S3_ENDPOINT);
  if (endpoint) {
    return {
      endpoint,
      bucket: nonEmpty(env.S3_BUCKET) ?? DEFAULT_BUCKET,
      region: nonEmpty(env.S3_REGION) ?? DEFAULT_REGION,
      accessKeyId: nonEmpty(env.S3_ACCESS_KEY_ID) ?? '',
      secretAccessKey: nonEmpty(env.S3_SECRET_ACCESS_KEY) ?? '',
      forcePathStyle: parseBool('S3_FORCE_PATH_STYLE', env.S3_FORCE_PATH_STYLE, true),
      source: 'env',
      stop: () => Promise.resolve(),
    };
  }

  const bucket = nonEmpty(env.S3_BUCKET) ?? DEFAULT_BUCKET;
  if (await dockerAvailable(env)) {
    const { MinioContainer } = await import('@testcontainers/minio');
    const container = await new MinioContainer(MINIO_IMAGE).withUsername(MINIO_USER).withPassword(MINIO_PASSWORD).start();
    const stop = once(async () => {
      await container.stop();
    });
    const provided: ProvidedS3 = {
      endpoint: container.getConnectionUrl(),
      bucket,
      region: DEFAULT_REGION,
      accessKeyId: MINIO_USER,
      secretAccessKey: MINIO_PASSWORD,
      forcePathStyle: true,
      source: 'container',
      stop,
    };
    try {
      await ensureBucket(provided);
    } catch (err) {
      await stop();
      throw err;
    }
    return provided;
  }

  const server = await startS3Server({ bucket });
  return { ...server, source: 'process' };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
