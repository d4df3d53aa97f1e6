/**
 * A poison job, one whose every run kills its worker, must end instead of killing workers
 * forever: after WORKER_MAX_STALLS stalls it fails as `stalled_too_often`, with an alert, and the
 * healthy jobs around it still succeed.
 */
import { describe, expect, test } from './fixtures.ts';
import type { ChildWorker } from './stack.ts';
import { waitUntil } from './wait.ts';

const body = { model: 'cogview-4-250304', size: '512x512' };
const MAX_STALLS = 2;

describe('poison jobs', () => {
  test('a job that kills its worker every time fails as stalled_too_often; healthy jobs succeed', async ({ launch, sim }) => {
    const env = {
      WORKER_MAX_STALLS: String(MAX_STALLS),
      // One generate job per process: a kill aimed at the poison job hits no healthy generate job
      // (and the kill waits for the other stages to be idle).
      WORKER_CONCURRENCY: '1',
      WORKER_LOCK_DURATION_MS: '1000',
      WORKER_STALLED_INTERVAL_MS: '500',
      ZAI_TIMEOUT_MS: '3000',
    };
    const stack = await launch({ worker: false, env });
    // Each call lasts long enough for the test to kill the worker while it holds the poison job.
    sim.configure({ latencyMs: { standard: [2_000, 2_000], hd: [2_000, 2_000] } });
    const poison = String((await stack.generate({ ...body, prompt: 'poison' })).body.id);
    const healthy = await Promise.all([1, 2, 3].map(async (n) => String((await stack.generate({ ...body, prompt: `healthy ${n}` })).body.id)));

    const lockKey = `${stack.prefix}:generate:${poison}:lock`;
    const spawn = () => stack.spawnWorker({ LOG_LEVEL: 'error' });
    let worker: ChildWorker = spawn();
    const outputs: string[] = [];
    let killedToken: string | null = null;
    let kills = 0;
    // The crash: whenever a live worker takes the poison job, SIGKILL it and start another.
    for (let round = 0; round < 3 * (MAX_STALLS + 1); round++) {
      const next = await waitUntil(
        async () => {
          const state = await stack.queues.generate.getJobState(poison);
          if (state === 'failed' || state === 'completed') return { state };
          const token = await stack.redis.get(lockKey);
          if (!token || token === killedToken) return undefined;
          // The crash is the poison job's alone: the kill waits while the process also copies or
          // announces a healthy job (a stage that stalls too often fails, whatever its job).
          const busy = (await stack.queues.store.getActiveCount()) + (await stack.queues.notify.getActiveCount());
          return busy === 0 ? { state: 'held', token } : undefined;
        },
        'the poison job to be taken or to end',
        30_000,
        10,
      );
      if (next.state !== 'held') break;
      killedToken = next.token ?? null;
      await worker.kill('SIGKILL');
      outputs.push(worker.output());
      kills++;
      worker = spawn();
    }

    // Each round may wait out the killed call's deadline (ZAI_TIMEOUT_MS + 5 s): generous on a loaded machine.
    const done = await stack.waitForStatus(poison, ['succeeded', 'failed'], 60_000);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'stalled_too_often' } });
    expect(kills).toBeGreaterThanOrEqual(MAX_STALLS + 1);
    for (const id of healthy) expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000)).status).toBe('succeeded');
    await waitUntil(() => worker.output().includes('"alert":"poison_job"') || undefined, 'the alert log');
    const alert = worker.output().split('\n').find((line) => line.includes('"alert":"poison_job"'));
    expect(JSON.parse(alert!)).toMatchObject({ level: 50, alert: 'poison_job', queue: 'generate', jobId: poison });
    expect(worker.process.exitCode, outputs.join('\n')).toBeNull();
  }, 180_000);
});
