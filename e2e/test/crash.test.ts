import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startRedisServer } from '@darkroom/local-stack';
import { QUEUE, enqueueStore, generateJobId } from '@darkroom/shared';
import { queuedRecord } from '@darkroom/shared/testing';
import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';
import { regeneratingRecord } from './saved-answer.ts';
import { waitUntil } from './wait.ts';

describe('worker crashes and shutdowns', () => {
  test('a worker SIGKILLed after Z.AI answered, mid-copy, is replaced and the job finishes with one paid generation', async ({ launch, sim }) => {
    const stack = await launch({ worker: false });
    sim.configure({ imageDelayMs: 120_000 });
    const first = stack.spawnWorker();
    const created = await stack.generate({ model: 'cogview-4-250304', prompt: 'crash me', webhook_url: stack.receiver.url });
    const id = String(created.body.id);

    await waitUntil(async () => (await stack.generations.get(id))?.status === 'storing' || undefined, 'Z.AI to answer', 30_000);
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
    await first.kill('SIGKILL');
    expect((await stack.generations.get(id))?.status).toBe('storing');

    sim.configure({ imageDelayMs: 0 });
    stack.spawnWorker();
    const done = await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000);
    expect(done.status).toBe('succeeded');
    await expectPaid(sim, { jobs: 1, undelivered: 0 });

    const issued = sim.issuedImages();
    expect(issued).toHaveLength(1);
    const result = done.result as { bucket: string; key: string; sha256: string };
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: result.bucket, Key: result.key }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(issued[0]!.sha256);
    expect(result.sha256).toBe(issued[0]!.sha256);

    const deliveries = await stack.receiver.waitFor((d) => d.length >= 1);
    expect(deliveries.every((d) => d.verified && d.id === `msg_${id}_succeeded`)).toBe(true);
  });

  test('SIGTERM drains: in-flight calls finish, the process exits cleanly, and nothing is paid twice', async ({ launch, sim }) => {
    const stack = await launch({ worker: false });
    sim.configure({ latencyMs: { standard: [800, 800], hd: [800, 800] } });
    const worker = stack.spawnWorker();
    const ids = await Promise.all(
      [1, 2, 3].map(async (n) => String((await stack.generate({ model: 'cogview-4-250304', prompt: `drain ${n}` })).body.id)),
    );
    await waitUntil(() => sim.stats().inFlight >= 1 || undefined, 'a call in flight', 30_000);
    const code = await worker.kill('SIGTERM');
    expect(code, worker.output()).toBe(0);
    const callsAtExit = sim.stats().calls;
    expect(sim.stats().inFlight).toBe(0);

    stack.spawnWorker();
    for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000)).status).toBe('succeeded');
    await expectPaid(sim, { jobs: 3, undelivered: 0 });
    expect(sim.stats().calls).toBe(3);
    expect(callsAtExit).toBeGreaterThanOrEqual(1);
  });

  test('SIGTERM while Redis is down: the worker still exits, and its job finishes once Redis is back', async ({ launch, sim }) => {
    const redis = await startRedisServer({ appendonly: true, appendfsync: 'always' });
    const stack = await launch({ worker: false, env: { REDIS_URL: redis.url, WORKER_SHUTDOWN_TIMEOUT_MS: '1000' } });
    try {
      sim.configure({ latencyMs: { standard: [1_500, 1_500], hd: [1_500, 1_500] } });
      const worker = stack.spawnWorker({ LOG_LEVEL: 'info' });
      const id = String((await stack.generate({ model: 'cogview-4-250304', prompt: 'redis away' })).body.id);
      await waitUntil(() => sim.stats().inFlight >= 1 || undefined, 'the call in flight', 30_000);
      await redis.kill();
      worker.process.kill('SIGTERM');
      const code = await Promise.race([worker.exited, new Promise((r) => setTimeout(r, 20_000, 'still running'))]);
      expect(code, worker.output()).toBe(1);
      expect(worker.output()).toContain('shutdown did not finish in time');

      await redis.restart();
      stack.spawnWorker();
      expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000)).status).toBe('succeeded');
    } finally {
      if (redis.pid === undefined) await redis.restart(); // the stack cleans its keys on close
      await stack.close();
      await redis.stop();
    }
  });

  test('a worker stalled mid-call (lock lost, process alive) is not raced by the peer that takes its job over', async ({ launch, sim }) => {
    // The stall must stay shorter than the call's timeout: a call that times out may be paid for anyway.
    const env = { WORKER_LOCK_DURATION_MS: '1000', WORKER_STALLED_INTERVAL_MS: '500', ZAI_TIMEOUT_MS: '15000' };
    const stack = await launch({ worker: false, env });
    sim.configure({ latencyMs: { standard: [2_000, 2_000], hd: [2_000, 2_000] } });
    const stalled = stack.spawnWorker();
    const id = String((await stack.generate({ model: 'cogview-4-250304', prompt: 'stall me' })).body.id);
    await waitUntil(() => sim.stats().inFlight >= 1 || undefined, 'the call in flight', 30_000);
    stalled.process.kill('SIGSTOP');
    stack.spawnWorker();
    try {
      // Taken over: the peer either calls Z.AI itself or puts the job aside until the first call's deadline.
      const takenOver = async () => sim.stats().calls >= 2 || (await stack.queues.generate.getJobState(id)) === 'delayed';
      await waitUntil(async () => (await takenOver()) || undefined, 'the peer to take the job over', 20_000);
    } finally {
      stalled.process.kill('SIGCONT');
    }
    expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000)).status).toBe('succeeded');
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
    expect((await stack.generations.get(id))?.paid_generations).toBe(1);
  });

  test('a store job re-run after a crash mid-regeneration (record queued, no answer, no generate job) regenerates with one paid call', async ({ launch, sim }) => {
    const stack = await launch({ worker: false });
    const id = await regeneratingRecord(stack);
    // The round-0 store job that was active when its worker died: a stalled job is run again.
    await enqueueStore(stack.queues, { id, tenant: stack.tenant }, 0);
    expect(await stack.queues.generate.getJob(generateJobId(id, 1))).toBeUndefined();
    stack.spawnWorker();

    const done = await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000);
    expect(done.status).toBe('succeeded');
    expect(sim.stats().calls).toBe(1);
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
    expect(await stack.generations.get(id)).toMatchObject({ regenerations: 1, paid_generations: 2, attempts: 2 });
    // The job completes after the store stage it enqueued may have finished.
    await expect.poll(() => stack.queues.generate.getJobState(generateJobId(id, 1)), { timeout: 20_000 }).toBe('completed');
    expect((done.result as { sha256: string }).sha256).toBe(sim.issuedImages()[0]!.sha256);
  });

  test('two runs of one generation that start together (a stalled run and its peer) pay one call', async ({ launch, sim }) => {
    const stack = await launch({ worker: false, env: { WORKER_CONCURRENCY: '16', ZAI_START_CONCURRENCY: '16', ZAI_MAX_CONCURRENCY: '16' } });
    sim.configure({ latencyMs: { standard: [500, 500], hd: [500, 500] } });
    const ids: string[] = [];
    for (let n = 0; n < 8; n++) {
      const record = queuedRecord({ tenant: stack.tenant });
      await stack.generations.create(record);
      const id = record.id;
      ids.push(id);
      // Two jobs next to each other run the generation twice at once, both reading the record
      // before either marks it, as a stalled run and the peer that took its job over can.
      for (const jobId of [id, `${id}-twin`]) await stack.queues.generate.add(QUEUE.generate, { v: 1, id, tenant: stack.tenant }, { jobId });
    }
    stack.spawnWorker();

    for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000)).status).toBe('succeeded');
    // Only a call that timed out under load (paid, never answered) may be made again.
    await expectPaid(sim, { jobs: ids.length });
    for (const id of ids) expect((await stack.generations.get(id))?.paid_generations).toBe(1);
  });
});
