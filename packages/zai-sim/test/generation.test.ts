import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index.ts';
import { download, generate, okBody, start } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await start();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.configure({ contentFilterLevel: 3, latencyMs: { standard: [0, 0], hd: [0, 0] } });
  sim.reset();
});

describe('a successful generation', () => {
  it('has the documented body: created (unix seconds), data[0].url, content_filter', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await generate(sim, okBody({ size: '768x1344', quality: 'hd', user_id: 'user-123456' }));
    const after = Math.floor(Date.now() / 1000);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(res.json).sort()).toEqual(['content_filter', 'created', 'data']);
    expect(Number.isInteger(res.json.created)).toBe(true);
    expect(res.json.created).toBeGreaterThanOrEqual(before);
    expect(res.json.created).toBeLessThanOrEqual(after);
    expect(res.json.data).toHaveLength(1);
    expect(res.json.data[0].url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/[\w-]+\.png\?Expires=\d+&Signature=[\w-]+$/);
    expect(res.json.content_filter).toEqual([{ role: 'assistant', level: 3 }]);
  });

  it('serves a valid RGB PNG with the requested size whose sha256 matches issuedImages()', async () => {
    const res = await generate(sim, okBody({ size: '768x1344', quality: 'hd', user_id: 'user-123456', prompt: 'red fox' }));
    const url: string = res.json.data[0].url;
    const image = await download(url);
    expect(image.status).toBe(200);
    expect(image.type).toBe('image/png');
    expect(Number(image.length)).toBe(image.bytes.length);

    const png = PNG.sync.read(image.bytes);
    expect([png.width, png.height]).toEqual([768, 1344]);
    expect(image.bytes.readUInt8(24)).toBe(8);
    expect(image.bytes.readUInt8(25)).toBe(2);

    const [issued, ...rest] = sim.issuedImages();
    expect(rest).toEqual([]);
    expect(issued).toEqual({
      url,
      sha256: createHash('sha256').update(image.bytes).digest('hex'),
      bytes: image.bytes.length,
      width: 768,
      height: 1344,
      prompt: 'red fox',
      quality: 'hd',
      userId: 'user-123456',
      created: res.json.created,
      delivered: true,
    });
  });

  it('gives every generation a different picture, and the same URL always the same bytes', async () => {
    const a = await generate(sim, okBody({ size: '512x512' }));
    const b = await generate(sim, okBody({ size: '512x512' }));
    const [first, again, second] = await Promise.all([
      download(a.json.data[0].url),
      download(a.json.data[0].url),
      download(b.json.data[0].url),
    ]);
    expect(first.bytes.equals(again.bytes)).toBe(true);
    expect(first.bytes.equals(second.bytes)).toBe(false);
    const [ia, ib] = sim.issuedImages();
    expect(ia?.sha256).not.toBe(ib?.sha256);
  });

  it('pads every image with imagePadBytes of incompressible bytes that decoders skip', async () => {
    sim.configure({ imagePadBytes: 1_000_000 });
    const res = await generate(sim, okBody({ size: '512x512' }));
    sim.configure({ imagePadBytes: 0 });
    const image = await download(res.json.data[0].url);
    expect(image.bytes.length).toBeGreaterThan(1_000_000);
    expect(image.bytes.length).toBe(sim.issuedImages()[0]!.bytes);
    expect(createHash('sha256').update(image.bytes).digest('hex')).toBe(sim.issuedImages()[0]!.sha256);
    const png = PNG.sync.read(image.bytes);
    expect([png.width, png.height]).toEqual([512, 512]);
  });

  it('reports the configured content filter level', async () => {
    sim.configure({ contentFilterLevel: 1 });
    const res = await generate(sim);
    expect(res.json.content_filter).toEqual([{ role: 'assistant', level: 1 }]);
  });

  it('waits the configured latency, which can differ for hd', async () => {
    sim.configure({ latencyMs: { standard: [0, 0], hd: [300, 350] } });
    let started = performance.now();
    await generate(sim, okBody({ quality: 'standard' }));
    const standard = performance.now() - started;
    started = performance.now();
    await generate(sim, okBody({ quality: 'hd' }));
    const hd = performance.now() - started;
    expect(hd).toBeGreaterThanOrEqual(295);
    expect(hd - standard).toBeGreaterThan(200);
  });
});

describe('counters', () => {
  it('count calls, generations, outcomes and downloads', async () => {
    await generate(sim);
    await generate(sim);
    await generate(sim, okBody({ size: 'bad' }));
    await generate(sim, okBody(), { key: 'wrong' });
    const [image] = sim.issuedImages();
    await download(image!.url);
    await download(image!.url.replace(/Signature=[\w-]+/, 'Signature=AAAA'));
    expect(sim.stats()).toEqual({
      calls: 4,
      generations: 2,
      paid: 2,
      paidUndelivered: 0,
      inFlight: 0,
      maxInFlight: 1,
      outcomes: { ok: 2, '400:1214': 1, '401:1002': 1 },
      imageDownloads: 1,
      imageFailures: 1,
    });
  });

  it('reset() clears counters, issued images and queued faults', async () => {
    await generate(sim);
    sim.failNext('server_error_500', 3);
    sim.reset();
    expect(sim.stats()).toMatchObject({ calls: 0, generations: 0, outcomes: {}, imageDownloads: 0 });
    expect(sim.issuedImages()).toEqual([]);
    expect((await generate(sim)).status).toBe(200);
  });

  it('issuedImages() returns copies that callers cannot corrupt', async () => {
    await generate(sim);
    const [copy] = sim.issuedImages();
    copy!.sha256 = 'tampered';
    expect(sim.issuedImages()[0]?.sha256).not.toBe('tampered');
  });
});

describe('routing', () => {
  it('answers 405 to GET on the generations endpoint and 404 elsewhere', async () => {
    const get = await fetch(`${sim.url}/images/generations`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
    expect(get.status).toBe(405);
    await get.body?.cancel();
    const other = await fetch(`${sim.url}/chat/completions`, { method: 'POST' });
    expect(other.status).toBe(404);
    await other.body?.cancel();
    expect(sim.stats().calls).toBe(0);
  });
});
