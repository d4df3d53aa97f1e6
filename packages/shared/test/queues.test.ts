import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { generateJobId, retryOfJobId, storeJobId, storeRetryDelay } from '../src/queues.ts';

describe('storeRetryDelay', () => {
  const store = loadConfig({ STORE_BACKOFF_MS: '1000', STORE_BACKOFF_MAX_MS: '300000' }).store;

  it('doubles from STORE_BACKOFF_MS, with up to 50% jitter taken off', () => {
    expect([1, 2, 3, 4].map((n) => storeRetryDelay(store, n, () => 0))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(storeRetryDelay(store, 3, () => 1)).toBe(2_000);
  });

  it('never waits longer than STORE_BACKOFF_MAX_MS, however many attempts a month of retries makes', () => {
    for (const n of [10, 100, 9_000, Number.MAX_SAFE_INTEGER]) {
      expect(storeRetryDelay(store, n, () => 0)).toBe(300_000);
      expect(storeRetryDelay(store, n, () => 1)).toBe(150_000);
    }
  });
});

describe('retryOfJobId', () => {
  it('reads the life of every generate and store job id back', () => {
    const id = 'gen_0123456789abcdef0123456789abcdef';
    for (const retry of [0, 1, 12]) {
      for (const round of [0, 3]) {
        expect(retryOfJobId(generateJobId(id, round, retry))).toBe(retry);
        expect(retryOfJobId(storeJobId(id, round, retry))).toBe(retry);
      }
    }
  });
});
