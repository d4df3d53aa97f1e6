/**
 * Builds the BullMQ workers (generate, store, notify, finalize, retries) and the fair dispatcher around one
 * WorkerContext.
 * Nothing here reads the environment or connects at import; main.ts owns the process.
 */
import { Worker, type Job, type Telemetry } from 'bullmq';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { Agent } from 'undici';
import {
  BATCH_CANCEL_JOB,
  GenerationStore,
  QUEUE,
  STORE_BACKOFF,
  TenantStore,
  WEBHOOK_BACKOFF,
  ZAI_BACKOFF,
  createQueues,
  imageLinker,
  keepJobs,
  redisKeys,
  retryOfJobId,
  storeRetryDelay,
  sweepValidatingBatches,
  webhookRetryDelay,
  zaiRetryDelay,
  type Config,
  type Logger,
} from '@darkroom/shared';
import { AdaptiveLimit } from './adaptive-limit.ts';
import type { WorkerContext } from './context.ts';
import { DrainWatch } from './drain-watch.ts';
import { Dispatcher } from './dispatcher.ts';
import { Fleet } from './fleet.ts';
import { TRIM_EVERY_MS, indexTrimmer } from './index-trim.ts';
import { PoisonJobError, endPoisonJob, failRecord, handBackToGeneration, handOverSavedAnswer } from './outcome.ts';
import { PendingAnswers } from './pending-answers.ts';
import { processBatchCancel } from './processors/batch-cancel.ts';
import { processFinalize } from './processors/finalize.ts';
import { processGenerate } from './processors/generate.ts';
import { processNotify } from './processors/notify.ts';
import { processRetries } from './processors/retries.ts';
import { processStore } from './processors/store.ts';
import { createWebhookDispatcher } from './webhook-sender.ts';
import { measuredZai, noMetrics, timedJob, type WorkerMetrics } from './worker-metrics.ts';
import type { ZaiClient } from './zai-client.ts';

export interface WorkerDeps {
  config: Config;
  /** A connection made with createRedis(url, 'worker'); BullMQ duplicates it for blocking reads. */
  redis: Redis;
  s3: S3Client;
  bucket: string;
  zai: ZaiClient;
  logger: Logger;
  /** Default: measures nothing. */
  metrics?: WorkerMetrics;
  /** BullMQ telemetry (startTracing): jobs continue the trace of whoever added them. */
  telemetry?: Telemetry;
}

export interface RunningWorker {
  context: WorkerContext;
  workers: Worker[];
  /** Stops taking jobs, lets in-flight ones finish (up to the shutdown timeout), then closes. */
  close(): Promise<void>;
}

export async function createWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const { config, redis, logger } = deps;
  const keys = redisKeys(config.redis.prefix);
  const metrics = deps.metrics ?? noMetrics;
  const queues = createQueues(redis, config, deps.telemetry);
  const fleet = new Fleet({ redis, keys, generateQueue: queues.generate, config, log: logger });
  const limits = new AdaptiveLimit({ redis, keys, generateQueue: queues.generate, config, log: logger });
  const imageDispatcher = new Agent({ connections: 64 });
  const webhookDispatcher = createWebhookDispatcher(config.webhooks, config.webhooks.timeoutMs);
  const generations = new GenerationStore(redis, keys);
  const ctx: WorkerContext = {
    config,
    log: logger,
    redis,
    keys,
    generations,
    tenants: new TenantStore(redis, keys),
    queues,
    zai: limits.wrap(measuredZai(deps.zai, metrics)),
    s3: deps.s3,
    bucket: deps.bucket,
    links: imageLinker(deps.s3, config.s3),
    fleet,
    pending: new PendingAnswers({ generations, redis, log: logger }),
    imageDispatcher,
    webhookDispatcher,
    metrics,
  };

  await limits.start();

  const common = {
    connection: redis,
    prefix: config.redis.prefix,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    // A stall is a crashed peer and every stage is safe to re-run, but a job that keeps crashing
    // its worker (a poison job) must end. BullMQ's own limit would fail the job before its record
    // is settled (a crash in between would leave the record open for good), so the limit is ours:
    // endPoisonJob, at the pickup after the last allowed stall.
    maxStalledCount: Number.MAX_SAFE_INTEGER,
    autorun: false,
    // Jobs carry no retention of their own (an older deploy's jobs may: theirs wins).
    ...keepJobs(config),
    ...(deps.telemetry ? { telemetry: deps.telemetry } : {}),
  };
  // A batch's cancel sweep is never a poison job: it only runs Redis scripts over the item list, in
  // parts, from its saved place, so a worker dying in it is a crash elsewhere or a deploy, and the
  // queued items of a canceled batch end only through it (the dispatcher leaves them to it).
  const isPoison = (job: Job) => job.stalledCounter > config.worker.maxStalls && !(job.queueName === QUEUE.finalize && job.name === BATCH_CANCEL_JOB);
  /** Runs a stage, unless the job is a poison job (endPoisonJob). */
  const stage = (queue: string, run: (job: Job, token?: string) => Promise<void>) => (job: Job, token?: string) =>
    timedJob(metrics, queue, () => (isPoison(job) ? endPoisonJob(ctx, job, token) : run(job, token)));
  const workers = [
    new Worker(QUEUE.generate, stage(QUEUE.generate, (job, token) => processGenerate(ctx, job, token)), {
      ...common,
      concurrency: config.worker.concurrency,
      // No limiter option: the fleet-wide rate (and the max that makes queue.rateLimit() bind) is
      // in the queue's meta, written by the adaptive limits; a limiter here would override it.
      settings: {
        // This worker's ZAI_MAX_ATTEMPTS bounds every retry, also of errors that never reached settle().
        backoffStrategy: (attemptsMade: number, type?: string, err?: Error) =>
          attemptsMade >= config.zai.maxAttempts ? -1 : type === ZAI_BACKOFF ? zaiRetryDelay(config.zai.backoffMs, attemptsMade, err) : 0,
      },
    }),
    new Worker(QUEUE.store, stage(QUEUE.store, (job, token) => processStore(ctx, job, token)), {
      ...common,
      concurrency: config.worker.concurrency,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) => (type === STORE_BACKOFF ? storeRetryDelay(config.store, attemptsMade) : 0),
      },
    }),
    new Worker(QUEUE.notify, stage(QUEUE.notify, (job) => processNotify(ctx, job)), {
      ...common,
      concurrency: Math.max(8, config.worker.concurrency),
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string, err?: Error) =>
          type === WEBHOOK_BACKOFF ? webhookRetryDelay(config.webhooks.retryScheduleMs, attemptsMade, err) : 0,
      },
    }),
    new Worker(QUEUE.finalize, stage(QUEUE.finalize, (job) => (job.name === BATCH_CANCEL_JOB ? processBatchCancel(ctx, job) : processFinalize(ctx, job))), {
      ...common,
      concurrency: 2,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) => (type === STORE_BACKOFF ? storeRetryDelay(config.store, attemptsMade) : 0),
      },
    }),
    new Worker(QUEUE.retries, stage(QUEUE.retries, (job) => processRetries(ctx, job)), { ...common, concurrency: 1 }),
  ];
  const settlingFailed = new Set<Promise<void>>();
  for (const worker of workers) {
    worker.on('error', (err) => logger.error({ err, queue: worker.name }, 'worker error'));
    // A job BullMQ failed without our processor settling it still ends.
    worker.on('failed', (job, err) => {
      if (!job || err instanceof PoisonJobError) return;
      // An older deploy's job may still carry BullMQ's own stall failure.
      const stalledTooOften = job.stalledCounter > config.worker.maxStalls;
      if (stalledTooOften) {
        logger.error(
          { alert: 'poison_job', queue: worker.name, jobId: job.id, stalls: job.stalledCounter, maxStalls: config.worker.maxStalls },
          'a job crashed its worker too often: failed without running it again',
        );
      }
      const id = (job.data as { id?: unknown }).id;
      // Only generation stages settle a record (finalize retries until it succeeds; a bulk retry marks itself aborted).
      if (worker.name === QUEUE.notify || worker.name === QUEUE.finalize || worker.name === QUEUE.retries || typeof id !== 'string') return;
      const detail = stalledTooOften
        ? { code: 'stalled_too_often', message: `the job stalled ${job.stalledCounter} times (its worker died each time); WORKER_MAX_STALLS is ${config.worker.maxStalls}` }
        : { code: 'job_failed', message: err.message };
      // 'failed' fires for every failed attempt; only a job BullMQ will not retry settles here.
      // Tracked, so close() waits for it: a shutdown never leaves a record open with no job.
      const settling = job
        .getState()
        .then(async (state) => {
          if (state !== 'failed') return;
          const log = logger.child({ jobId: job.id, id, queue: worker.name });
          if (await handOverSavedAnswer(ctx, worker.name, id, log)) return;
          if (await handBackToGeneration(ctx, worker.name, id, log)) return;
          // A gone or finished record is left as it is: failRecord's update refuses both, and a record
          // an admin retry reopened since (a later life) too.
          await failRecord(ctx, id, detail, worker.name, retryOfJobId(job.id ?? ''));
        })
        .catch((e: unknown) => logger.error({ err: e, id }, 'could not settle a failed job'))
        .finally(() => settlingFailed.delete(settling));
      settlingFailed.add(settling);
    });
  }

  const tickMs = Math.min(5_000, config.zai.pauseProbeMs);
  const ticker = setInterval(() => {
    fleet.tick(deps.zai).catch((err: unknown) => logger.warn({ err }, 'fleet upkeep failed'));
  }, tickMs);
  ticker.unref();
  const trim = indexTrimmer({ redis, keys, minRetentionMs: Math.min(config.retention.succeededSeconds, config.retention.failedSeconds) * 1000, log: logger });
  const trimmer = setInterval(() => {
    trim().catch((err: unknown) => logger.warn({ err }, 'index trim failed'));
  }, TRIM_EVERY_MS);
  trimmer.unref();
  // One worker of the fleet a minute discards the batches whose upload died (batch-discard.ts).
  const sweeper = setInterval(() => {
    void (async () => {
      if ((await redis.set(keys.validatingSweepLock, '1', 'PX', TRIM_EVERY_MS - 1_000, 'NX')) !== 'OK') return;
      const discarded = await sweepValidatingBatches({ redis, keys, generations });
      if (discarded) logger.warn({ discarded }, 'batches abandoned while validating were discarded');
    })().catch((err: unknown) => logger.warn({ err }, 'validating batch sweep failed'));
  }, TRIM_EVERY_MS);
  sweeper.unref();

  // Before the loops start: a worker started during a drain takes no job.
  const drainWatch = new DrainWatch({ state: fleet.state, workers, log: logger });
  await drainWatch.check();
  const drainTicker = setInterval(() => {
    drainWatch.check().catch((err: unknown) => logger.warn({ err }, 'drain check failed'));
  }, tickMs);
  drainTicker.unref();

  for (const worker of workers) {
    worker.run().catch((err: unknown) => logger.error({ err, queue: worker.name }, 'worker stopped'));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const dispatcher = new Dispatcher(ctx);
  dispatcher.start();

  async function shutdown(): Promise<void> {
    clearInterval(ticker);
    clearInterval(trimmer);
    clearInterval(sweeper);
    clearInterval(drainTicker);
    limits.stop();
    // Not awaited yet: a tick stuck on an unreachable Redis must not hold up the workers' drain.
    const dispatchStopped = dispatcher.stop();
    const graceful = Promise.all(workers.map((w) => w.close()));
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, config.worker.shutdownTimeoutMs, 'timeout').unref());
    if ((await Promise.race([graceful, timeout])) === 'timeout') {
      logger.warn('shutdown timeout: in-flight jobs are handed back through stall recovery');
      await Promise.all(workers.map((w) => w.close(true)));
    }
    await Promise.all(settlingFailed);
    ctx.pending.close();
    await dispatchStopped;
    await queues.close();
    await Promise.all([imageDispatcher.close(), webhookDispatcher.close()]);
  }
  let closing: Promise<void> | undefined;

  return {
    context: ctx,
    workers,
    // Idempotent: a second call (a second signal, a test's teardown) waits for the first.
    close: () => (closing ??= shutdown()),
  };
}
