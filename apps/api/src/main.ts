/**
 * The API process: configuration once from the environment; Redis must answer or start-up fails;
 * SIGTERM/SIGINT stop listening, then close queues, then Redis.
 */
import { ConfigError, connectRedis, createLogger, createQueues, createRedis, createS3Client, checkRedisSettings, loadConfig, stopOnSignals } from '@darkroom/shared';
import { buildApp } from './app.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.s3.bucket) throw new ConfigError(['S3_BUCKET: is required to run the API']);
  const logger = createLogger({ level: config.logLevel, name: 'darkroom-api' });

  const redis = createRedis(config.redis, 'client');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await connectRedis(redis);
  await checkRedisSettings(redis, logger);
  const queues = createQueues(redis, config);
  const s3 = createS3Client(config.s3);
  const app = buildApp({ config, redis, queues, s3, bucket: config.s3.bucket, logger });
  await app.listen({ port: config.http.port, host: config.http.host });

  stopOnSignals(logger, 10_000, async () => {
    await app.close();
    await queues.close();
    await redis.quit();
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
