import type { FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import type { ApiContext } from '../context.ts';

const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'paused', 'failed', 'completed'] as const;

/**
 * GET /metrics in Prometheus text format, read from Redis at scrape time so that every API
 * replica reports the same fleet-wide numbers: queue depths, the shared Z.AI concurrency cap and
 * whether generation is paused (with Z.AI's code as the reason).
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
  new Gauge({
    name: 'darkroom_zai_concurrency_limit',
    help: 'Z.AI calls allowed in flight across all workers right now (lowered after 429 concurrency answers)',
    registers: [registry],
    async collect() {
      this.set((await ctx.queues.generate.getGlobalConcurrency()) ?? ctx.config.zai.maxConcurrency);
    },
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
