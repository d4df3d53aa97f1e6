import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index.ts';
import { generate, start } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await start();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

type ControlBody = { error: string; queued: string[] } & Record<string, unknown>;

async function control(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: ControlBody }> {
  const res = await fetch(`${sim.origin}/_sim/${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, json: (await res.json()) as ControlBody };
}

describe('control endpoints (no auth)', () => {
  it('GET /_sim/stats returns the counters', async () => {
    await generate(sim);
    const res = await control('GET', 'stats');
    expect(res.status).toBe(200);
    expect(res.json).toEqual(sim.stats());
    expect(res.json).toMatchObject({ calls: 1, generations: 1, outcomes: { ok: 1 } });
  });

  it('GET /_sim/images returns the issued images', async () => {
    await generate(sim);
    const res = await control('GET', 'images');
    expect(res.json).toEqual(sim.issuedImages());
    expect(res.json).toHaveLength(1);
  });

  it('POST /_sim/fail-next queues faults', async () => {
    const res = await control('POST', 'fail-next', { mode: 'overloaded_1305', times: 2 });
    expect(res.status).toBe(200);
    expect(res.json.queued).toEqual(['overloaded_1305', 'overloaded_1305']);
    expect((await generate(sim)).json.error.code).toBe('1305');
    expect((await generate(sim)).json.error.code).toBe('1305');
    expect((await generate(sim)).status).toBe(200);
  });

  it('POST /_sim/fail-next defaults times to 1 and rejects unknown modes', async () => {
    expect((await control('POST', 'fail-next', { mode: 'balance_1113' })).json.queued).toEqual(['balance_1113']);
    const bad = await control('POST', 'fail-next', { mode: 'explode' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('rate_limit_1302');
    expect((await control('POST', 'fail-next', { mode: 'timeout', times: -1 })).status).toBe(400);
  });

  it('POST /_sim/config patches the running config; null means unlimited', async () => {
    const res = await control('POST', 'config', { contentFilterLevel: 0, maxConcurrency: 5, latencyMs: { hd: [1, 2] } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ contentFilterLevel: 0, maxConcurrency: 5, latencyMs: { standard: [0, 0], hd: [1, 2] } });
    expect((await generate(sim)).json.content_filter[0].level).toBe(0);

    await control('POST', 'config', { contentFilterLevel: 3, maxConcurrency: null, latencyMs: { hd: [0, 0] } });
    expect(sim.config().maxConcurrency).toBe(Infinity);
    expect((await control('GET', 'config')).json.maxConcurrency).toBeNull();
  });

  it('POST /_sim/config rejects bad values and unknown keys without changing anything', async () => {
    const before = sim.config();
    const bad = await control('POST', 'config', { contentFilterLevel: 7 });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('contentFilterLevel');
    const typo = await control('POST', 'config', { latencyMS: { standard: [1, 2] } });
    expect(typo.status).toBe(400);
    expect(typo.json.error).toContain('latencyMS');
    expect(sim.config()).toEqual(before);
  });

  it('POST /_sim/reset clears counters, images and queued faults', async () => {
    await generate(sim);
    sim.failNext('server_error_500');
    const res = await control('POST', 'reset');
    expect(res.status).toBe(200);
    expect(sim.stats()).toMatchObject({ calls: 0, generations: 0 });
    expect(sim.issuedImages()).toEqual([]);
    expect((await generate(sim)).status).toBe(200);
  });

  it('unknown control routes are 404', async () => {
    expect((await control('GET', 'nothing')).status).toBe(404);
  });
});
