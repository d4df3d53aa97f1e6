/**
 * A whole Darkroom for one test: its own key prefix and tenant, the real API over real HTTP, a
 * worker (in-process, or as a child process that can be SIGKILLed), the simulator, and a webhook
 * receiver. close() stops everything and deletes the test's keys and objects.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Telemetry } from 'bullmq';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { inject } from 'vitest';
import { buildApp, type AppDeps } from '@darkroom/api';
import {
  GenerationStore,
  TenantStore,
  connectRedis,
  createLogger,
  createQueues,
  createRedis,
  createS3Client,
  loadConfig,
  redisKeys,
  startMetricsServer,
  type Config,
  type Queues,
} from '@darkroom/shared';
import { createWorker, createZaiClient, type RunningWorker } from '@darkroom/worker';
import type { Simulator } from '@darkroom/zai-sim';
import { startReceiver, type Receiver } from './receiver.ts';
import { waitUntil } from './wait.ts';

const WORKER_MAIN = fileURLToPath(new URL('../../apps/worker/src/main.ts', import.meta.url));

export interface Response<T = Record<string, unknown>> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

export interface ChildWorker {
  process: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

export interface StackOptions {
  sim: Simulator;
  /** Environment overrides on top of the test defaults. */
  env?: Record<string, string>;
  /** Run the worker in-process (default) or not at all (tests start child workers themselves). */
  worker?: boolean;
  /** Sees every route the API registers. */
  onRoute?: AppDeps['onRoute'];
  /** BullMQ telemetry (startTracing) for the API's queues and the in-process worker. */
  telemetry?: Telemetry;
}

export interface Stack {
  env: Record<string, string>;
  config: Config;
  prefix: string;
  tenant: string;
  apiKey: string;
  webhookSecret: string;
  apiUrl: string;
  /** The API itself, to ask which routes this build has (app.hasRoute). */
  app: ReturnType<typeof buildApp>;
  /** The API's metrics port (what METRICS_PORT serves in production): `${metricsUrl}/metrics`. */
  metricsUrl: string;
  redis: Redis;
  s3: S3Client;
  queues: Queues;
  generations: GenerationStore;
  receiver: Receiver;
  worker: RunningWorker | undefined;
  request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response<T>>;
  generate(body: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>;
  waitForStatus(id: string, statuses: string[], timeoutMs?: number): Promise<Record<string, unknown>>;
  newTenant(name?: string): Promise<{ tenant: string; api_key: string; webhook_secret: string }>;
  spawnWorker(env?: Record<string, string>): ChildWorker;
  close(): Promise<void>;
}

export function testEnv(sim: Simulator, prefix: string, overrides: Record<string, string> = {}): Record<string, string> {
  const s3 = inject('s3');
  return {
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: prefix,
    ZAI_BASE_URL: sim.url,
    ZAI_API_KEY: 'sim-key',
    ZAI_TIMEOUT_MS: '5000',
    ZAI_BACKOFF_MS: '50',
    ZAI_PAUSE_PROBE_MS: '200',
    ZAI_LIMIT_PROBE_MS: '1000',
    ZAI_LIMIT_STEP_MS: '50',
    STORE_BACKOFF_MS: '50',
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_FORCE_PATH_STYLE: String(s3.forcePathStyle),
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    WEBHOOK_RETRY_SCHEDULE: '0,0.1,0.2,0.4',
    WEBHOOK_TIMEOUT_MS: '2000',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    WORKER_SHUTDOWN_TIMEOUT_MS: '10000',
    WORKER_CONCURRENCY: '4',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
}

async function deleteObjects(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const objects = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
  if (objects.length) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const env = testEnv(opts.sim, prefix, opts.env);
  const config = loadConfig(env);
  const bucket = config.s3.bucket ?? 'darkroom';
  const logger = createLogger({ level: config.logLevel, name: 'test' });
  const redis = createRedis(config.redis, 'worker');
  await connectRedis(redis);
  const apiRedis = createRedis(config.redis, 'client');
  // Chaos tests take Redis away on purpose: these connections reconnect quietly.
  for (const connection of [redis, apiRedis]) connection.on('error', () => undefined);
  await connectRedis(apiRedis);
  const keys = redisKeys(prefix);
  const queues = createQueues(apiRedis, config, opts.telemetry);
  const s3 = createS3Client(config.s3);
  const registry = new Registry();
  const app = buildApp({ config, redis: apiRedis, queues, s3, bucket, logger, metrics: registry, onRoute: opts.onRoute });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const metrics = await startMetricsServer({ host: '127.0.0.1', port: 0, registry });
  const address = app.server.address();
  const apiUrl = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';

  const tenants = new TenantStore(redis, keys);
  const created = await tenants.createKey(`${prefix}-acme`);
  const receiver = await startReceiver(created.webhook_secret);
  const worker =
    opts.worker === false
      ? undefined
      : await createWorker({
          config,
          redis,
          s3,
          bucket,
          zai: createZaiClient({ ...config.zai, apiKey: config.zai.apiKey ?? '' }),
          logger,
          ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
        });
  const children: ChildWorker[] = [];

  const request: Stack['request'] = async (method, path, body, headers = {}) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${created.api_key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: Object.fromEntries(res.headers), body: parsed as never };
  };

  const stack: Stack = {
    env,
    config,
    prefix,
    tenant: created.tenant,
    apiKey: created.api_key,
    webhookSecret: created.webhook_secret,
    apiUrl,
    app,
    metricsUrl: metrics.url,
    redis,
    s3,
    queues,
    generations: new GenerationStore(redis, keys),
    receiver,
    worker,
    request,
    generate: (body, headers) => request('POST', '/v1/images/generations', body, headers),
    waitForStatus: (id, statuses, timeoutMs = 20_000) =>
      waitUntil(
        async () => {
          const res = await request('GET', `/v1/images/generations/${id}`);
          return statuses.includes(String(res.body.status)) ? res.body : undefined;
        },
        `${id} to reach ${statuses.join('|')}`,
        timeoutMs,
      ),
    newTenant: (name) => tenants.createKey(name ?? `${prefix}-${randomBytes(3).toString('hex')}`),
    spawnWorker(extra = {}) {
      const child = spawn(process.execPath, [WORKER_MAIN], {
        env: { PATH: process.env.PATH ?? '', ...env, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const handle: ChildWorker = {
        process: child,
        exited,
        output: () => out,
        kill: async (signal) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      };
      children.push(handle);
      return handle;
    },
    close: () => (closing ??= shutdown()),
  };
  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    for (const child of children) await child.kill('SIGKILL');
    if (worker) await worker.close();
    await app.close();
    await metrics.close();
    await receiver.close();
    await queues.close();
    await deleteKeys(redis, prefix);
    await deleteObjects(s3, bucket, `images/${prefix}`);
    // Batch results files live under each tenant (`<tenant>/batches/…`), and tenants under the prefix.
    await deleteObjects(s3, bucket, `${prefix}-`);
    s3.destroy();
    await apiRedis.quit();
    await redis.quit();
  }
  return stack;
}
