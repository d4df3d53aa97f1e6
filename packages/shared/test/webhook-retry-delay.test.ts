import { describe, expect, it } from 'vitest';
import { TransientError } from '../src/errors.ts';
import { webhookRetryDelay } from '../src/queues.ts';

describe('webhookRetryDelay', () => {
  const schedule = [0, 5_000, 300_000, 1_800_000];
  const asking = (ms: number) => new TransientError('webhook_failed', 'HTTP 429', undefined, { retryAfterMs: ms });

  it('follows the schedule when the receiver asks nothing', () => {
    expect([1, 2, 3].map((n) => webhookRetryDelay(schedule, n))).toEqual([5_000, 300_000, 1_800_000]);
    expect(webhookRetryDelay(schedule, 1, new Error('HTTP 500'))).toBe(5_000);
  });

  it("waits at least the receiver's Retry-After, never less than the schedule", () => {
    expect(webhookRetryDelay(schedule, 1, asking(60_000))).toBe(60_000);
    expect(webhookRetryDelay(schedule, 2, asking(60_000))).toBe(300_000);
  });

  it('caps a Retry-After at the longest scheduled delay, so the presigned URL outlives the last attempt', () => {
    expect(webhookRetryDelay(schedule, 1, asking(86_400_000))).toBe(1_800_000);
  });
});
