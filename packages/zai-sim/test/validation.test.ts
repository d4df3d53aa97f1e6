import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/index.ts';
import { generate, MODEL, okBody, start } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await start();
});
afterAll(() => sim.close());

async function expectRejected(body: unknown, code: string, messagePattern?: RegExp) {
  const res = await generate(sim, body);
  expect(res.status, res.text).toBe(400);
  expect(res.json.error.code).toBe(code);
  if (messagePattern) expect(res.json.error.message).toMatch(messagePattern);
}

async function expectAccepted(body: unknown) {
  const res = await generate(sim, body);
  expect(res.status, res.text).toBe(200);
  return res;
}

describe('size', () => {
  it.each(['512x512', '2048x512', '512x2048', '1024x1024', '2048x1024', '1024x2048', '1440x1440', '768x1344', '528x2032'])(
    'accepts %s',
    async (size) => {
      await expectAccepted(okBody({ size }));
    },
  );

  it.each([
    ['511x512', 'side below 512'],
    ['512x511', 'side below 512'],
    ['496x1024', 'side below 512, divisible by 16'],
    ['2064x512', 'side above 2048, divisible by 16'],
    ['512x2064', 'side above 2048'],
    ['1000x1000', 'not divisible by 16'],
    ['1032x1024', 'not divisible by 16 (8)'],
  ])('rejects %s (%s) with 1214 naming size', async (size) => {
    await expectRejected(okBody({ size }), '1214', /^size: each side must be 512-2048 and divisible by 16/);
  });

  it('rejects more than 2^21 pixels even when both sides are in range (2048x1040)', async () => {
    await expectRejected(okBody({ size: '2048x1040' }), '1214', /^size: .*2097152/);
    await expectRejected(okBody({ size: '1456x1456' }), '1214', /^size:/);
  });

  it.each(['1024', '1024*1024', '1024X1024', ' 1024x1024', 'axb', ''])('rejects the malformed size %j', async (size) => {
    await expectRejected(okBody({ size }), '1214', /^size:/);
  });

  it('rejects a non-string size', async () => {
    await expectRejected(okBody({ size: 1024 }), '1214', /^size:/);
  });

  it('defaults to 1024x1024', async () => {
    await expectAccepted(okBody());
    expect(sim.issuedImages().at(-1)).toMatchObject({ width: 1024, height: 1024 });
  });
});

describe('user_id', () => {
  it.each([6, 7, 64, 128])('accepts %i characters', async (n) => {
    await expectAccepted(okBody({ user_id: 'u'.repeat(n) }));
  });

  it.each([0, 5, 129, 500])('rejects %i characters with 1214 naming user_id', async (n) => {
    await expectRejected(okBody({ user_id: 'u'.repeat(n) }), '1214', /^user_id:/);
  });

  it('rejects a non-string user_id', async () => {
    await expectRejected(okBody({ user_id: 12345678 }), '1214', /^user_id:/);
  });

  it('is optional and recorded when given', async () => {
    await expectAccepted(okBody({ user_id: 'tenant-42' }));
    expect(sim.issuedImages().at(-1)?.userId).toBe('tenant-42');
  });
});

describe('model', () => {
  it.each([MODEL, 'cogView-4-250304', 'COGVIEW-4-250304'])('accepts %s case-insensitively', async (model) => {
    await expectAccepted(okBody({ model }));
  });

  it('rejects an unknown model with 1211', async () => {
    await expectRejected(okBody({ model: 'cogview-3-flash' }), '1211');
  });

  it('rejects a missing model with 1213', async () => {
    await expectRejected({ prompt: 'x' }, '1213', /model/);
  });
});

describe('prompt', () => {
  it.each([
    ['missing', {}],
    ['null', { prompt: null }],
    ['empty', { prompt: '' }],
    ['blank', { prompt: '   ' }],
  ])('a %s prompt is 1213', async (_label, fields) => {
    await expectRejected({ model: MODEL, ...fields }, '1213', /prompt/);
  });

  it('a non-string prompt is 1214', async () => {
    await expectRejected({ model: MODEL, prompt: ['a'] }, '1214', /^prompt:/);
  });
});

describe('quality', () => {
  it.each(['hd', 'standard'])('accepts %s', async (quality) => {
    await expectAccepted(okBody({ quality }));
    expect(sim.issuedImages().at(-1)?.quality).toBe(quality);
  });

  it('defaults to standard', async () => {
    await expectAccepted(okBody());
    expect(sim.issuedImages().at(-1)?.quality).toBe('standard');
  });

  it.each(['HD', 'ultra', 1])('rejects %j with 1214 naming quality', async (quality) => {
    await expectRejected(okBody({ quality }), '1214', /^quality:/);
  });
});

describe('body', () => {
  it('an unparseable JSON body is 400 1214', async () => {
    const res = await generate(sim, undefined, { rawBody: '{"model": "cogview-4-250304", "prompt": ' });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('1214');
  });

  it.each(['[]', '"text"', 'null', '42'])('a JSON body that is not an object (%s) is 400 1214', async (rawBody) => {
    const res = await generate(sim, undefined, { rawBody });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('1214');
  });

  it('a body above maxBodyBytes is 413', async () => {
    const res = await generate(sim, okBody({ prompt: 'x'.repeat(1024 * 1024 + 10) }));
    expect(res.status).toBe(413);
  });

  it('ignores unknown fields', async () => {
    await expectAccepted(okBody({ watermark_enabled: false, request_id: 'abc' }));
  });

  it('rejections are not generations', async () => {
    sim.reset();
    await expectRejected(okBody({ size: '1x1' }), '1214');
    expect(sim.stats()).toMatchObject({ calls: 1, generations: 0, outcomes: { '400:1214': 1 } });
    expect(sim.issuedImages()).toEqual([]);
  });
});
