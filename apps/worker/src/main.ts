/**
 * The worker process: configuration from the environment, once; tracing when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set; then Redis (fail loudly if it does not answer), S3, Z.AI,
 * the workers, and /metrics, /healthz, /readyz on METRICS_PORT when it is not 0. SIGTERM/SIGINT
 * drain: workers, then queues, then Redis, then the traces.
 */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  ConfigError,
  checkRedisSettings,
  connectRedis,
  createLogger,
  createRedis,
  createS3Client,
  loadConfig,
  startMetricsServer,
  startTracing,
  stopOnSignals,
} from '@darkroom/shared';
import { workerReadiness } from './health.ts';
import { createWorker } from './worker.ts';
import { createWorkerMetrics } from './worker-metrics.ts';
import { createZaiClient } from './zai-client.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.logLevel, name: 'darkroom-worker' });
  if (!config.zai.apiKey) throw new ConfigError(['ZAI_API_KEY: is required to run a worker']);
  if (!config.s3.bucket) throw new ConfigError(['S3_BUCKET: is required to run a worker']);
  const { metricsPort, metricsHost, otlpEndpoint } = config.observability;
  const tracing = startTracing({ endpoint: otlpEndpoint, serviceName: 'darkroom-worker' });

  const redis = createRedis(config.redis, 'worker');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await connectRedis(redis);
  await checkRedisSettings(redis, logger);
  const s3 = createS3Client(config.s3);
  await s3.send(new HeadBucketCommand({ Bucket: config.s3.bucket }));

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const zai = createZaiClient({ ...config.zai, apiKey: config.zai.apiKey });
  const running = await createWorker({
    config,
    redis,
    s3,
    bucket: config.s3.bucket,
    zai,
    logger,
    metrics: createWorkerMetrics(registry),
    ...(tracing ? { telemetry: tracing.telemetry } : {}),
  });
  const metrics =
    metricsPort > 0
      ? await startMetricsServer({
          host: metricsHost,
          port: metricsPort,
          registry,
          healthz: () => Promise.resolve(true),
          readyz: workerReadiness(redis, running.workers),
        })
      : undefined;
  logger.info({ zai: config.zai.baseUrl, concurrency: config.worker.concurrency, metrics: metrics?.url ?? null }, 'worker ready');

  // Past the drain timeout the worker force-closes; this bounds that too, e.g. while Redis is away.
  stopOnSignals(logger, config.worker.shutdownTimeoutMs + 5_000, async () => {
    await running.close();
    await metrics?.close();
    await redis.quit();
    await tracing?.shutdown();
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
