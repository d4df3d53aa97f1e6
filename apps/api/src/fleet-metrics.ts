/**
 * The fleet-wide gauges, read from Redis when Prometheus scrapes the API's metrics port, so every
 * API replica reports the same numbers: jobs per queue and state, the age of each queue's oldest
 * waiting job, whether generation is paused
 * (with Z.AI's code as the reason), the adaptive Z.AI limits, and paid generations against stored
 * images. One scrape reads Redis once for all of them; scrapes within `maxAgeMs` (default 1 s)
 * share that reading, so the ratio always matches the two counters beside it.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { readFleetCounts, readZaiLimits, type FleetCounts, type ZaiLimits } from '@darkroom/shared';
import type { ApiContext } from './context.ts';

const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'paused', 'failed', 'completed'] as const;

export interface FleetReading {
  jobs: Record<string, Partial<Record<string, number>>>;
  /** Per queue: when its oldest job waiting to run (waiting or held by a pause) was added, epoch ms. */
  oldestWaiting: Record<string, number | undefined>;
  /** Z.AI's business code of the fleet pause, undefined when not paused. */
  pausedFor: string | undefined;
  limits: ZaiLimits | undefined;
  counts: FleetCounts;
}

type FleetSource = Pick<ApiContext, 'redis' | 'keys' | 'queues' | 'fleet'>;

async function readFleet(ctx: FleetSource): Promise<FleetReading> {
  const queues = { generate: ctx.queues.generate, store: ctx.queues.store, notify: ctx.queues.notify, finalize: ctx.queues.finalize };
  const [jobs, oldest, paused, limits, counts] = await Promise.all([
    Promise.all(Object.entries(queues).map(async ([name, queue]) => [name, await queue.getJobCounts(...JOB_STATES)] as const)),
    // The head of each list (asc): the job that has waited longest.
    Promise.all(
      Object.entries(queues).map(async ([name, queue]) => {
        const heads = await queue.getJobs(['wait', 'paused'], 0, 0, true);
        return [name, heads.length ? Math.min(...heads.map((j) => j.timestamp)) : undefined] as const;
      }),
    ),
    ctx.fleet.read(),
    readZaiLimits(ctx.redis, ctx.keys),
    readFleetCounts(ctx.redis, ctx.keys),
  ]);
  return { jobs: Object.fromEntries(jobs), oldestWaiting: Object.fromEntries(oldest), pausedFor: paused?.code, limits, counts };
}

/** Paid generations per stored image: 1 when nothing was paid twice; NaN before the first image. */
export function paidPerStored({ paid, stored }: FleetCounts): number {
  return stored === 0 ? Number.NaN : paid / stored;
}

export function registerFleetMetrics(registry: Registry, ctx: FleetSource, ceiling: number, maxAgeMs = 1_000): void {
  let cached: { at: number; reading: Promise<FleetReading> } | undefined;
  const read = (): Promise<FleetReading> => {
    const now = Date.now();
    if (!cached || now - cached.at >= maxAgeMs) {
      const reading = readFleet(ctx);
      // A failed reading is not kept: the next scrape tries again.
      reading.catch(() => {
        if (cached?.reading === reading) cached = undefined;
      });
      cached = { at: now, reading };
    }
    return cached.reading;
  };
  const registers = [registry];

  new Gauge({
    name: 'darkroom_queue_jobs',
    help: 'Jobs per queue and state, fleet-wide',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      const { jobs } = await read();
      this.reset();
      for (const [queue, counts] of Object.entries(jobs)) {
        for (const state of JOB_STATES) this.set({ queue, state }, counts[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: 'darkroom_queue_oldest_waiting_seconds',
    help: "Age of each queue's oldest job waiting to run (waiting, or held by a pause), since it was added; 0 when none waits",
    labelNames: ['queue'],
    registers,
    async collect() {
      const { oldestWaiting } = await read();
      const now = Date.now();
      this.reset();
      for (const [queue, since] of Object.entries(oldestWaiting)) this.set({ queue }, since === undefined ? 0 : Math.max(0, (now - since) / 1000));
    },
  });
  new Gauge({
    name: 'darkroom_generation_paused',
    help: 'Whether generation is paused fleet-wide (1) and why, by Z.AI business code',
    labelNames: ['reason'],
    registers,
    async collect() {
      const { pausedFor } = await read();
      this.reset();
      this.set({ reason: pausedFor ?? '' }, pausedFor === undefined ? 0 : 1);
    },
  });
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
      registers,
      async collect() {
        const { limits } = await read();
        if (limits) this.set(value(limits));
      },
    });
  }
  new Gauge({
    name: 'darkroom_zai_concurrency_ceiling',
    help: 'ZAI_MAX_CONCURRENCY: the adaptive cap never goes above it',
    registers,
    collect() {
      this.set(ceiling);
    },
  });
  new Counter({
    name: 'darkroom_generations_paid_total',
    help: 'Z.AI answers received and saved, fleet-wide: each one a paid generation (calls billed without an answer are not seen)',
    registers,
    async collect() {
      const { counts } = await read();
      this.reset();
      this.inc(counts.paid);
    },
  });
  new Counter({
    name: 'darkroom_images_stored_total',
    help: 'Images copied into S3 and verified, fleet-wide',
    registers,
    async collect() {
      const { counts } = await read();
      this.reset();
      this.inc(counts.stored);
    },
  });
  new Gauge({
    name: 'darkroom_paid_per_stored_ratio',
    help: 'Paid generations per stored image since the counters began (1 when nothing was paid twice; NaN before the first image)',
    registers,
    async collect() {
      this.set(paidPerStored((await read()).counts));
    },
  });
}
