/**
 * ZAI_MAX_CONCURRENCY and ZAI_MAX_RPS hold for the whole fleet, not per process: several worker
 * processes, each with more slots than the limit, together stay inside it.
 */
import { describe, expect, test } from './fixtures.ts';

const body = { model: 'cogview-4-250304', size: '512x512' };

describe('account limits across worker processes', () => {
  test('ZAI_MAX_CONCURRENCY caps the calls in flight across all workers', async ({ launch, sim }) => {
    const stack = await launch({ worker: false, env: { ZAI_MAX_CONCURRENCY: '3', WORKER_CONCURRENCY: '4' } });
    sim.configure({ latencyMs: { standard: [250, 250], hd: [250, 250] } });
    const workers = [stack.spawnWorker(), stack.spawnWorker(), stack.spawnWorker()];
    const ids = await Promise.all(Array.from({ length: 24 }, async (_, i) => String((await stack.generate({ ...body, prompt: `cap ${i}` })).body.id)));
    for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 60_000)).status).toBe('succeeded');
    expect(sim.stats().maxInFlight).toBe(3);
    for (const worker of workers) expect(worker.process.exitCode, worker.output()).toBeNull();
  });

  test('ZAI_MAX_RPS spaces the calls of all workers into windows of one second', async ({ launch, sim }) => {
    const rps = 4;
    const jobs = 16;
    const stack = await launch({ worker: false, env: { ZAI_MAX_RPS: String(rps), WORKER_CONCURRENCY: '8' } });
    sim.configure({ latencyMs: { standard: [0, 20], hd: [0, 20] } });
    stack.spawnWorker();
    stack.spawnWorker();
    const ids = await Promise.all(Array.from({ length: jobs }, async (_, i) => String((await stack.generate({ ...body, prompt: `rps ${i}` })).body.id)));
    for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'], 60_000)).status).toBe('succeeded');

    const times = sim.callTimes();
    expect(times).toHaveLength(jobs);
    // The limiter admits one job per 1000 / rps ms fleet-wide: 16 calls need at least 3.75 s.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual((jobs / rps - 1) * 1000 - 100);
    // Loose on purpose (spacing gives rps, or rps + 1 at the edges): never a burst beyond that.
    const peak = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(peak).toBeLessThanOrEqual(2 * rps);
  });
});
