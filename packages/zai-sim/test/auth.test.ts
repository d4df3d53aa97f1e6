import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index.ts';
import { generate, okBody, start } from './helpers.ts';

describe('authentication', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await start({ apiKeys: ['key-one', 'key-two'] });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.configure({ errorShape: 'nested' });
    sim.reset();
  });

  it('answers 401 with business code "1001" (a string, nested body) when Authorization is missing', async () => {
    const res = await generate(sim, okBody(), { key: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json).toEqual({ error: { code: '1001', message: expect.any(String) } });
  });

  it.each(['Basic a2V5LW9uZQ==', 'Bearer', 'key-one', 'Bearer key-one extra'])('treats a malformed Authorization header (%s) as missing: 1001', async (authorization) => {
    const res = await generate(sim, okBody(), { authorization });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('1001');
  });

  it('answers 401 "1002" for an unknown key', async () => {
    const res = await generate(sim, okBody(), { key: 'not-a-key' });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('1002');
    expect(res.json.error.message).toMatch(/token/i);
  });

  it('accepts every configured key and a lower-case "bearer" scheme', async () => {
    expect((await generate(sim, okBody(), { key: 'key-one' })).status).toBe(200);
    expect((await generate(sim, okBody(), { key: 'key-two' })).status).toBe(200);
    expect((await generate(sim, okBody(), { authorization: 'bearer key-two' })).status).toBe(200);
  });

  it('checks auth before the body: a bad body without a key is still 401', async () => {
    const res = await generate(sim, undefined, { key: null, rawBody: '{not json' });
    expect(res.status).toBe(401);
  });

  it('with errorShape "flat" the code is a number at the top level', async () => {
    sim.configure({ errorShape: 'flat' });
    const res = await generate(sim, okBody(), { key: 'wrong-key' });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ code: 1002, message: expect.any(String) });
  });

  it('new keys apply at once through configure', async () => {
    sim.configure({ apiKeys: ['rotated-key'] });
    try {
      expect((await generate(sim, okBody(), { key: 'key-one' })).status).toBe(401);
      expect((await generate(sim, okBody(), { key: 'rotated-key' })).status).toBe(200);
      expect(sim.apiKey).toBe('rotated-key');
    } finally {
      sim.configure({ apiKeys: ['key-one', 'key-two'] });
    }
  });

  it('counts every POST as a call and every rejection by outcome', async () => {
    await generate(sim, okBody(), { key: null });
    await generate(sim, okBody(), { key: 'nope' });
    expect(sim.stats()).toMatchObject({ calls: 2, generations: 0, outcomes: { '401:1001': 1, '401:1002': 1 } });
  });
});
