import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAULT_MODES } from '../src/index.ts';
import type { FaultMode, Simulator } from '../src/index.ts';
import { download, generate, generationUrl, okBody, start, waitFor } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await start();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.configure({ hangMs: 120_000, faults: { rate429: 0, rate500: 0, rateTimeout: 0, rateMalformed: 0 } });
  sim.reset();
});

type Expectation =
  | { status: number; code: string; message: RegExp }
  | 'timeout'
  | 'malformed'
  | { image: 403 | 404 | 'truncated' | 'html' };

const EXPECTED: Record<FaultMode, Expectation> = {
  rate_limit_1302: { status: 429, code: '1302', message: /concurrency/i },
  rate_limit_1303: { status: 429, code: '1303', message: /frequency/i },
  overloaded_1305: { status: 429, code: '1305', message: /overloaded/i },
  model_overloaded_1312: { status: 429, code: '1312', message: /traffic|overloaded/i },
  server_error_500: { status: 500, code: '500', message: /internal/i },
  network_error_1234: { status: 500, code: '1234', message: /network error/i },
  balance_1113: { status: 429, code: '1113', message: /arrears|recharge/i },
  account_locked_1112: { status: 429, code: '1112', message: /locked/i },
  account_violation_1121: { status: 429, code: '1121', message: /locked|irregular/i },
  daily_quota_1304: { status: 429, code: '1304', message: /daily/i },
  auth_expired_1003: { status: 401, code: '1003', message: /expired/i },
  sensitive_content_1301: { status: 400, code: '1301', message: /sensitive/i },
  prompt_too_long_1261: { status: 400, code: '1261', message: /prompt/i },
  duplicate_request_1231: { status: 429, code: '1231', message: /already have a request/i },
  timeout: 'timeout',
  malformed_json: 'malformed',
  image_expired: { image: 403 },
  image_not_found: { image: 404 },
  image_truncated: { image: 'truncated' },
  image_wrong_type: { image: 'html' },
};

const ERROR_MODES = FAULT_MODES.filter((mode) => {
  const e = EXPECTED[mode];
  return typeof e === 'object' && 'status' in e;
});

describe('named one-shot faults', () => {
  it('the exported list holds every mode exactly once', () => {
    expect(new Set(FAULT_MODES).size).toBe(FAULT_MODES.length);
    expect([...FAULT_MODES].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(ERROR_MODES)('%s answers its HTTP status and business code once, then the API recovers', async (mode) => {
    const expected = EXPECTED[mode] as { status: number; code: string; message: RegExp };
    sim.failNext(mode);
    const failed = await generate(sim);
    expect(failed.status).toBe(expected.status);
    expect(failed.json).toEqual({ error: { code: expected.code, message: expect.stringMatching(expected.message) } });
    expect((await generate(sim)).status).toBe(200);
    expect(sim.stats()).toMatchObject({
      calls: 2,
      generations: 1,
      outcomes: { ok: 1, [`${expected.status}:${expected.code}`]: 1 },
    });
  });

  it('uses the flat shape with a numeric code when configured', async () => {
    sim.configure({ errorShape: 'flat' });
    try {
      sim.failNext('balance_1113');
      const res = await generate(sim);
      expect(res.json).toEqual({ code: 1113, message: expect.any(String) });
    } finally {
      sim.configure({ errorShape: 'nested' });
    }
  });

  it('are consumed FIFO, `times` at a time', async () => {
    sim.failNext('rate_limit_1302', 2);
    sim.failNext('server_error_500');
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) codes.push((await generate(sim)).json?.error?.code ?? 'ok');
    expect(codes).toEqual(['1302', '1302', '500', 'ok']);
  });

  it('account faults strike before validation; others wait for a valid request', async () => {
    sim.failNext('account_locked_1112');
    expect((await generate(sim, okBody({ size: 'nonsense' }))).json.error.code).toBe('1112');

    sim.failNext('server_error_500');
    expect((await generate(sim, okBody({ size: 'nonsense' }))).json.error.code).toBe('1214');
    expect((await generate(sim)).status).toBe(500);
  });

  it('are not consumed by calls that fail authentication', async () => {
    sim.failNext('balance_1113');
    expect((await generate(sim, okBody(), { key: 'wrong' })).json.error.code).toBe('1002');
    expect((await generate(sim)).json.error.code).toBe('1113');
  });

  it('reject an unknown mode', () => {
    expect(() => sim.failNext('nope' as FaultMode)).toThrow(/unknown fault mode/);
    expect(() => sim.failNext('timeout', 0)).toThrow(/positive integer/);
  });
});

describe('timeout', () => {
  it('holds the request open without answering until the client aborts', async () => {
    sim.failNext('timeout');
    const controller = new AbortController();
    let settled = false;
    const pending = fetch(generationUrl(sim), {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(okBody()),
      signal: controller.signal,
    }).finally(() => {
      settled = true;
    });
    await waitFor(() => sim.stats().outcomes['timeout'] === 1, 5_000, 'the timeout fault to engage');
    expect(sim.stats().inFlight).toBe(1);
    expect(settled).toBe(false);

    controller.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    await waitFor(() => sim.stats().inFlight === 0, 5_000, 'the hung call to be released');
    expect(sim.stats()).toMatchObject({ generations: 0, paid: 1, paidUndelivered: 1 });
  });

  it('closes the connection without an answer after hangMs', async () => {
    sim.configure({ hangMs: 100 });
    sim.failNext('timeout');
    await expect(generate(sim)).rejects.toThrow();
    await waitFor(() => sim.stats().inFlight === 0, 5_000, 'the hung call to be released');
    expect(sim.stats()).toMatchObject({ calls: 1, generations: 0, paid: 1, paidUndelivered: 1, outcomes: { timeout: 1 } });
  });

  it('does not keep close() waiting', async () => {
    const own = await start();
    own.failNext('timeout');
    const pending = generate(own).catch((error: unknown) => error);
    await waitFor(() => own.stats().outcomes['timeout'] === 1, 5_000, 'the hang');
    const started = performance.now();
    await own.close();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('malformed_json', () => {
  it('answers 200 with truncated JSON: paid, but not a delivered generation', async () => {
    sim.failNext('malformed_json');
    const res = await generate(sim);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(() => JSON.parse(res.text) as unknown).toThrow(SyntaxError);
    expect(res.text.startsWith('{"created":')).toBe(true);
    await waitFor(() => sim.stats().inFlight === 0, 5_000, 'the call to finish');
    expect(sim.stats()).toMatchObject({ generations: 0, paid: 1, paidUndelivered: 1, outcomes: { malformed: 1 } });
    expect(sim.issuedImages()).toEqual([]);
  });
});

describe('image faults', () => {
  async function faultedUrl(mode: FaultMode): Promise<string> {
    sim.failNext(mode);
    const res = await generate(sim);
    expect(res.status).toBe(200);
    return res.json.data[0].url;
  }

  it('are paid generations: a normal 200 body, recorded in issuedImages with the fault', async () => {
    await faultedUrl('image_expired');
    expect(sim.stats()).toMatchObject({ generations: 1, outcomes: { ok: 1 } });
    expect(sim.issuedImages()[0]).toMatchObject({ fault: 'expired' });
  });

  it('image_expired: the URL answers 403 AccessDenied at once', async () => {
    const res = await download(await faultedUrl('image_expired'));
    expect(res.status).toBe(403);
    expect(res.bytes.toString()).toContain('<Code>AccessDenied</Code>');
  });

  it('image_not_found: the URL answers 404', async () => {
    const res = await download(await faultedUrl('image_not_found'));
    expect(res.status).toBe(404);
    expect(res.bytes.toString()).toContain('<Code>NoSuchKey</Code>');
  });

  it('image_truncated: announces the full Content-Length, sends half, then drops the connection', async () => {
    const url = await faultedUrl('image_truncated');
    const full = sim.issuedImages()[0]!.bytes;
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(full);
    let received = 0;
    const reading = (async () => {
      for await (const chunk of res.body!) received += chunk.length;
    })();
    await expect(reading).rejects.toThrow();
    expect(received).toBeLessThan(full);
    await waitFor(() => sim.stats().imageFailures === 1, 5_000, 'the failure count');
    expect(sim.stats().imageDownloads).toBe(0);
  });

  it('image_wrong_type: answers 200 text/html', async () => {
    const res = await download(await faultedUrl('image_wrong_type'));
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/html/);
    expect(res.bytes.toString()).toMatch(/<html/i);
  });

  it.each(['image_truncated', 'image_wrong_type'] as const)('%s strikes the first download only; a retry gets the PNG', async (mode) => {
    const url = await faultedUrl(mode);
    await download(url).catch(() => undefined);
    const again = await download(url);
    expect(again.status).toBe(200);
    expect(again.type).toBe('image/png');
    expect(createHash('sha256').update(again.bytes).digest('hex')).toBe(sim.issuedImages()[0]!.sha256);
  });

  it.each(['image_expired', 'image_not_found'] as const)('%s stays failed on every download', async (mode) => {
    const url = await faultedUrl(mode);
    expect((await download(url)).status).toBeGreaterThanOrEqual(400);
    expect((await download(url)).status).toBeGreaterThanOrEqual(400);
  });

  it('apply only to the image of the call that drew them', async () => {
    await faultedUrl('image_not_found');
    const clean = await generate(sim);
    expect((await download(clean.json.data[0].url)).status).toBe(200);
  });
});

describe('chaos rates', () => {
  it('a rate of 1 hits every call; 429s use 1302/1303/1305', async () => {
    sim.configure({ faults: { rate429: 1 } });
    const codes = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const res = await generate(sim);
      expect(res.status).toBe(429);
      codes.add(res.json.error.code);
    }
    expect([...codes].every((c) => ['1302', '1303', '1305'].includes(c))).toBe(true);
    expect(codes.size).toBeGreaterThan(1);
  });

  it('rate500 and rateMalformed at 1', async () => {
    sim.configure({ faults: { rate500: 1 } });
    expect((await generate(sim)).status).toBe(500);
    sim.configure({ faults: { rate500: 0, rateMalformed: 1 } });
    const res = await generate(sim);
    expect(res.status).toBe(200);
    expect(res.json).toBeUndefined();
  });

  it('rateTimeout at 1 hangs the call', async () => {
    sim.configure({ hangMs: 50, faults: { rateTimeout: 1 } });
    await expect(generate(sim)).rejects.toThrow();
    expect(sim.stats().outcomes['timeout']).toBe(1);
  });

  it('named faults take precedence over the rates', async () => {
    sim.configure({ faults: { rate429: 1 } });
    sim.failNext('server_error_500');
    expect((await generate(sim)).status).toBe(500);
  });

  it('roughly follow the configured probability', async () => {
    sim.configure({ faults: { rate500: 0.3 } });
    const statuses = await Promise.all(Array.from({ length: 200 }, () => generate(sim, okBody({ size: '512x512' })).then((r) => r.status)));
    const failures = statuses.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(25);
    expect(failures).toBeLessThan(100);
    expect(sim.stats().generations).toBe(200 - failures);
  });

  it('reject rates outside 0..1 or summing above 1', () => {
    expect(() => sim.configure({ faults: { rate429: 1.5 } })).toThrow(/rate429/);
    expect(() => sim.configure({ faults: { rate429: 0.6, rate500: 0.6 } })).toThrow(/add up/);
  });
});
