/**
 * Z.AI answers that arrive while Redis is unreachable, or refuses writes, are paid for: the worker
 * holds them and saves them once Redis takes writes again, so no job is lost to a stall and none
 * is paid twice.
 */
import { startRedisServer } from '@darkroom/local-stack';
import { describe, expect, test } from './fixtures.ts';
import { waitUntil } from './wait.ts';

const JOBS = 6;

describe('Redis unreachable while Z.AI calls are in flight', () => {
  test('answers received during the outage are saved once Redis is back: every job succeeds, each paid once', async ({ launch, sim }) => {
    const redis = await startRedisServer({ appendonly: true, appendfsync: 'always' });
    const stack = await launch({ worker: false, env: { REDIS_URL: redis.url, WORKER_CONCURRENCY: '4', ZAI_TIMEOUT_MS: '4000' } });
    try {
      sim.configure({ latencyMs: { standard: [1_500, 1_500], hd: [1_500, 1_500] } });
      const workers = [stack.spawnWorker(), stack.spawnWorker()];
      const ids = await Promise.all(
        Array.from({ length: JOBS }, async (_, i) => String((await stack.generate({ model: 'cogview-4-250304', prompt: `outage ${i}`, size: '512x512' })).body.id)),
      );
      await waitUntil(() => sim.stats().inFlight === JOBS || undefined, 'every call in flight', 30_000);
      const deadlines = (await Promise.all(ids.map((id) => stack.generations.get(id)))).map((r) => r?.calling_until ?? 0);
      await redis.kill();

      // Z.AI answers while Redis is away, and Redis stays away past every call's deadline, when
      // a peer would be free to call again for a job whose answer was not saved.
      await waitUntil(() => sim.stats().generations === JOBS || undefined, 'every call answered', 30_000);
      await waitUntil(() => Date.now() > Math.max(...deadlines) + 1_000 || undefined, 'the calls\' deadlines to pass', 30_000);
      await redis.restart();

      for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 60_000)).status).toBe('succeeded');
      expect(sim.stats().generations).toBe(JOBS);
      expect(sim.stats().calls).toBe(JOBS);
      const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
      expect(records.map((r) => r?.paid_generations)).toEqual(ids.map(() => 1));
      for (const worker of workers) expect(worker.process.exitCode, worker.output()).toBeNull();
    } finally {
      if (redis.pid === undefined) await redis.restart(); // the stack cleans its keys on close
      await stack.close();
      await redis.stop();
    }
  });

  test('answers received while Redis refuses writes are held, saved when writes return, and never paid twice', async ({ launch, sim }) => {
    const redis = await startRedisServer({ appendonly: true, appendfsync: 'always' });
    const stack = await launch({ worker: false, env: { REDIS_URL: redis.url, WORKER_CONCURRENCY: String(JOBS), ZAI_TIMEOUT_MS: '3000' } });
    try {
      sim.configure({ latencyMs: { standard: [1_000, 1_000], hd: [1_000, 1_000] } });
      // One process, so a job that stalls meanwhile runs again in the process that holds its answer.
      const worker = stack.spawnWorker({ LOG_LEVEL: 'warn' });
      const ids = await Promise.all(
        Array.from({ length: JOBS }, async (_, i) => String((await stack.generate({ model: 'cogview-4-250304', prompt: `refused ${i}`, size: '512x512' })).body.id)),
      );
      await waitUntil(() => sim.stats().inFlight === JOBS || undefined, 'every call in flight', 30_000);
      const deadlines = (await Promise.all(ids.map((id) => stack.generations.get(id)))).map((r) => r?.calling_until ?? 0);
      // A primary that lost its replicas (or a failover in progress) answers every write with an error.
      await stack.redis.config('SET', 'min-replicas-to-write', '1');

      await waitUntil(() => sim.stats().generations === JOBS || undefined, 'every call answered', 30_000);
      // Writes stay refused until every lock has lapsed and every call's deadline has passed.
      const locks = () => stack.redis.exists(...ids.map((id) => `${stack.prefix}:generate:${id}:lock`));
      await waitUntil(async () => (await locks()) === 0 || undefined, 'every job lock to lapse', 30_000);
      await waitUntil(() => Date.now() > Math.max(...deadlines) + 500 || undefined, "the calls' deadlines to pass", 30_000);
      await stack.redis.config('SET', 'min-replicas-to-write', '0');

      for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 60_000)).status).toBe('succeeded');
      expect(sim.stats().calls).toBe(JOBS);
      expect(sim.stats().generations).toBe(JOBS);
      const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
      expect(records.map((r) => r?.paid_generations)).toEqual(ids.map(() => 1));
      expect(worker.process.exitCode, worker.output()).toBeNull();
    } finally {
      await stack.redis.config('SET', 'min-replicas-to-write', '0').catch(() => undefined);
      await stack.close();
      await redis.stop();
    }
  });
});
