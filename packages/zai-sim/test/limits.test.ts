import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index.ts';
import { download, generate, start, waitFor } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await start();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.configure({
    maxConcurrency: null,
    maxRps: null,
    latencyMs: { standard: [0, 0], hd: [0, 0] },
    imageDelayMs: 0,
    imageChunkDelayMs: 0,
  });
  sim.reset();
});

describe('maxConcurrency', () => {
  it('answers 429 "1302" while the limit is reached, and admits again once calls finish', async () => {
    sim.configure({ maxConcurrency: 2, latencyMs: { standard: [1_500, 1_500] } });
    const admitted = [generate(sim), generate(sim)];
    await waitFor(() => sim.stats().inFlight === 2, 5_000, 'two calls in flight');

    const rejected = await generate(sim);
    expect(rejected.status).toBe(429);
    expect(rejected.json.error.code).toBe('1302');

    expect((await Promise.all(admitted)).map((r) => r.status)).toEqual([200, 200]);
    sim.configure({ latencyMs: { standard: [0, 0] } });
    expect((await generate(sim)).status).toBe(200);
    expect(sim.stats()).toMatchObject({ calls: 4, generations: 3, maxInFlight: 2, outcomes: { ok: 3, '429:1302': 1 } });
  });

  it('tracks maxInFlight without a limit', async () => {
    sim.configure({ latencyMs: { standard: [150, 150] } });
    await Promise.all(Array.from({ length: 5 }, () => generate(sim)));
    expect(sim.stats()).toMatchObject({ inFlight: 0, maxInFlight: 5, generations: 5 });
  });
});

describe('calls', () => {
  it('records for every call when it arrived, how many were in flight, and when its slot was held', async () => {
    sim.configure({ maxConcurrency: 1, latencyMs: { standard: [300, 300] } });
    const first = generate(sim);
    await waitFor(() => sim.stats().inFlight === 1, 5_000, 'the first call in flight');
    expect((await generate(sim)).status).toBe(429);
    expect((await first).status).toBe(200);
    await waitFor(() => sim.calls()[0]?.endedAt !== undefined, 5_000, 'the first call to end');

    const [admitted, refused] = sim.calls();
    expect(admitted).toMatchObject({ inFlightBefore: 0, outcome: 'ok' });
    expect(admitted!.endedAt! - admitted!.admittedAt!).toBeGreaterThanOrEqual(295);
    expect(refused).toMatchObject({ inFlightBefore: 1, outcome: '429:1302' });
    expect(refused!.admittedAt).toBeUndefined();
    sim.reset();
    expect(sim.calls()).toEqual([]);
  });
});

describe('callTimes', () => {
  it('records the arrival of every call, rejected ones included, until a reset', async () => {
    const before = Date.now();
    await generate(sim);
    await generate(sim, { model: 'cogview-4-250304', prompt: '' });
    const times = sim.callTimes();
    expect(times).toHaveLength(2);
    expect(times[0]).toBeGreaterThanOrEqual(before);
    expect(times[1]).toBeGreaterThanOrEqual(times[0]!);
    sim.reset();
    expect(sim.callTimes()).toEqual([]);
  });
});

describe('maxRps', () => {
  it('answers 429 "1303" beyond maxRps starts within one second, then admits again', async () => {
    sim.configure({ maxRps: 3 });
    const burst = await Promise.all(Array.from({ length: 5 }, () => generate(sim)));
    const firstAdmitted = Date.now();
    expect(burst.filter((r) => r.status === 200)).toHaveLength(3);
    const limited = burst.filter((r) => r.status === 429);
    expect(limited.map((r) => r.json.error.code)).toEqual(['1303', '1303']);

    await waitFor(() => Date.now() > firstAdmitted + 1_000, 3_000, 'the window to slide');
    expect((await generate(sim)).status).toBe(200);
  });
});

describe('image delivery timing', () => {
  it('imageDelayMs sends the headers first and the body after the delay', async () => {
    sim.configure({ imageDelayMs: 300 });
    const url = (await generate(sim)).json.data[0].url;
    const started = performance.now();
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    const headersAfter = performance.now() - started;
    expect(res.headers.get('content-type')).toBe('image/png');
    await res.arrayBuffer();
    const bodyAfter = performance.now() - started;
    expect(bodyAfter).toBeGreaterThanOrEqual(295);
    expect(bodyAfter - headersAfter).toBeGreaterThan(200);
  });

  it('a client that leaves during imageDelayMs counts as an image failure', async () => {
    sim.configure({ imageDelayMs: 5_000 });
    const url = (await generate(sim)).json.data[0].url;
    const controller = new AbortController();
    const res = await fetch(url, { signal: controller.signal });
    expect(res.status).toBe(200);
    controller.abort();
    await waitFor(() => sim.stats().imageFailures === 1, 5_000, 'the aborted download to be counted');
    expect(sim.stats().imageDownloads).toBe(0);
  });

  it('imageChunkDelayMs streams the same bytes in pieces', async () => {
    sim.configure({ imageChunkDelayMs: 20, imageChunkBytes: 1024 });
    const url = (await generate(sim)).json.data[0].url;
    const res = await download(url);
    expect(res.status).toBe(200);
    expect(res.bytes.length).toBe(sim.issuedImages()[0]!.bytes);
    await waitFor(() => sim.stats().imageDownloads === 1, 5_000, 'the download to be counted');
  });
});

describe('client aborts during latency', () => {
  it('are paid but neither delivered generations nor issued images', async () => {
    sim.configure({ latencyMs: { standard: [5_000, 5_000] } });
    const controller = new AbortController();
    const pending = generate(sim, undefined, { signal: controller.signal });
    await waitFor(() => sim.stats().inFlight === 1, 5_000, 'the call to be in flight');
    controller.abort();
    await expect(pending).rejects.toThrow();
    await waitFor(() => sim.stats().outcomes['aborted'] === 1, 5_000, 'the abort to be recorded');
    expect(sim.stats()).toMatchObject({ generations: 0, paid: 1, paidUndelivered: 1, inFlight: 0 });
    expect(sim.issuedImages()).toEqual([]);
  });
});
