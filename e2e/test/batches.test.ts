/**
 * The API side of batches (issue 7): what POST /v1/batches writes for the dispatcher, what it
 * refuses whole (bad lines, quotas) with nothing written, replays, cancels and cancel_after. The
 * dispatcher is the worker's, so these tests read Redis: records, the items list, the tenant's
 * pending list and the dispatch ring.
 */
import { redisKeys } from '@darkroom/shared';
import { describe, expect, test } from './fixtures.ts';
import type { Response, Stack } from './stack.ts';

const valid = { model: 'cogview-4-250304', prompt: 'a cat', size: '512x512' };
type Body = Record<string, unknown>;
const errorOf = (body: Body) => body.error as { code: string; message: string; details?: Array<{ line?: number; field: string; message: string }>; bad_lines?: number; limit?: string };
const counts = (body: Body) => body.request_counts as Record<string, number>;

async function upload(stack: Stack, body: string | Buffer | ReadableStream<Uint8Array>, query = '', headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(`${stack.apiUrl}/v1/batches${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/x-ndjson', ...headers },
    body,
    duplex: 'half',
  });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: (await res.json()) as Body };
}

const lines = (n: number, line = (i: number): Body => ({ ...valid, prompt: `product ${i}`, custom_id: `sku-${i}` })) =>
  Array.from({ length: n }, (_, i) => JSON.stringify(line(i))).join('\n') + '\n';

async function expectNothingWritten(stack: Stack): Promise<void> {
  const k = redisKeys(stack.prefix);
  expect(await stack.redis.keys(`${stack.prefix}:gen:*`)).toEqual([]);
  expect(await stack.redis.keys(`${stack.prefix}:batch:*`)).toEqual([]);
  // The tenant's indexes, pending list, batches and day count: none exist.
  const tenantKeys = await stack.redis.keys(`${k.tenant(stack.tenant)}:*`);
  expect(tenantKeys.filter((key) => /:(open|gens|status:\w+|pending|batches|images:[\d-]+)$/.test(key))).toEqual([]);
  expect(await stack.redis.llen(k.tenantPending(stack.tenant))).toBe(0);
  expect(await stack.redis.llen(k.dispatchRing)).toBe(0);
  expect(await stack.redis.zcard(k.openGenerations(stack.tenant))).toBe(0);
  expect(await stack.queues.generate.count()).toBe(0);
}

describe('submitting a batch', () => {
  test('a JSON batch is accepted with its items in input order, pending for the dispatcher', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const k = redisKeys(stack.prefix);
    const res = await stack.request('POST', '/v1/batches', {
      requests: [{ ...valid, prompt: 'one', custom_id: 'a' }, { ...valid, prompt: 'two', metadata: { sku: 2 } }, { ...valid, prompt: 'three', custom_id: 'c' }],
      metadata: { catalog: 'spring' },
    });
    expect(res.status).toBe(202);
    const id = String(res.body.id);
    expect(id).toMatch(/^batch_[0-9a-f]{32}$/);
    expect(res.headers.location).toBe(`/v1/batches/${id}`);
    expect(res.body).toMatchObject({ object: 'batch', status: 'in_progress', metadata: { catalog: 'spring' }, estimated_cost: null });
    expect(counts(res.body)).toEqual({ total: 3, queued: 3, running: 0, succeeded: 0, failed: 0, canceled: 0 });

    const ids = await stack.redis.lrange(k.batchItems(id), 0, -1);
    const records = await Promise.all(ids.map((i) => stack.generations.get(i)));
    expect(records.map((r) => [r?.request.prompt, r?.custom_id, r?.batch_index, r?.batch_id, r?.status])).toEqual([
      ['one', 'a', 0, id, 'queued'],
      ['two', undefined, 1, id, 'queued'],
      ['three', 'c', 2, id, 'queued'],
    ]);
    expect(records[1]?.metadata).toEqual({ sku: 2 });
    expect(records.every((r) => r?.webhook_url === undefined)).toBe(true);
    expect(await stack.redis.lrange(k.tenantPending(stack.tenant), 0, -1)).toEqual(ids);
    expect(await stack.redis.lrange(k.dispatchRing, 0, -1)).toEqual([stack.tenant]);
    expect(await stack.redis.zrange(k.tenantBatches(stack.tenant), 0, -1)).toEqual([id]);
    // Nothing goes to BullMQ: the dispatcher adds the jobs.
    expect(await stack.queues.generate.count()).toBe(0);

    const items = await stack.request('GET', `/v1/batches/${id}/items?limit=2`);
    expect((items.body.data as Body[]).map((d) => [d.id, d.custom_id, d.batch_index])).toEqual([[ids[0], 'a', 0], [ids[1], null, 1]]);
    const rest = await stack.request('GET', `/v1/batches/${id}/items?cursor=${String(items.body.next_cursor)}`);
    expect((rest.body.data as Body[]).map((d) => d.id)).toEqual([ids[2]]);
    expect(rest.body).toMatchObject({ has_more: false, next_cursor: null });
  });

  test('a 100-line JSONL upload is accepted in line order; a second batch joins the same pending list, the tenant once in the ring', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { PRICE_PER_IMAGE: '0.015' } });
    const k = redisKeys(stack.prefix);
    const res = await upload(stack, lines(100), '?metadata=%7B%22catalog%22%3A%22fall%22%7D&webhook_url=http%3A%2F%2F127.0.0.1%3A9%2Fhook&item_webhooks=true');
    expect(res.status).toBe(202);
    const id = String(res.body.id);
    expect(res.body).toMatchObject({ status: 'in_progress', metadata: { catalog: 'fall' }, item_webhooks: true, webhook_url: 'http://127.0.0.1:9/hook' });
    expect(res.body.estimated_cost).toEqual({ per_image: 0.015, images: 100, total: 1.5 });
    const ids = await stack.redis.lrange(k.batchItems(id), 0, -1);
    const records = await Promise.all(ids.map((i) => stack.generations.get(i)));
    expect(records.map((r) => r?.custom_id)).toEqual(Array.from({ length: 100 }, (_, i) => `sku-${i}`));
    expect(records.map((r) => r?.batch_index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(records.every((r) => r?.webhook_url === 'http://127.0.0.1:9/hook')).toBe(true);

    const second = await upload(stack, lines(5));
    expect(second.status).toBe(202);
    const secondIds = await stack.redis.lrange(k.batchItems(String(second.body.id)), 0, -1);
    expect(await stack.redis.lrange(k.tenantPending(stack.tenant), 0, -1)).toEqual([...ids, ...secondIds]);
    expect(await stack.redis.lrange(k.dispatchRing, 0, -1)).toEqual([stack.tenant]);

    const list = await stack.request('GET', '/v1/batches?limit=1');
    expect((list.body.data as Body[]).map((b) => b.id)).toEqual([second.body.id]);
    const next = await stack.request('GET', `/v1/batches?limit=1&cursor=${String(list.body.next_cursor)}`);
    expect((next.body.data as Body[]).map((b) => b.id)).toEqual([id]);
    expect(next.body.has_more).toBe(false);
    // Another tenant sees none of them.
    const other = await stack.newTenant();
    const foreign = await fetch(`${stack.apiUrl}/v1/batches/${id}`, { headers: { authorization: `Bearer ${other.api_key}` } });
    expect(foreign.status).toBe(404);
  });

  test('CRLF line ends, a last line without one, and lines split across network chunks are read as lines', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const k = redisKeys(stack.prefix);
    const text = Buffer.from(['{"model":"cogview-4-250304","prompt":"一只猫 ☕","custom_id":"a"}', '', '{"model":"cogview-4-250304","prompt":"b","custom_id":"b"}'].join('\r\n'));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < text.length; i += 7) controller.enqueue(text.subarray(i, i + 7));
        controller.close();
      },
    });
    const res = await upload(stack, stream);
    expect(res.status).toBe(202);
    const ids = await stack.redis.lrange(k.batchItems(String(res.body.id)), 0, -1);
    const records = await Promise.all(ids.map((i) => stack.generations.get(i)));
    expect(records.map((r) => [r?.custom_id, r?.request.prompt, r?.batch_index])).toEqual([['a', '一只猫 ☕', 0], ['b', 'b', 1]]);
  });

  test('bad lines reject the whole file, naming each line, and nothing is written, queued or paid', async ({ launch, sim }) => {
    const stack = await launch();
    const body = [
      JSON.stringify({ ...valid, custom_id: 'x1' }),
      JSON.stringify({ ...valid, custom_id: 'x2' }),
      '{"model": "cogview-4-250304", "prompt": ',
      '',
      JSON.stringify({ ...valid, size: '100x100' }),
      JSON.stringify({ ...valid, custom_id: 'x1' }),
      ...Array.from({ length: 1200 }, (_, i) => JSON.stringify({ ...valid, custom_id: `ok-${i}` })),
      JSON.stringify({ ...valid, webhook_url: 'http://127.0.0.1:9/h' }),
    ].join('\n');
    const res = await upload(stack, body);
    expect(res.status).toBe(400);
    const error = errorOf(res.body);
    expect(error.code).toBe('validation_error');
    expect(error.bad_lines).toBe(4);
    expect(error.details?.map((d) => [d.line, d.field])).toEqual([
      [3, '(line)'],
      [5, 'size'],
      [5, 'size'],
      [6, 'custom_id'],
      [1207, 'webhook_url'],
    ]);
    await expectNothingWritten(stack);
    expect(sim.stats().paid).toBe(0);
  });

  test('more than 100 bad lines: 100 named, all counted', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const res = await upload(stack, lines(250, (i) => ({ ...valid, quality: i % 2 ? 'hd' : 'ultra' })));
    expect(res.status).toBe(400);
    expect(errorOf(res.body).bad_lines).toBe(125);
    expect(errorOf(res.body).details).toHaveLength(100);
    expect(errorOf(res.body).details?.[0]).toEqual({ line: 1, field: 'quality', message: 'must be "hd" or "standard"' });
    await expectNothingWritten(stack);
  });

  test('an upload past BATCH_MAX_BYTES is a 413, declared or streamed, and nothing stays written', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { BATCH_MAX_BYTES: '4096' } });
    const declared = await upload(stack, lines(100));
    expect(declared.status).toBe(413);
    expect(errorOf(declared.body).code).toBe('payload_too_large');
    // Without a Content-Length, the count while reading cuts it off.
    const body = Buffer.from(lines(100));
    const streamed = await upload(stack, new Blob([body]).stream());
    expect(streamed.status).toBe(413);
    await expectNothingWritten(stack);
    expect((await upload(stack, lines(10))).status).toBe(202);
  });

  test('a duplicate custom_id in a JSON batch is a 400 naming its position', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const res = await stack.request('POST', '/v1/batches', { requests: [{ ...valid, custom_id: 'a' }, { ...valid, custom_id: 'b' }, { ...valid, custom_id: 'a' }] });
    expect(res.status).toBe(400);
    expect(errorOf(res.body).details).toEqual([{ line: 3, field: 'custom_id', message: 'duplicates an earlier request\'s custom_id "a"' }]);
    await expectNothingWritten(stack);
  });

  test('100,000 lines are accepted', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { TENANT_MAX_UNFINISHED: '100000' } });
    const k = redisKeys(stack.prefix);
    const body = Buffer.from(lines(100_000));
    const res = await upload(stack, body);
    expect(res.status).toBe(202);
    expect(counts(res.body).total).toBe(100_000);
    const id = String(res.body.id);
    expect(await stack.redis.llen(k.batchItems(id))).toBe(100_000);
    expect(await stack.redis.llen(k.tenantPending(stack.tenant))).toBe(100_000);
    const last = await stack.generations.get((await stack.redis.lindex(k.batchItems(id), -1)) ?? '');
    expect(last).toMatchObject({ custom_id: 'sku-99999', batch_index: 99_999 });
    console.log(JSON.stringify({ lines: 100_000, bytes: body.length, rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20) }));
  });
});

describe('quotas', () => {
  test('a batch past max_waiting is refused whole with 429 quota_exceeded, and so is a single request', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const k = redisKeys(stack.prefix);
    await stack.redis.hset(k.tenantLimits(stack.tenant), 'max_waiting', '5');
    const refused = await upload(stack, lines(6));
    expect(refused.status).toBe(429);
    expect(errorOf(refused.body)).toMatchObject({ code: 'quota_exceeded', limit: 'max_waiting' });
    await expectNothingWritten(stack);

    expect((await upload(stack, lines(4))).status).toBe(202);
    expect((await stack.generate(valid)).status).toBe(202);
    const single = await stack.generate(valid);
    expect(single.status).toBe(429);
    expect(errorOf(single.body)).toMatchObject({ code: 'quota_exceeded', limit: 'max_waiting', max: 5 });
    expect(await stack.redis.zcard(k.openGenerations(stack.tenant))).toBe(5);
  });

  test('the daily image budget refuses the batch or request that would pass it, with nothing queued', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const k = redisKeys(stack.prefix);
    await stack.redis.hset(k.tenantLimits(stack.tenant), 'daily_images', '3');
    expect((await upload(stack, lines(2))).status).toBe(202);
    const over = await stack.request('POST', '/v1/batches', { requests: [valid, valid] });
    expect(over.status).toBe(429);
    expect(errorOf(over.body)).toMatchObject({ code: 'quota_exceeded', limit: 'daily_images', current: 2, max: 3 });
    expect((await stack.generate(valid)).status).toBe(202);
    const single = await stack.generate(valid);
    expect(single.status).toBe(429);
    expect(errorOf(single.body)).toMatchObject({ code: 'quota_exceeded', limit: 'daily_images', current: 3, max: 3 });
    expect(await stack.queues.generate.count()).toBe(1);
    expect(await stack.redis.zcard(k.openGenerations(stack.tenant))).toBe(3);
  });

  test("a full tenant's repair leaves its batch items waiting for the dispatcher alone", async ({ launch }) => {
    const stack = await launch({ worker: false, env: { TENANT_MAX_UNFINISHED: '3' } });
    const k = redisKeys(stack.prefix);
    const res = await upload(stack, lines(3));
    const ids = await stack.redis.lrange(k.batchItems(String(res.body.id)), 0, -1);
    // Old enough for the repair to look at them (ORPHAN_AGE_MS); they have no BullMQ job.
    for (const id of ids) await stack.redis.zadd(k.openGenerations(stack.tenant), 'XX', Date.now() - 600_000, id);
    const single = await stack.generate(valid);
    expect(single.status).toBe(429);
    expect(errorOf(single.body).code).toBe('too_many_unfinished');
    const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
    expect(records.map((r) => r?.status)).toEqual(['queued', 'queued', 'queued']);
  });
});

describe('idempotency', () => {
  test('a replayed upload with the same Idempotency-Key returns the same batch; different bytes are a 422', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const k = redisKeys(stack.prefix);
    const body = lines(20);
    const first = await upload(stack, body, '', { 'idempotency-key': 'catalog-1' });
    expect(first.status).toBe(202);
    const again = await upload(stack, body, '', { 'idempotency-key': 'catalog-1' });
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await stack.redis.zcard(k.tenantBatches(stack.tenant))).toBe(1);
    expect(await stack.redis.llen(k.tenantPending(stack.tenant))).toBe(20);
    const other = await upload(stack, lines(21), '', { 'idempotency-key': 'catalog-1' });
    expect(other.status).toBe(422);

    // Concurrent uploads with one key: one batch, the loser's items deleted.
    const body2 = lines(300);
    const racing = await Promise.all([1, 2, 3].map(() => upload(stack, body2, '', { 'idempotency-key': 'catalog-2' })));
    expect(racing.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(new Set(racing.map((r) => r.body.id)).size).toBe(1);
    expect(await stack.redis.zcard(k.tenantBatches(stack.tenant))).toBe(2);
    expect(await stack.redis.keys(`${stack.prefix}:batch:*`)).toHaveLength(4);
    expect(await stack.redis.zcard(k.openGenerations(stack.tenant))).toBe(320);

    const json = { requests: [valid], cancel_after: 3600 };
    const a = await stack.request('POST', '/v1/batches', json, { 'idempotency-key': 'json-1' });
    const b = await stack.request('POST', '/v1/batches', json, { 'idempotency-key': 'json-1' });
    expect(b.body.id).toBe(a.body.id);
  });
});

describe('canceling', () => {
  test('canceling a batch cancels its queued items; running ones finish and the last one finalizes it', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const k = redisKeys(stack.prefix);
    const res = await stack.request('POST', '/v1/batches', { requests: Array.from({ length: 10 }, (_, i) => ({ ...valid, prompt: `p${i}` })) });
    const id = String(res.body.id);
    const ids = await stack.redis.lrange(k.batchItems(id), 0, -1);
    // Two items have started (as the worker would mark them).
    for (const i of ids.slice(0, 2)) expect(await stack.generations.update(i, { status: 'generating' })).toBe(true);

    const canceled = await stack.request('POST', `/v1/batches/${id}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceling');
    expect(counts(canceled.body)).toEqual({ total: 10, queued: 0, running: 2, succeeded: 0, failed: 0, canceled: 8 });
    expect((await stack.generations.get(ids[5] ?? ''))?.error).toMatchObject({ code: 'canceled' });
    const canceledItems = await stack.request('GET', `/v1/batches/${id}/items?status=canceled`);
    expect((canceledItems.body.data as Body[]).map((d) => d.id)).toEqual(ids.slice(2));
    // A repeat is harmless.
    expect(counts((await stack.request('POST', `/v1/batches/${id}/cancel`)).body).canceled).toBe(8);

    for (const i of ids.slice(0, 2)) await stack.generations.update(i, { status: 'succeeded', completed_at: Date.now() });
    const after = await stack.request('GET', `/v1/batches/${id}`);
    expect(after.body.status).toBe('finalizing');
    expect(counts(after.body)).toEqual({ total: 10, queued: 0, running: 0, succeeded: 2, failed: 0, canceled: 8 });
    expect(await stack.redis.zrange(k.batchesToFinalize, 0, -1)).toEqual([id]);
    expect((await stack.request('POST', `/v1/batches/${id}/cancel`)).status).toBe(409);
  });

  test('a single generation is canceled while queued, and 409 once it has ended', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const created = await stack.generate({ ...valid, cancel_after: 60 });
    const id = String(created.body.id);
    const canceled = await stack.request('POST', `/v1/images/generations/${id}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ id, status: 'canceled', error: { code: 'canceled' } });
    const again = await stack.request('POST', `/v1/images/generations/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(errorOf(again.body).code).toBe('conflict');

    const started = await stack.generate(valid);
    await stack.generations.update(String(started.body.id), { status: 'generating' });
    expect((await stack.request('POST', `/v1/images/generations/${String(started.body.id)}/cancel`)).status).toBe(409);
  });

  test('cancel_after on a single generation is stored as a time and never sent on to Z.AI', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const before = Date.now();
    const created = await stack.generate({ ...valid, cancel_after: 60 });
    const record = await stack.generations.get(String(created.body.id));
    expect(record?.cancel_after).toBeGreaterThanOrEqual(before + 60_000);
    expect(record?.cancel_after).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(record?.request).toEqual({ model: 'cogview-4-250304', prompt: 'a cat', quality: 'standard', size: '512x512' });
    const at = await stack.generate({ ...valid, cancel_after: '2030-01-01T00:00:00Z' });
    expect((await stack.generations.get(String(at.body.id)))?.cancel_after).toBe(Date.parse('2030-01-01T00:00:00Z'));
    const bad = await stack.generate({ ...valid, cancel_after: 'tomorrow' });
    expect(bad.status).toBe(400);
    expect(errorOf(bad.body).details?.[0]?.field).toBe('cancel_after');
  });

  test('a batch whose cancel_after has passed has its items canceled at once and ends', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const k = redisKeys(stack.prefix);
    const res = await upload(stack, lines(30), '?cancel_after=2020-01-01T00%3A00%3A00Z');
    expect(res.status).toBe(202);
    const id = String(res.body.id);
    expect(res.body.status).toBe('finalizing');
    expect(counts(res.body)).toEqual({ total: 30, queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 30 });
    const ids = await stack.redis.lrange(k.batchItems(id), 0, -1);
    const records = await Promise.all(ids.map((i) => stack.generations.get(i)));
    expect(records.every((r) => r?.status === 'canceled' && r.error?.code === 'expired')).toBe(true);
    expect(await stack.redis.zrange(k.batchesToFinalize, 0, -1)).toEqual([id]);
  });
});
