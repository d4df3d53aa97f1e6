/**
 * What a worker process measures, behind one small interface so the processors only say what
 * happened: the WorkerContext carries `noMetrics` unless main.ts passes a prom-client one (its own
 * registry, served on the metrics port). Stage steps also run inside an OpenTelemetry span
 * (`stage()`), a child of BullMQ's span of the job.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { DelayedError, RateLimitError } from 'bullmq';
import { JobError, span } from '@darkroom/shared';
import type { DeliveryAttempt } from './webhook-sender.ts';
import type { ZaiClient } from './zai-client.ts';

export type Stage = 'zai_call' | 'copy' | 'webhook';
type Outcome = 'ok' | 'error';
/** How a job run ended: `requeued` = put back without spending an attempt (rate limit, wait for a peer). */
type JobOutcome = 'ok' | 'error' | 'requeued';
type WebhookOutcome = 'delivered' | 'failed' | 'gone' | 'forbidden';

export interface WorkerMetrics {
  stageSeconds(stage: Stage, outcome: Outcome, seconds: number): void;
  jobSeconds(queue: string, outcome: JobOutcome, seconds: number): void;
  /** One Z.AI answer: HTTP status ('none' when no answer came) and business code ('' on success). */
  zaiResponse(status: string, code: string): void;
  webhookAttempt(outcome: WebhookOutcome): void;
  bytesStored(bytes: number): void;
}

const noop = (): void => undefined;
export const noMetrics: WorkerMetrics = { stageSeconds: noop, jobSeconds: noop, zaiResponse: noop, webhookAttempt: noop, bytesStored: noop };

/** Seconds; stage steps and whole job runs share them, so the two histograms compare bucket for bucket. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];

const SPAN_NAMES: Record<Stage, string> = { zai_call: 'zai.generate', copy: 's3.copy', webhook: 'webhook.send' };

export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const registers = [registry];
  const stages = new Histogram({
    name: 'darkroom_stage_duration_seconds',
    help: 'Duration of one stage step: a Z.AI call, an image copy into S3, a webhook attempt',
    labelNames: ['stage', 'outcome'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const jobs = new Histogram({
    name: 'darkroom_job_duration_seconds',
    help: 'Duration of one job run per queue, and how it ended',
    labelNames: ['queue', 'outcome'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const zai = new Counter({
    name: 'darkroom_zai_responses_total',
    help: "Z.AI answers to generation calls by HTTP status ('none': no answer) and business code ('' on success)",
    labelNames: ['status', 'code'],
    registers,
  });
  const webhooks = new Counter({
    name: 'darkroom_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome',
    labelNames: ['outcome'],
    registers,
  });
  const bytes = new Counter({ name: 'darkroom_s3_bytes_written_total', help: 'Image bytes copied into S3 and verified', registers });
  return {
    stageSeconds: (stage, outcome, seconds) => stages.observe({ stage, outcome }, seconds),
    jobSeconds: (queue, outcome, seconds) => jobs.observe({ queue, outcome }, seconds),
    zaiResponse: (status, code) => zai.inc({ status, code }),
    webhookAttempt: (outcome) => webhooks.inc({ outcome }),
    bytesStored: (n) => bytes.inc(n),
  };
}

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

/** Runs one stage step in a span and times it; `failed` says whether a result counts as an error. */
export async function stage<T>(metrics: WorkerMetrics, name: Stage, fn: () => Promise<T>, failed: (result: T) => boolean = () => false): Promise<T> {
  const t0 = process.hrtime.bigint();
  try {
    const result = await span(SPAN_NAMES[name], { 'darkroom.stage': name }, fn);
    metrics.stageSeconds(name, failed(result) ? 'error' : 'ok', seconds(t0));
    return result;
  } catch (err) {
    metrics.stageSeconds(name, 'error', seconds(t0));
    throw err;
  }
}

/** Times one run of a processor. */
export async function timedJob(metrics: WorkerMetrics, queue: string, run: () => Promise<void>): Promise<void> {
  const t0 = process.hrtime.bigint();
  try {
    await run();
    metrics.jobSeconds(queue, 'ok', seconds(t0));
  } catch (err) {
    const requeued = err instanceof DelayedError || err instanceof RateLimitError;
    metrics.jobSeconds(queue, requeued ? 'requeued' : 'error', seconds(t0));
    throw err;
  }
}

/** Counts and times every generation call (not the free probes) by what Z.AI answered. */
export function measuredZai(zai: ZaiClient, metrics: WorkerMetrics): ZaiClient {
  return {
    probe: () => zai.probe(),
    generate: (req) =>
      stage(metrics, 'zai_call', async () => {
        try {
          const answer = await zai.generate(req);
          metrics.zaiResponse('200', '');
          return answer;
        } catch (err) {
          const failure = err instanceof JobError ? err.zai : undefined;
          const code = failure?.code ?? (err instanceof JobError ? err.code : 'unknown');
          metrics.zaiResponse(failure ? String(failure.status) : code === 'zai_malformed_response' ? '200' : 'none', code);
          throw err;
        }
      }),
  };
}

export function webhookOutcome(result: DeliveryAttempt): WebhookOutcome {
  if (result.ok) return 'delivered';
  if (result.gone) return 'gone';
  return result.forbidden ? 'forbidden' : 'failed';
}
