import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index.ts';
import { download, generate, start, waitFor } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await start();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.configure({ urlTtlMs: 30 * 24 * 3600 * 1000 });
  sim.reset();
});

async function issueUrl(): Promise<string> {
  const res = await generate(sim);
  expect(res.status).toBe(200);
  return res.json.data[0].url;
}

describe('image URLs', () => {
  it('carry Expires = now + urlTtlMs in unix seconds', async () => {
    const before = Date.now();
    const url = new URL(await issueUrl());
    const expires = Number(url.searchParams.get('Expires'));
    expect(expires).toBeGreaterThanOrEqual(Math.floor((before + 30 * 24 * 3600 * 1000) / 1000));
    expect(expires).toBeLessThanOrEqual(Math.ceil((Date.now() + 30 * 24 * 3600 * 1000) / 1000));
  });

  it('expire after urlTtlMs with 403 AccessDenied XML, like an object store', async () => {
    sim.configure({ urlTtlMs: 500 });
    const url = await issueUrl();
    const issuedAt = Date.now();
    expect((await download(url)).status).toBe(200);
    await waitFor(() => Date.now() > issuedAt + 520, 3_000, 'the URL to expire');
    const expired = await download(url);
    expect(expired.status).toBe(403);
    expect(expired.type).toMatch(/^application\/xml/);
    const xml = expired.bytes.toString('utf8');
    expect(xml).toMatch(/^<\?xml/);
    expect(xml).toContain('<Code>AccessDenied</Code>');
    expect(xml).toContain('expired');
    expect(sim.stats()).toMatchObject({ imageDownloads: 1, imageFailures: 1 });
  });

  it('refuse a tampered signature with 403 SignatureDoesNotMatch', async () => {
    const url = new URL(await issueUrl());
    const signature = url.searchParams.get('Signature')!;
    url.searchParams.set('Signature', (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1));
    const res = await download(url.toString());
    expect(res.status).toBe(403);
    expect(res.bytes.toString()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('refuse a URL with the signature removed', async () => {
    const url = new URL(await issueUrl());
    url.searchParams.delete('Signature');
    expect((await download(url.toString())).status).toBe(403);
  });

  it('refuse an extended Expires (the signature covers it)', async () => {
    const url = new URL(await issueUrl());
    url.searchParams.set('Expires', String(Number(url.searchParams.get('Expires')) + 3600));
    expect((await download(url.toString())).status).toBe(403);
  });

  it('refuse a token re-encoded for another size (the signature covers the token)', async () => {
    const url = new URL(await issueUrl());
    const token = /\/files\/([\w-]+)\.png$/.exec(url.pathname)![1]!;
    const payload = JSON.parse(Buffer.from(token, 'base64url').toString());
    payload.w = 512;
    url.pathname = `/files/${Buffer.from(JSON.stringify(payload)).toString('base64url')}.png`;
    expect((await download(url.toString())).status).toBe(403);
  });

  it('answer 404 NoSuchKey for a path that is not an issued object', async () => {
    const res = await download(`${sim.origin}/files/nothing-here.png?Expires=1&Signature=x`);
    expect(res.status).toBe(404);
    expect(res.bytes.toString()).toContain('<Code>NoSuchKey</Code>');
  });

  it('stay valid across simulator configuration changes but not across processes (fresh secret per start)', async () => {
    const url = await issueUrl();
    const other = await start();
    try {
      const foreign = url.replace(sim.origin, other.origin);
      expect((await download(foreign)).status).toBe(403);
    } finally {
      await other.close();
    }
    sim.configure({ contentFilterLevel: 2 });
    expect((await download(url)).status).toBe(200);
  });
});
