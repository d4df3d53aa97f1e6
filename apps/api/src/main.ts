/**
 * The API process: configuration once from the environment; Redis must answer or start-up fails;
 * tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set; metrics on METRICS_PORT when it is not 0.
 * SIGTERM/SIGINT stop listening, then close queues, then Redis, then flush the traces.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  ConfigError,
  checkRedisSettings,
  connectRedis,
  createLogger,
  createQueues,
  createRedis,
  createS3Client,
  loadConfig,
  startMetricsServer,
  startTracing,
  stopOnSignals,
} from '@darkroom/shared';
import { buildApp } from './app.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.s3.bucket) throw new ConfigError(['S3_BUCKET: is required to run the API']);
  const logger = createLogger({ level: config.logLevel, name: 'darkroom-api' });
  const { metricsPort, metricsHost, otlpEndpoint } = config.observability;
  const tracing = startTracing({ endpoint: otlpEndpoint, serviceName: 'darkroom-api' });

  const redis = createRedis(config.redis, 'client');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await connectRedis(redis);
  await checkRedisSettings(redis, logger);
  const queues = createQueues(redis, config, tracing?.telemetry);
  const s3 = createS3Client(config.s3);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const app = buildApp({ config, redis, queues, s3, bucket: config.s3.bucket, logger, metrics: registry });
  await app.listen({ port: config.http.port, host: config.http.host });
  const metrics = metricsPort > 0 ? await startMetricsServer({ host: metricsHost, port: metricsPort, registry }) : undefined;
  if (metrics) logger.info({ url: `${metrics.url}/metrics` }, 'metrics listening');

  stopOnSignals(logger, 10_000, async () => {
    await app.close();
    await metrics?.close();
    await queues.close();
    await redis.quit();
    await tracing?.shutdown();
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
