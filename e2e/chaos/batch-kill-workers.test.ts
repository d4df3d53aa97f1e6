/**
 * A 300-item batch while worker processes (each running the dispatcher, the stages and finalize)
 * are SIGKILLed at random and restarted. Asserted: every item ends once (the batch counters equal
 * the records' statuses, which a double count would break), the results file is complete and in
 * input order, the batch ends `completed` with exact counts, and batch.completed is one message
 * (one webhook-id, one body: a kill during its delivery may repeat the same message, which is what
 * Standard Webhooks receivers de-duplicate on), and paid honestly bounded: with one Z.AI call in
 * flight per process, a kill orphans at most one paid call, so paid ≤ items + kills, paid to
 * callers that gave up ≤ kills, and every item has a delivered answer.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startRedisServer } from '@darkroom/local-stack';
import { notifyDrained, submitBatch, uniquePrompt, waitForBatch } from '../test/batch-client.ts';
import { describe, expect, test } from '../test/fixtures.ts';
import type { ChildWorker } from '../test/stack.ts';

const ITEMS = 300;
const WORKERS = 3;
const KILLS = 12;
// One Z.AI call in flight per process, so a kill can orphan at most one paid answer.
const CONCURRENCY = '1';

describe('chaos: workers killed during a batch', () => {
  test(`${ITEMS}-item batch, workers SIGKILLed and restarted: every item ends once, counts exact, one batch.completed`, async ({ launch, sim }) => {
    const redis = await startRedisServer({ appendonly: true });
    const stack = await launch({
      worker: false,
      env: { REDIS_URL: redis.url, WORKER_CONCURRENCY: CONCURRENCY, ZAI_MAX_CONCURRENCY: '6', DISPATCH_TICK_MS: '50', LOG_LEVEL: 'warn' },
    });
    try {
      sim.configure({ latencyMs: { standard: [100, 400], hd: [100, 400] } });
      const items = Array.from({ length: ITEMS }, (_, i) => ({ prompt: uniquePrompt('chaos-batch', i), custom_id: `c${i}` }));
      const { id, ids } = await submitBatch(stack, items, { webhook_url: stack.receiver.url });
      const workers: ChildWorker[] = Array.from({ length: WORKERS }, () => stack.spawnWorker());

      // A worker process takes about a second to start: kill at intervals it can do work in.
      let kills = 0;
      while (kills < KILLS) {
        await new Promise((r) => setTimeout(r, 1000 + Math.random() * 1500));
        const victim = Math.floor(Math.random() * workers.length);
        await workers[victim]!.kill('SIGKILL');
        kills++;
        workers[victim] = stack.spawnWorker();
      }

      const batch = await waitForBatch(stack, id, ['completed', 'canceled', 'expired'], 300_000);
      const records = await Promise.all(ids.map((gid) => stack.generations.get(gid)));
      const byStatus = new Map<string, number>();
      for (const r of records) byStatus.set(r?.status ?? 'gone', (byStatus.get(r?.status ?? 'gone') ?? 0) + 1);
      console.log(`chaos batch-kill-workers: kills=${kills} calls=${sim.stats().calls} paid=${sim.stats().paid} statuses=${JSON.stringify([...byStatus])}`);

      expect(batch.status).toBe('completed');
      const counts = batch.request_counts;
      expect({ succeeded: counts.succeeded, failed: counts.failed, canceled: counts.canceled, running: counts.running }).toEqual({
        succeeded: byStatus.get('succeeded') ?? 0,
        failed: byStatus.get('failed') ?? 0,
        canceled: 0,
        running: 0,
      });
      expect(counts.succeeded + counts.failed).toBe(ITEMS);
      const stats = sim.stats();
      expect(stats.paid, JSON.stringify(stats)).toBeLessThanOrEqual(ITEMS + kills);
      expect(stats.paidUndelivered, JSON.stringify(stats)).toBeLessThanOrEqual(kills);
      expect(stats.paid - stats.paidUndelivered, JSON.stringify(stats)).toBeGreaterThanOrEqual(ITEMS);

      const obj = await stack.s3.send(new GetObjectCommand({ Bucket: batch.results!.bucket!, Key: batch.results!.key }));
      const lines = (await obj.Body!.transformToString()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; custom_id: string; status: string });
      expect(lines.map((l) => l.id)).toEqual(ids);
      expect(lines.map((l) => l.custom_id)).toEqual(items.map((i) => i.custom_id));
      expect(lines.filter((l) => l.status === 'succeeded')).toHaveLength(counts.succeeded);

      const deliveries = await stack.receiver.waitFor((d) => d.some((x) => x.payload?.type === 'batch.completed'), 60_000);
      await notifyDrained(stack);
      const completed = deliveries.filter((d) => d.payload?.type === 'batch.completed');
      console.log(`chaos batch-kill-workers: batch.completed deliveries=${completed.length}`);
      expect(new Set(completed.map((d) => d.id))).toEqual(new Set([`msg_${id}_completed`]));
      expect(new Set(completed.map((d) => JSON.stringify(d.payload)))).toHaveProperty('size', 1);
      expect(completed.every((d) => d.verified)).toBe(true);
      expect(await stack.redis.zcard(`${stack.prefix}:batch-finalize`)).toBe(0);
      expect(await stack.redis.hlen(`${stack.prefix}:dispatch:inflight`)).toBe(0);
    } finally {
      await stack.close();
      await redis.stop();
    }
  });
});
