/**
 * Honest bounds on what Z.AI billed. The simulator bills like Z.AI (packages/zai-sim/README.md,
 * "Billing"): `paid` counts every generation, `paidUndelivered` those whose caller gave up (timed
 * out, hung up, got a malformed body). Every paid answer that reached Darkroom must belong to a
 * distinct job (plus a regeneration after an expired URL, by design), so a double payment anywhere
 * else fails these.
 */
import type { Simulator, SimulatorStats } from '@darkroom/zai-sim';
import { expect } from 'vitest';
import { waitUntil } from './wait.ts';

export interface PaidExpectation {
  /** Jobs that got a paid answer. */
  jobs: number;
  /** Paid regenerations after an expired image URL. */
  regenerated?: number;
  /** Exact calls billed to a caller that gave up, when the test knows it. */
  undelivered?: number;
}

/** Waits until no call is in flight (each one is then settled as delivered or not), then checks. */
export async function expectPaid(sim: Simulator, expected: PaidExpectation): Promise<SimulatorStats> {
  await waitUntil(() => sim.stats().inFlight === 0 || undefined, 'every Z.AI call to settle', 30_000);
  const stats = sim.stats();
  const answered = expected.jobs + (expected.regenerated ?? 0);
  expect(stats.paid, JSON.stringify(stats)).toBeLessThanOrEqual(answered + stats.paidUndelivered);
  expect(stats.paid - stats.paidUndelivered, JSON.stringify(stats)).toBe(answered);
  if (expected.undelivered !== undefined) expect(stats.paidUndelivered, JSON.stringify(stats)).toBe(expected.undelivered);
  return stats;
}
