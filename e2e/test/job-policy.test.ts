/**
 * Attempts, backoff and retention of a job are the worker's, decided when the job runs, not baked
 * in by whichever process enqueued it: here the API and the worker run with different settings.
 */
import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';
import { waitUntil } from './wait.ts';

const body = { model: 'cogview-4-250304', prompt: 'whose settings', size: '512x512' };

describe('run-time job policy', () => {
  test('a worker allowing 3 Z.AI attempts retries a job enqueued by an API configured for 1', async ({ launch, sim }) => {
    const stack = await launch({ worker: false, env: { ZAI_MAX_ATTEMPTS: '1' } });
    const worker = stack.spawnWorker({ ZAI_MAX_ATTEMPTS: '3' });
    sim.failNext('server_error_500', 2);
    const done = await stack.waitForStatus(String((await stack.generate(body)).body.id), ['succeeded', 'failed'], 30_000);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 3 });
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
    expect(worker.process.exitCode).toBeNull();
  });

  test('a worker allowing 1 Z.AI attempt fails a job enqueued by an API configured for 5 after one call', async ({ launch, sim }) => {
    const stack = await launch({ worker: false, env: { ZAI_MAX_ATTEMPTS: '5' } });
    stack.spawnWorker({ ZAI_MAX_ATTEMPTS: '1' });
    sim.failNext('server_error_500', 3);
    const id = String((await stack.generate(body)).body.id);
    const done = await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error: { code: '500' } });
    expect(sim.stats().calls).toBe(1);
  });

  test('a completed job is kept for the worker\'s JOB_RETENTION_HOURS, not the API\'s', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { JOB_RETENTION_HOURS: '3', IDEMPOTENCY_TTL_HOURS: '1' } });
    // A job completed 2 hours ago: within the API's retention (3 h), past the worker's (1 h).
    // BullMQ trims the completed set by the retention of each job that completes after it.
    const old = 'completed-2h-ago';
    const completed = `${stack.prefix}:generate:completed`;
    await stack.redis.hset(`${stack.prefix}:generate:${old}`, 'name', 'generate', 'data', '{}', 'finishedOn', String(Date.now() - 2 * 3_600_000));
    await stack.redis.zadd(completed, Date.now() - 2 * 3_600_000, old);
    const worker = stack.spawnWorker({ JOB_RETENTION_HOURS: '1' });
    const id = String((await stack.generate(body)).body.id);
    expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000)).status).toBe('succeeded');

    await waitUntil(async () => (await stack.redis.zscore(completed, id)) !== null || undefined, 'the generate job to complete');
    expect(await stack.redis.zscore(completed, old)).toBeNull();
    expect(await stack.redis.exists(`${stack.prefix}:generate:${old}`)).toBe(0);
    const ttl = await stack.redis.ttl(`${stack.prefix}:gen:${id}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect(worker.process.exitCode).toBeNull();
  });
});
