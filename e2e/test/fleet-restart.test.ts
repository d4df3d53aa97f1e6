import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';
import { killAllAndRestart } from './fleet-restart.ts';
import { waitUntil } from './wait.ts';

/** Slack for process scheduling on a loaded 2-core machine, on top of lock duration + stalled interval. */
const MARGIN_MS = 1_000;
const WORKERS = 2;
const SLOTS = 2;

describe('every worker killed at once', () => {
  test('the backlog resumes by itself within lock duration + stalled interval of the first worker coming back', async ({ launch, sim }) => {
    const stack = await launch({
      worker: false,
      env: { WORKER_CONCURRENCY: String(SLOTS), ZAI_MAX_CONCURRENCY: String(WORKERS * SLOTS), ZAI_TIMEOUT_MS: '3000' },
    });
    // Calls long enough that every slot, and so the queue's whole global concurrency, is held at the kill.
    sim.configure({ latencyMs: { standard: [1_500, 1_500], hd: [1_500, 1_500] } });
    const workers = Array.from({ length: WORKERS }, () => stack.spawnWorker());
    const jobs = 12;
    const ids = await Promise.all(
      Array.from({ length: jobs }, async (_, i) => String((await stack.generate({ model: 'cogview-4-250304', prompt: `restart ${i}`, size: '512x512' })).body.id)),
    );
    await waitUntil(() => sim.stats().inFlight === WORKERS * SLOTS || undefined, 'every slot to hold a call', 30_000, 5);

    const restart = await killAllAndRestart(stack, sim, workers);
    const bound = stack.config.worker.lockDurationMs + stack.config.worker.stalledIntervalMs + MARGIN_MS;
    expect(restart.recoveryMs, `resumed ${restart.recoveryMs} ms after the first worker was ready`).toBeLessThanOrEqual(bound);

    for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 60_000)).status).toBe('succeeded');
    const stats = await expectPaid(sim, { jobs });
    expect(stats.paidUndelivered).toBeLessThanOrEqual(WORKERS * SLOTS);
  });
});
