/**
 * Redis SIGKILLed mid-run and restarted from its AOF (appendfsync always): every job the API
 * acknowledged (202) still finishes; requests during the outage are refused with 503, never 500;
 * workers reconnect instead of crashing; and an answer received while Redis was away is not paid
 * for again (paid = jobs + calls billed to a caller that gave up).
 */
import { startRedisServer } from '@darkroom/local-stack';
import { describe, expect, test } from '../test/fixtures.ts';
import { expectPaid } from '../test/billing.ts';
import { waitUntil } from '../test/wait.ts';
import { collectFigures, printFigures } from './figures.ts';

describe('chaos: Redis killed and restarted', () => {
  test('no acknowledged job is lost', async ({ launch, sim }) => {
    const redis = await startRedisServer({ appendonly: true, appendfsync: 'always' });
    const stack = await launch({ worker: false, env: { REDIS_URL: redis.url, WORKER_CONCURRENCY: '4', LOG_LEVEL: 'warn' } });
    try {
      sim.configure({ latencyMs: { standard: [50, 300], hd: [50, 300] } });
      const workers = [stack.spawnWorker(), stack.spawnWorker()];
      // Both workers up before Redis dies: a worker that cannot reach Redis at start-up exits by
      // design (fails loudly), and that is not what this test is about.
      const queues = [stack.queues.generate, stack.queues.store, stack.queues.notify, stack.queues.finalize, stack.queues.retries];
      await waitUntil(async () => ((await Promise.all(queues.map((q) => q.getWorkersCount()))).every((n) => n >= 2) ? true : undefined), 'both workers to be up', 60_000);
      const acknowledged: string[] = [];
      const refused: number[] = [];
      const submit = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const res = await stack.generate({ model: 'cogview-4-250304', prompt: `survive ${acknowledged.length + refused.length}`, size: '512x512' });
          if (res.status === 202) acknowledged.push(String(res.body.id));
          else refused.push(res.status);
        }
      };

      await submit(60);
      await redis.kill();
      await submit(10);
      await redis.restart();
      await waitUntil(async () => ((await stack.redis.ping().catch(() => '')) === 'PONG' ? true : undefined), 'redis to answer again');
      await submit(30);

      await waitUntil(
        async () => {
          const records = await Promise.all(acknowledged.map((id) => stack.generations.get(id)));
          return records.every((r) => r?.status === 'succeeded') ? records : undefined;
        },
        'every acknowledged job to succeed',
        180_000,
        250,
      );
      const figures = await collectFigures(stack, sim, acknowledged, 0);
      printFigures('redis-restart', figures);
      console.log(`chaos redis-restart: acknowledged=${acknowledged.length} refused=${refused.length} (${[...new Set(refused)].join(',')})`);
      await expectPaid(sim, { jobs: acknowledged.length });
      expect(figures).toMatchObject({ lost: 0, duplicates: 0 });
      expect(refused.length).toBeGreaterThan(0);
      expect(new Set(refused)).toEqual(new Set([503]));
      expect(acknowledged.length).toBe(60 + 30 + (10 - refused.length));
      for (const worker of workers) expect(worker.process.exitCode, worker.output()).toBeNull();
    } finally {
      // The stack's connections go first, or they would reconnect forever to a stopped server.
      await stack.close();
      await redis.stop();
    }
  });
});
