/**
 * Benchmark 3: pipeline throughput, simulator at 0 ms and 512x512 images, one worker process:
 * images/s through generate → store → notify (three BullMQ jobs each), against a BullMQ worker
 * with a no-op processor at the same concurrency, same Redis, same bullmq.
 */
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { accept, drain } from '../harness/drain.ts';
import { median, progress, row, type Row, type Settings } from '../harness/figures.ts';
import { spawnNode } from '../harness/processes.ts';
import type { Services } from '../harness/services.ts';

const BARE_WORKER = fileURLToPath(new URL('../baselines/bare-worker.ts', import.meta.url));
export const PIPELINE_CONCURRENCY = 50;

/**
 * Jobs/s of a bare BullMQ worker draining `count` jobs already waiting: a no-op processor, or
 * with `callUrl` one simulator call per job (baselines/bare-worker.ts).
 */
export async function bareRate(services: Services, count: number, concurrency: number, callUrl?: string): Promise<number> {
  await services.clean();
  const queue = new Queue('bare', { connection: services.redis, prefix: 'bare' });
  for (let at = 0; at < count; at += 1000) {
    const n = Math.min(1000, count - at);
    await queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'bare', data: { v: 1, id: `gen_${at + i}`, tenant: 'bench' }, opts: { jobId: `gen_${at + i}` } })));
  }
  await queue.close();
  const child = spawnNode({
    name: 'bare-worker',
    args: [BARE_WORKER],
    env: {
      REDIS_URL: services.redisUrl,
      QUEUE_PREFIX: 'bare',
      QUEUE: 'bare',
      JOBS: String(count),
      CONCURRENCY: String(concurrency),
      ...(callUrl ? { CALL_URL: `${callUrl}/images/generations`, CALL_KEY: 'sim-key' } : {}),
    },
    readyWhen: /"event":"done"/,
    readyTimeoutMs: 600_000,
  });
  const { ms } = JSON.parse(await child.ready) as { ms: number };
  await child.stop();
  return (count * 1000) / ms;
}

export async function pipeline(services: Services, s: Settings): Promise<Row[]> {
  const jobs = s.quick ? 500 : 2000;
  await services.sim.configure({ latencyMs: { standard: [0, 0], hd: [0, 0] }, imagePadBytes: 0 });
  const env = { WORKER_CONCURRENCY: String(PIPELINE_CONCURRENCY), ZAI_MAX_CONCURRENCY: String(PIPELINE_CONCURRENCY) };
  const darkroom: number[] = [];
  const noop: number[] = [];
  for (let run = 0; run < s.runs; run++) {
    const accepted = await accept(services, jobs);
    const drained = await drain(services, accepted, env, 600_000);
    await drained.worker.stop();
    await accepted.receiver.close();
    darkroom.push((jobs * 1000) / drained.ms);
    noop.push(await bareRate(services, jobs, PIPELINE_CONCURRENCY));
    progress(`pipeline ${darkroom.at(-1)?.toFixed(1)} images/s, no-op ${noop.at(-1)?.toFixed(0)} jobs/s`);
  }
  const r = row({
    benchmark: '3 pipeline, sim 0 ms',
    metric: `images/s, ${jobs} jobs, concurrency ${PIPELINE_CONCURRENCY}`,
    unit: '/s',
    darkroom: median(darkroom),
    baseline: median(noop),
    baselineName: 'no-op BullMQ worker jobs/s',
    target: '>= 50%',
    runs: { darkroom, baseline: noop },
    note: 'each image is three BullMQ jobs (generate, store, notify), a Z.AI call, an image download, an S3 PutObject and a read-back, and a webhook',
  });
  r.met = r.ratio !== null && r.ratio >= 0.5;
  return [r];
}
