import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { readFleetCounts, readZaiLimits, type ZaiLimits } from '@darkroom/shared';
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { errorResponses } from '../openapi.ts';

const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'paused', 'failed', 'completed'] as const;

/**
 * GET /metrics in Prometheus text format, read from Redis at scrape time so that every API
 * replica reports the same fleet-wide numbers: queue depths, the adaptive Z.AI limits (cap,
 * discovered limit, refusals per minute), whether generation is paused (with Z.AI's code as the
 * reason), and paid generations against stored images.
 */
export function metricsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const registry = new Registry();
  const queues = { generate: ctx.queues.generate, store: ctx.queues.store, notify: ctx.queues.notify };

  new Gauge({
    name: 'darkroom_queue_jobs',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [name, queue] of Object.entries(queues)) {
        const counts = await queue.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) this.set({ queue: name, state }, counts[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: 'darkroom_generation_paused',
    help: 'Whether generation is paused fleet-wide (1) and why, by Z.AI business code',
    labelNames: ['reason'],
    registers: [registry],
    async collect() {
      this.reset();
      const paused = await ctx.fleet.read();
      if (paused) this.set({ reason: paused.code }, 1);
      else this.set({ reason: '' }, 0);
    },
  });
  // Read once per scrape (in the handler below), shared by the gauges of the adaptive Z.AI limits.
  let limits: ZaiLimits | undefined;
  const limitGauges: [string, string, (l: ZaiLimits) => number][] = [
    ['darkroom_zai_concurrency_cap', 'Z.AI calls the fleet may have in flight now (adaptive, at most ZAI_MAX_CONCURRENCY)', (l) => l.cap],
    ['darkroom_zai_concurrency_limit', 'Highest Z.AI concurrency known to work (in flight at the last 1302, or proven since); 0 before any is known', (l) => l.limit],
    ['darkroom_zai_in_flight', 'Z.AI calls in flight across all workers', (l) => l.inFlight],
    ['darkroom_zai_concurrency_refusals_per_minute', 'Z.AI 1302 answers (over the account concurrency limit) in the last 60 s', (l) => l.refusalsPerMinute],
    ['darkroom_zai_rate_limit_rps', 'Z.AI calls per second the fleet may start now (adaptive); 0 = no limit', (l) => l.rps],
    ['darkroom_zai_rate_refusals_per_minute', 'Z.AI 1303, 1305 and 429 answers in the last 60 s', (l) => l.throttlesPerMinute],
  ];
  for (const [name, help, value] of limitGauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        if (limits) this.set(value(limits));
      },
    });
  }
  new Gauge({
    name: 'darkroom_zai_concurrency_ceiling',
    help: 'ZAI_MAX_CONCURRENCY: the adaptive cap never goes above it',
    registers: [registry],
    collect() {
      this.set(ctx.config.zai.maxConcurrency);
    },
  });

  // A scrape reads both totals once, so the ratio always matches the two counters beside it;
  // concurrent scrapes share one.
  let counts: Promise<{ paid: number; stored: number }> | undefined;
  const fleetCounts = () => (counts ??= readFleetCounts(ctx.redis, ctx.keys));
  new Counter({
    name: 'darkroom_generations_paid_total',
    help: 'Z.AI answers received and saved, fleet-wide: each one a paid generation (calls billed without an answer are not seen)',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc((await fleetCounts()).paid);
    },
  });
  new Counter({
    name: 'darkroom_images_stored_total',
    help: 'Images copied into S3 and verified, fleet-wide',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc((await fleetCounts()).stored);
    },
  });
  new Gauge({
    name: 'darkroom_paid_per_stored_ratio',
    help: 'Paid generations per stored image since the counters began (1 when nothing was paid twice; NaN before the first image)',
    registers: [registry],
    async collect() {
      const { paid, stored } = await fleetCounts();
      this.set(stored === 0 ? Number.NaN : paid / stored);
    },
  });

  let scrape: Promise<string> | undefined;
  const schema = {
    summary: 'Prometheus metrics',
    tags: ['health'],
    response: {
      200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
      ...errorResponses('service_unavailable'),
    },
  };
  app.get('/metrics', { schema }, async (_request, reply) => {
    scrape ??= (async () => {
      limits = await readZaiLimits(ctx.redis, ctx.keys);
      return registry.metrics();
    })().finally(() => {
      scrape = undefined;
      counts = undefined;
    });
    const body = await scrape;
    return reply.type(registry.contentType).send(body);
  });
}
