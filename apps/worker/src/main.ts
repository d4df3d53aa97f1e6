/**
 * The worker process: configuration from the environment, once; then Redis (fail loudly if it
 * does not answer), S3, Z.AI, and the workers. SIGTERM/SIGINT drain: workers, then queues, then
 * Redis.
 */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { ConfigError, connectRedis, createLogger, createRedis, createS3Client, checkRedisSettings, loadConfig, stopOnSignals } from '@darkroom/shared';
import { createWorker } from './worker.ts';
import { createZaiClient } from './zai-client.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.logLevel, name: 'darkroom-worker' });
  if (!config.zai.apiKey) throw new ConfigError(['ZAI_API_KEY: is required to run a worker']);
  if (!config.s3.bucket) throw new ConfigError(['S3_BUCKET: is required to run a worker']);

  const redis = createRedis(config.redis, 'worker');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await connectRedis(redis);
  await checkRedisSettings(redis, logger);
  const s3 = createS3Client(config.s3);
  await s3.send(new HeadBucketCommand({ Bucket: config.s3.bucket }));

  const zai = createZaiClient({ ...config.zai, apiKey: config.zai.apiKey });
  const running = await createWorker({ config, redis, s3, bucket: config.s3.bucket, zai, logger });
  logger.info({ zai: config.zai.baseUrl, concurrency: config.worker.concurrency }, 'worker ready');

  // Past the drain timeout the worker force-closes; this bounds that too, e.g. while Redis is away.
  stopOnSignals(logger, config.worker.shutdownTimeoutMs + 5_000, async () => {
    await running.close();
    await redis.quit();
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
