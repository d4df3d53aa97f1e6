/**
 * `pnpm client:generate`: builds the API as it runs (a Redis and an S3 from REDIS_URL / S3_ENDPOINT,
 * else local processes), reads its two OpenAPI documents, and writes the typed client's files.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { buildApp } from '@darkroom/api';
import { provideRedis, provideS3 } from '@darkroom/local-stack';
import { connectRedis, createLogger, createQueues, createRedis, createS3Client, loadConfig } from '@darkroom/shared';
import { CLIENT_TYPES, renderClientTypes } from './client-types.ts';

const redis = await provideRedis(process.env);
const s3 = await provideS3(process.env);
const adminToken = randomBytes(16).toString('hex');
try {
  const config = loadConfig({
    REDIS_URL: redis.url,
    QUEUE_PREFIX: `client-generate-${randomBytes(4).toString('hex')}`,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_FORCE_PATH_STYLE: String(s3.forcePathStyle),
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    ZAI_API_KEY: 'unused',
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'warn',
  });
  const connection = createRedis(config.redis.url, 'client');
  await connectRedis(connection);
  const queues = createQueues(connection, config);
  const app = buildApp({ config, redis: connection, queues, s3: createS3Client(config.s3), bucket: s3.bucket, logger: createLogger({ level: 'warn', name: 'client-generate' }) });
  try {
    for (const [which, { file, source }] of Object.entries(CLIENT_TYPES)) {
      const res = await app.inject({ url: source, headers: { authorization: `Bearer ${adminToken}` } });
      if (res.statusCode !== 200) throw new Error(`GET ${source} answered ${res.statusCode}`);
      await writeFile(file, await renderClientTypes(res.json(), source));
      console.log(`wrote the ${which} client types: ${file.pathname}`);
    }
  } finally {
    await app.close();
    await queues.close();
    await connection.quit();
  }
} finally {
  await s3.stop();
  await redis.stop();
}
