import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FaultMode, Simulator } from '../src/index.ts';
import { generate, okBody, start, waitFor } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await start();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.configure({ hangMs: 120_000, latencyMs: { standard: [0, 0] }, maxConcurrency: null });
  sim.reset();
});

/** Starts a call that the caller abandons once the simulator has admitted it. */
async function abandonInFlight(): Promise<void> {
  const controller = new AbortController();
  const pending = generate(sim, undefined, { signal: controller.signal });
  await waitFor(() => sim.stats().inFlight === 1, 5_000, 'the call to be in flight');
  controller.abort();
  await expect(pending).rejects.toThrow(/abort/i);
  await waitFor(() => sim.stats().inFlight === 0, 5_000, 'the call to be released');
}

describe('billing like Z.AI', () => {
  it('a 200 answer read whole is paid and delivered', async () => {
    expect((await generate(sim)).status).toBe(200);
    await waitFor(() => sim.stats().inFlight === 0, 5_000, 'the call to finish');
    expect(sim.stats()).toMatchObject({ paid: 1, paidUndelivered: 0, generations: 1 });
    expect(sim.issuedImages()[0]?.delivered).toBe(true);
  });

  it('a caller that hangs up during the latency is billed anyway, as undelivered', async () => {
    sim.configure({ latencyMs: { standard: [5_000, 5_000] } });
    await abandonInFlight();
    expect(sim.stats()).toMatchObject({ paid: 1, paidUndelivered: 1, generations: 0, outcomes: { aborted: 1 } });
  });

  it('a `timeout` fault generated the image: billed when the caller gives up on it', async () => {
    sim.failNext('timeout');
    await abandonInFlight();
    expect(sim.stats()).toMatchObject({ paid: 1, paidUndelivered: 1, generations: 0, outcomes: { timeout: 1 } });
  });

  it('a `timeout` fault is billed when the simulator drops the connection after hangMs', async () => {
    sim.configure({ hangMs: 50 });
    sim.failNext('timeout');
    await expect(generate(sim)).rejects.toThrow();
    await waitFor(() => sim.stats().inFlight === 0, 5_000, 'the hung call to be released');
    expect(sim.stats()).toMatchObject({ paid: 1, paidUndelivered: 1, generations: 0 });
  });

  it('a malformed 200 is billed, as undelivered', async () => {
    sim.failNext('malformed_json');
    const res = await generate(sim);
    expect(res.status).toBe(200);
    expect(res.json).toBeUndefined();
    await waitFor(() => sim.stats().inFlight === 0, 5_000, 'the call to finish');
    expect(sim.stats()).toMatchObject({ paid: 1, paidUndelivered: 1, generations: 0 });
  });

  it.each(['image_expired', 'image_not_found', 'image_truncated', 'image_wrong_type'] as const)(
    '%s: the answer was delivered, so it is paid and delivered',
    async (mode) => {
      sim.failNext(mode);
      expect((await generate(sim)).status).toBe(200);
      await waitFor(() => sim.stats().inFlight === 0, 5_000, 'the call to finish');
      expect(sim.stats()).toMatchObject({ paid: 1, paidUndelivered: 0, generations: 1 });
    },
  );

  const refusedFaults: FaultMode[] = [
    'balance_1113',
    'account_locked_1112',
    'account_violation_1121',
    'auth_expired_1003',
    'rate_limit_1302',
    'rate_limit_1303',
    'overloaded_1305',
    'model_overloaded_1312',
    'daily_quota_1304',
    'sensitive_content_1301',
    'prompt_too_long_1261',
    'duplicate_request_1231',
    'server_error_500',
    'network_error_1234',
  ];
  it.each(refusedFaults)('%s is never billed', async (mode) => {
    sim.failNext(mode);
    expect((await generate(sim)).status).toBeGreaterThanOrEqual(400);
    await waitFor(() => sim.stats().inFlight === 0, 5_000, 'the call to finish');
    expect(sim.stats()).toMatchObject({ calls: 1, paid: 0, paidUndelivered: 0, generations: 0 });
  });

  it('a 500 fault is not billed even when the caller hangs up before it', async () => {
    sim.configure({ latencyMs: { standard: [5_000, 5_000] } });
    sim.failNext('server_error_500');
    await abandonInFlight();
    expect(sim.stats()).toMatchObject({ paid: 0, paidUndelivered: 0 });
  });

  it('calls refused by auth, validation or the concurrency gate are never billed', async () => {
    expect((await generate(sim, okBody(), { key: 'wrong' })).status).toBe(401);
    expect((await generate(sim, okBody({ size: 'huge' }))).status).toBe(400);
    sim.configure({ maxConcurrency: 1, latencyMs: { standard: [5_000, 5_000] } });
    const controller = new AbortController();
    const held = generate(sim, undefined, { signal: controller.signal }).catch(() => undefined);
    await waitFor(() => sim.stats().inFlight === 1, 5_000, 'one call in flight');
    expect((await generate(sim)).json.error.code).toBe('1302');
    controller.abort();
    await held;
    await waitFor(() => sim.stats().inFlight === 0, 5_000, 'the held call to be released');
    // Only the admitted call that was abandoned is paid.
    expect(sim.stats()).toMatchObject({ calls: 4, paid: 1, paidUndelivered: 1, generations: 0 });
  });

  it('a call in flight across reset() is not settled into the new counters', async () => {
    sim.configure({ latencyMs: { standard: [5_000, 5_000] } });
    const controller = new AbortController();
    const pending = generate(sim, undefined, { signal: controller.signal }).catch(() => undefined);
    await waitFor(() => sim.stats().inFlight === 1, 5_000, 'the call to be in flight');
    sim.reset();
    controller.abort();
    await pending;
    await waitFor(() => sim.stats().inFlight === 0, 5_000, 'the call to be released');
    expect(sim.stats()).toMatchObject({ paid: 0, paidUndelivered: 0, generations: 0 });
  });

  it('paid = delivered + undelivered over a mix of outcomes', async () => {
    sim.failNext('malformed_json');
    await generate(sim);
    sim.failNext('server_error_500');
    await generate(sim);
    await generate(sim);
    await generate(sim);
    await waitFor(() => sim.stats().inFlight === 0, 5_000, 'every call to finish');
    const stats = sim.stats();
    expect(stats).toMatchObject({ calls: 4, paid: 3, paidUndelivered: 1, generations: 2 });
    expect(stats.paid).toBe(stats.generations + stats.paidUndelivered);
    expect(sim.issuedImages().map((image) => image.delivered)).toEqual([true, true]);
  });
});
