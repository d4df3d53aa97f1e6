/**
 * Every worker SIGKILLed at once, again and again, each time with a backlog and every Z.AI slot
 * busy, then restarted. Measured: the time from the first restarted worker being ready to the
 * backlog moving again (the first Z.AI call after the kill). Asserted: each recovery within lock
 * duration + stalled interval (+1 s), none lost, nothing stored twice, and paid ≤ jobs + the calls
 * the killed workers had in flight.
 */
import { describe, expect, test } from '../test/fixtures.ts';
import { killAllAndRestart } from '../test/fleet-restart.ts';
import type { ChildWorker } from '../test/stack.ts';
import { waitUntil } from '../test/wait.ts';
import { collectFigures, percentile, printFigures } from './figures.ts';

const ROUNDS = 15;
const WORKERS = 3;
const SLOTS = 2;
const BATCH = 30;
/** Slack for process scheduling on a loaded 2-core machine. */
const MARGIN_MS = 1_000;

describe('chaos: every worker killed at once', () => {
  test(`${ROUNDS} rounds of killing all ${WORKERS} workers with a backlog: the backlog resumes each time, none lost`, async ({ launch, sim }) => {
    const stack = await launch({
      worker: false,
      env: {
        WORKER_CONCURRENCY: String(SLOTS),
        ZAI_MAX_CONCURRENCY: String(WORKERS * SLOTS),
        ZAI_TIMEOUT_MS: '3000',
        // Every round kills every job in flight on purpose, so a healthy job may stall in several
        // rounds; the poison-job limit has its own test (e2e/test/poison.test.ts).
        WORKER_MAX_STALLS: String(ROUNDS),
        LOG_LEVEL: 'warn',
      },
    });
    sim.configure({ latencyMs: { standard: [300, 900], hd: [300, 900] } });
    let workers: ChildWorker[] = Array.from({ length: WORKERS }, () => stack.spawnWorker());
    const ids: string[] = [];
    const recoveries: number[] = [];
    const bound = stack.config.worker.lockDurationMs + stack.config.worker.stalledIntervalMs + MARGIN_MS;

    for (let round = 0; round < ROUNDS; round++) {
      const batch = await Promise.all(
        Array.from({ length: BATCH }, (_, k) => stack.generate({ model: 'cogview-4-250304', prompt: `all-die ${round}-${k}`, size: '512x512' })),
      );
      for (const res of batch) {
        expect(res.status).toBe(202);
        ids.push(String(res.body.id));
      }
      await waitUntil(() => sim.stats().inFlight === WORKERS * SLOTS || undefined, 'every slot to hold a call', 60_000, 5);
      const restart = await killAllAndRestart(stack, sim, workers);
      workers = restart.workers;
      recoveries.push(restart.recoveryMs);
    }

    await waitUntil(
      async () => {
        const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
        return records.every((r) => r?.status === 'succeeded' || r?.status === 'failed') || undefined;
      },
      'every job to finish',
      300_000,
      500,
    );
    const kills = ROUNDS * WORKERS;
    const figures = await collectFigures(stack, sim, ids, kills);
    figures.recoverP99Ms = percentile(recoveries, 99);
    printFigures('all-workers-die', figures);
    console.log(`chaos all-workers-die: recovery ms per round ${recoveries.join(',')} (bound ${bound})`);

    expect(figures.lost).toBe(0);
    expect(figures.failed).toBe(0);
    expect(Math.max(...recoveries)).toBeLessThanOrEqual(bound);
    expect(figures.storedTwice).toBe(0);
    // Each killed worker can orphan at most one paid call per slot, delivered or not.
    expect(figures.paidUndelivered).toBeLessThanOrEqual(kills * SLOTS);
    expect(figures.paid).toBeLessThanOrEqual(figures.jobs + kills * SLOTS);
    expect(figures.paid - figures.paidUndelivered).toBeGreaterThanOrEqual(figures.jobs);
  });
});
