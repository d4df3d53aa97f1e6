/**
 * ZAI_START_CONCURRENCY: where the adaptive cap starts when the fleet has no state yet. From 1,
 * the climb to a large limit takes one step per ZAI_LIMIT_STEP_MS (about 8 minutes to 1,000 at
 * the default 500 ms); an operator who knows the account's limit starts there. It is a start, not
 * a promise: a 1302 still cuts it to what the account held.
 */
import { readZaiLimits, redisKeys } from '@darkroom/shared';
import { describe, expect, test } from './fixtures.ts';
import { allSucceeded, submit } from './slot-use.ts';

describe('ZAI_START_CONCURRENCY', () => {
  test('the cap starts there, clamped to the ceiling', async ({ launch }) => {
    const started = await launch({ env: { ZAI_MAX_CONCURRENCY: '16', ZAI_START_CONCURRENCY: '6' } });
    expect((await readZaiLimits(started.redis, redisKeys(started.prefix)))?.cap).toBe(6);
    const clamped = await launch({ env: { ZAI_MAX_CONCURRENCY: '16', ZAI_START_CONCURRENCY: '50' } });
    expect((await readZaiLimits(clamped.redis, redisKeys(clamped.prefix)))?.cap).toBe(16);
  });

  test('a 1302 still cuts a start above the account limit', async ({ launch, sim }) => {
    sim.configure({ maxConcurrency: 3, latencyMs: { standard: [300, 300], hd: [300, 300] } });
    const stack = await launch({
      worker: false,
      env: { ZAI_MAX_CONCURRENCY: '12', ZAI_START_CONCURRENCY: '12', WORKER_CONCURRENCY: '12', ZAI_LIMIT_PROBE_MS: '60000' },
    });
    const ids = await submit(stack, 12, 'start above the limit');
    stack.spawnWorker();
    expect(await allSucceeded(stack, ids, 40_000)).toBe(true);
    const limits = await readZaiLimits(stack.redis, redisKeys(stack.prefix));
    expect(limits?.cap).toBeLessThanOrEqual(3);
    expect(limits?.refusalsTotal).toBeGreaterThan(0);
  });
});
