/**
 * A poison job, one whose every run kills its worker, must end instead of killing workers
 * forever: after WORKER_MAX_STALLS stalls it fails as `stalled_too_often`, with an alert, and the
 * healthy jobs around it still succeed.
 */
import { QUEUE, redisKeys, enqueueStore, generateJobId, storeJobId } from '@darkroom/shared';
import { describe, expect, test } from './fixtures.ts';
import { startImageHost } from './image-host.ts';
import { regeneratingRecord, savedRecord } from './saved-answer.ts';
import type { ChildWorker, Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const body = { model: 'cogview-4-250304', size: '512x512' };
const MAX_STALLS = 2;

/** Gives a waiting job the stall count of a job whose worker died MAX_STALLS + 1 times. */
const stalledTooOften = (stack: Stack, queue: string, jobId: string) => stack.redis.hset(`${stack.prefix}:${queue}:${jobId}`, 'stc', String(MAX_STALLS + 1));

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
    // The worker that ended the job logs the alert; a kill may have taken that worker too.
    const alertLine = () => [...outputs, worker.output()].join('\n').split('\n').find((line) => line.includes('"alert":"poison_job"'));
    const alert = await waitUntil(alertLine, 'the alert log');
    expect(JSON.parse(alert)).toMatchObject({ level: 50, alert: 'poison_job', queue: 'generate', jobId: poison });
    expect(worker.process.exitCode, outputs.join('\n')).toBeNull();
  }, 180_000);

  test('its record is failed before BullMQ fails its job: a crash in between leaves nothing open', async ({ launch, sim }) => {
    const stack = await launch({ worker: false, env: { WORKER_MAX_STALLS: String(MAX_STALLS) } });
    const id = String((await stack.generate({ ...body, prompt: 'poison' })).body.id);
    await stalledTooOften(stack, QUEUE.generate, id);
    stack.spawnWorker({ LOG_LEVEL: 'error' });

    await waitUntil(async () => (await stack.queues.generate.getJobState(id)) === 'failed' || undefined, 'the job to fail');
    const job = await stack.queues.generate.getJob(id);
    const record = await stack.generations.get(id);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'stalled_too_often' }, failed_stage: 'generate' });
    // Settled first: a worker killed after BullMQ failed the job can no longer leave the record open.
    expect(record!.completed_at).toBeLessThanOrEqual(job!.finishedOn!);
    expect(sim.stats().calls).toBe(0);
  });

  test('a poison generate job whose call may still be in flight waits for that call\'s deadline before it fails', async ({ launch, sim }) => {
    const stack = await launch({ worker: false, env: { WORKER_MAX_STALLS: String(MAX_STALLS) } });
    const id = String((await stack.generate({ ...body, prompt: 'poison in flight' })).body.id);
    const gen = redisKeys(stack.prefix).generation(id);
    // The mark of a call made by a worker that lost its lock: it may still get a paid answer.
    await stack.redis.hset(gen, 'calling_until', String(Date.now() + 120_000));
    await stalledTooOften(stack, QUEUE.generate, id);
    stack.spawnWorker({ LOG_LEVEL: 'error' });

    await waitUntil(async () => (await stack.queues.generate.getJobState(id)) === 'delayed' || undefined, 'the job to be put aside until the mark', 30_000);
    expect(await stack.generations.get(id)).toMatchObject({ status: 'queued' });
    // The call's deadline passes (brought forward here): the next pickup fails the job.
    await stack.redis.hset(gen, 'calling_until', String(Date.now() - 1));
    await (await stack.queues.generate.getJob(id))!.promote();
    expect(await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000)).toMatchObject({ status: 'failed', error: { code: 'stalled_too_often' } });
    expect(sim.stats().calls).toBe(0);
  });

  test('a poison generate job whose paid answer is saved is copied, not failed', async ({ launch, sim }) => {
    const host = await startImageHost({ oversizedBytes: 0 });
    const stack = await launch({ worker: false, env: { WORKER_MAX_STALLS: String(MAX_STALLS) } });
    try {
      const id = await savedRecord(stack, host.url);
      await stack.queues.generate.add(QUEUE.generate, { v: 1, id, tenant: stack.tenant }, { jobId: id });
      await stalledTooOften(stack, QUEUE.generate, id);
      stack.spawnWorker({ LOG_LEVEL: 'error' });

      expect(await stack.waitForStatus(id, ['succeeded', 'failed'])).toMatchObject({ status: 'succeeded' });
      expect(host.requests).toBe(1);
      expect(sim.stats().calls).toBe(0);
    } finally {
      await stack.close();
      await host.close();
    }
  });

  test('a poison store job whose record went back to generation (an expired URL) hands it back, not failed', async ({ launch, sim }) => {
    const stack = await launch({ worker: false, env: { WORKER_MAX_STALLS: String(MAX_STALLS) } });
    const id = await regeneratingRecord(stack);
    await enqueueStore(stack.queues, { id, tenant: stack.tenant }, 0);
    await stalledTooOften(stack, QUEUE.store, storeJobId(id, 0));
    stack.spawnWorker({ LOG_LEVEL: 'error' });

    expect(await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000)).toMatchObject({ status: 'succeeded' });
    // Each job completes after the work it handed on may have finished.
    await expect.poll(() => stack.queues.store.getJobState(storeJobId(id, 0)), { timeout: 20_000 }).toBe('completed');
    await expect.poll(() => stack.queues.generate.getJobState(generateJobId(id, 1)), { timeout: 20_000 }).toBe('completed');
    expect(sim.stats().calls).toBe(1);
    expect((await stack.generations.get(id))?.paid_generations).toBe(2);
  });
});
