/**
 * One Redis and one S3-compatible server for the whole run: REDIS_URL / S3_ENDPOINT when set,
 * else containers where Docker answers, else local processes (redis-server, s3rver). Every test
 * then works under its own key prefix and object prefix, and cleans them.
 */
import type { TestProject } from 'vitest/node';
import { provideRedis, provideS3 } from '@darkroom/local-stack';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    s3: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean };
  }
}

export default async function setup(project: TestProject) {
  const redis = await provideRedis(process.env);
  const s3 = await provideS3(process.env);
  project.provide('redisUrl', redis.url);
  project.provide('s3', {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: s3.forcePathStyle,
  });
  console.log(`e2e services: redis ${redis.source} ${redis.url}, s3 ${s3.source} ${s3.endpoint}`);
  return async () => {
    await s3.stop();
    await redis.stop();
  };
}
