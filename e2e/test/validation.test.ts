import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';

const valid = { model: 'cogview-4-250304', prompt: 'a cat' };

// [description, body override, offending field or null when it must be accepted]
const cases: Array<[string, Record<string, unknown>, string | null]> = [
  ['model missing', { model: undefined }, 'model'],
  ['model of another family', { model: 'cogview-3' }, 'model'],
  ['model in the docs mixed case', { model: 'cogView-4-250304' }, null],
  ['model upper case', { model: 'COGVIEW-4-250304' }, null],
  ['prompt missing', { prompt: undefined }, 'prompt'],
  ['prompt empty', { prompt: '' }, 'prompt'],
  ['prompt blank', { prompt: '   ' }, 'prompt'],
  ['prompt not a string', { prompt: 42 }, 'prompt'],
  ['quality hd', { quality: 'hd' }, null],
  ['quality standard', { quality: 'standard' }, null],
  ['quality other', { quality: 'ultra' }, 'quality'],
  ['size width 511', { size: '511x1024' }, 'size'],
  ['size width 512', { size: '512x1024' }, null],
  ['size width 2048', { size: '2048x1024' }, null],
  ['size width 2064', { size: '2064x512' }, 'size'],
  ['size height 511', { size: '1024x511' }, 'size'],
  ['size height 512', { size: '1024x512' }, null],
  ['size height 2048', { size: '1024x2048' }, null],
  ['size height 2064', { size: '512x2064' }, 'size'],
  ['size not divisible by 16', { size: '1000x1000' }, 'size'],
  ['size 1 px off the grid', { size: '1024x1025' }, 'size'],
  ['size exactly 2^21 pixels', { size: '2048x1024' }, null],
  ['size one step over 2^21 pixels', { size: '2048x1040' }, 'size'],
  ['size 2048x2048 over 2^21 pixels', { size: '2048x2048' }, 'size'],
  ['size recommended 1440x720', { size: '1440x720' }, null],
  ['size malformed', { size: '1024*1024' }, 'size'],
  ['size with spaces', { size: '1024 x 1024' }, 'size'],
  ['user_id 5 chars', { user_id: 'abcde' }, 'user_id'],
  ['user_id 6 chars', { user_id: 'abcdef' }, null],
  ['user_id 128 chars', { user_id: 'u'.repeat(128) }, null],
  ['user_id 129 chars', { user_id: 'u'.repeat(129) }, 'user_id'],
  ['webhook_url not a URL', { webhook_url: 'not a url' }, 'webhook_url'],
  ['webhook_url ftp', { webhook_url: 'ftp://127.0.0.1/x' }, 'webhook_url'],
  ['metadata not an object', { metadata: [1, 2] }, 'metadata'],
  ['metadata too large', { metadata: { blob: 'x'.repeat(5000) } }, 'metadata'],
  ['unknown field', { n: 2 }, '(body)'],
];

describe('request validation, as Z.AI documents it', () => {
  test.for(cases)('%s', async ([, override, field], { launch }) => {
    const stack = await launch({ worker: false });
    const body = Object.fromEntries(Object.entries({ ...valid, ...override }).filter(([, v]) => v !== undefined));
    const res = await stack.generate(body);
    if (field === null) {
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      return;
    }
    expect(res.status).toBe(400);
    const error = res.body.error as { code: string; details: Array<{ field: string; message: string }> };
    expect(error.code).toBe('validation_error');
    expect(error.details.map((d) => d.field)).toContain(field);
    expect(await stack.queues.generate.count()).toBe(0);
  });

  test('every offending field is named at once', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const res = await stack.generate({ model: 'x', prompt: '', size: '1x1', quality: 'max', user_id: 'a' });
    expect(res.status).toBe(400);
    const fields = (res.body.error as { details: Array<{ field: string }> }).details.map((d) => d.field);
    expect(new Set(fields)).toEqual(new Set(['model', 'prompt', 'size', 'quality', 'user_id']));
  });

  test('messages say what is expected in plain words', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const res = await stack.generate({ ...valid, metadata: [1, 2] });
    expect((res.body.error as { details: unknown[] }).details).toEqual([{ field: 'metadata', message: 'must be a JSON object' }]);
  });

  test('bad bodies get clear 4xx errors, never a 500', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const malformed = await stack.request('POST', '/v1/images/generations', '{"model": ', { 'content-type': 'application/json' });
    expect(malformed.status).toBe(400);
    expect((malformed.body.error as { code: string }).code).toBe('invalid_json');

    const notObject = await stack.request('POST', '/v1/images/generations', '[1,2]', { 'content-type': 'application/json' });
    expect(notObject.status).toBe(400);

    const deep = `{"model":"cogview-4-250304","prompt":"p","metadata":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const nested = await stack.request('POST', '/v1/images/generations', deep, { 'content-type': 'application/json' });
    expect(nested.status).toBe(400);
    expect((nested.body.error as { code: string }).code).toBe('validation_error');
    // A batch's metadata too, in the JSON body and in a JSONL upload's query.
    const deepBatch = `{"requests":[{"model":"cogview-4-250304","prompt":"p"}],"metadata":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const nestedBatch = await stack.request('POST', '/v1/batches', deepBatch, { 'content-type': 'application/json' });
    expect(nestedBatch.body).toMatchObject({ error: { code: 'validation_error', details: [{ field: '(body)', message: 'is nested too deeply' }] } });
    // Brackets unescaped: the URL stays within Node's 16 KiB of headers.
    const deepQuery = `%7B%22a%22:${'['.repeat(5_000)}${']'.repeat(5_000)}%7D`;
    const nestedQuery = await stack.request('POST', `/v1/batches?metadata=${deepQuery}`, '{"model":"cogview-4-250304","prompt":"p"}\n', { 'content-type': 'application/x-ndjson' });
    expect(nestedQuery.body).toMatchObject({ error: { code: 'validation_error', details: [{ field: 'query', message: 'is nested too deeply' }] } });

    const text = await stack.request('POST', '/v1/images/generations', 'prompt=cat', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);

    const huge = await stack.generate({ ...valid, prompt: 'p'.repeat(1_100_000) });
    expect(huge.status).toBe(413);
    expect((huge.body.error as { code: string }).code).toBe('payload_too_large');

    const unknown = await stack.request('GET', '/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect((unknown.body.error as { code: string }).code).toBe('not_found');

    const badKey = await stack.generate(valid, { 'idempotency-key': 'x'.repeat(300) });
    expect(badKey.status).toBe(400);
    expect(await stack.queues.generate.count()).toBe(0);
  });
});

describe('authentication and tenants', () => {
  test('every /v1 route needs a known API key', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const none = await stack.request('POST', '/v1/images/generations', valid, { authorization: '' });
    expect(none.status).toBe(401);
    const wrong = await stack.request('GET', '/v1/images/generations/gen_00000000000000000000000000000000', undefined, {
      authorization: 'Bearer dk_not-a-key',
    });
    expect(wrong.status).toBe(401);
    expect((wrong.body.error as { code: string }).code).toBe('unauthorized');
  });

  test("a tenant cannot see another tenant's generation: it is a 404", async ({ launch }) => {
    const stack = await launch({ worker: false });
    const mine = await stack.generate(valid);
    const other = await stack.newTenant();
    const theirs = await stack.request('GET', `/v1/images/generations/${String(mine.body.id)}`, undefined, {
      authorization: `Bearer ${other.api_key}`,
    });
    expect(theirs.status).toBe(404);
    const missing = await stack.request('GET', '/v1/images/generations/gen_00000000000000000000000000000000');
    expect(missing.status).toBe(404);
    expect(theirs.body).toEqual({ error: { code: 'not_found', message: `no generation ${String(mine.body.id)}` } });
    const own = await stack.request('GET', `/v1/images/generations/${String(mine.body.id)}`);
    expect(own.status).toBe(200);
  });
});

describe('idempotency', () => {
  test('a repeat with the same Idempotency-Key returns the same job and generates once', async ({ launch, sim }) => {
    const stack = await launch();
    const first = await stack.generate(valid, { 'idempotency-key': 'order-1' });
    const again = await stack.generate(valid, { 'idempotency-key': 'order-1' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers['idempotent-replayed']).toBe('true');
    await stack.waitForStatus(String(first.body.id), ['succeeded']);
    const late = await stack.generate(valid, { 'idempotency-key': 'order-1' });
    expect(late.body).toMatchObject({ id: first.body.id, status: 'succeeded' });
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
  });

  test('concurrent repeats race to one job', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const all = await Promise.all(Array.from({ length: 8 }, () => stack.generate(valid, { 'idempotency-key': 'race' })));
    expect(new Set(all.map((r) => r.status))).toEqual(new Set([202]));
    expect(new Set(all.map((r) => r.body.id)).size).toBe(1);
    expect(await stack.queues.generate.count()).toBe(1);
  });

  test('the same key with a different body is refused; other keys and tenants are independent', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const first = await stack.generate(valid, { 'idempotency-key': 'k' });
    const conflict = await stack.generate({ ...valid, prompt: 'a dog' }, { 'idempotency-key': 'k' });
    expect(conflict.status).toBe(422);
    expect((conflict.body.error as { code: string }).code).toBe('idempotency_conflict');
    const other = await stack.generate(valid, { 'idempotency-key': 'k2' });
    expect(other.body.id).not.toBe(first.body.id);
    const tenant = await stack.newTenant();
    const theirs = await stack.generate(valid, { 'idempotency-key': 'k', authorization: `Bearer ${tenant.api_key}` });
    expect(theirs.status).toBe(202);
    expect(theirs.body.id).not.toBe(first.body.id);
    const plain = await stack.generate(valid);
    expect(plain.body.id).not.toBe(first.body.id);
  });
});

describe('health', () => {
  test('/healthz answers and /readyz checks Redis and S3', async ({ launch }) => {
    const stack = await launch({ worker: false });
    expect((await fetch(`${stack.apiUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${stack.apiUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { redis: 'ok', s3: 'ok' }, generation: { paused: false } });
  });
});
