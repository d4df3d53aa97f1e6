import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { readZaiLimits, redisKeys } from '@darkroom/shared';
import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';
import { sample } from './scrape.ts';
import { startS3FaultProxy } from './s3-fault-proxy.ts';
import { waitUntil } from './wait.ts';

const body = { model: 'cogview-4-250304', prompt: 'failure modes', size: '512x512' };

describe('Z.AI failures', () => {
  test('retries a 1302 at once without spending an attempt or cooling the queue down', async ({ launch, sim }) => {
    const stack = await launch({ env: { ZAI_MAX_ATTEMPTS: '1', ZAI_MAX_CONCURRENCY: '4', ZAI_BACKOFF_MS: '5000', ZAI_LIMIT_PROBE_MS: '60000' } });
    sim.configure({ latencyMs: { standard: [1_000, 1_000], hd: [1_000, 1_000] } });
    const first = String((await stack.generate(body)).body.id);
    await waitUntil(() => sim.stats().inFlight === 1 || undefined, 'the first call in flight');
    sim.failNext('rate_limit_1302');
    const second = String((await stack.generate(body)).body.id);
    for (const id of [first, second]) expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');
    expect(sim.stats()).toMatchObject({ calls: 3, generations: 2 });
    await expectPaid(sim, { jobs: 2, undelivered: 0 });
    // The refused job waits only for the cap (1 after the 1302), not for a cooldown of ZAI_BACKOFF_MS.
    const [call1, refused, retry] = sim.calls();
    expect(refused!.outcome).toBe('429:1302');
    expect(retry!.arrivedAt - call1!.endedAt!).toBeLessThan(1_000);
    expect(await stack.queues.generate.getRateLimitTtl(Number.MAX_SAFE_INTEGER)).toBe(0);
    expect(await readZaiLimits(stack.redis, redisKeys(stack.prefix))).toMatchObject({ cap: 1, limit: 1, refusalsPerMinute: 1, refusalsTotal: 1 });
  });

  test('a 1302 while none of our calls is out cools the queue down, and leaves the cap alone', async ({ launch, sim }) => {
    const stack = await launch({ env: { ZAI_MAX_ATTEMPTS: '1', ZAI_BACKOFF_MS: '1500', ZAI_MAX_CONCURRENCY: '4' } });
    const keys = redisKeys(stack.prefix);
    // A fleet that had found a cap of 4 and is idle: the account is busy with another client.
    await stack.redis.hset(keys.zaiLimits, 'cap', 4, 'limit', 4);
    sim.failNext('rate_limit_1302');
    const id = String((await stack.generate(body)).body.id);
    expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');
    const [refused, retry] = sim.callTimes();
    expect(retry! - refused!).toBeGreaterThanOrEqual(1_400);
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
    expect(await readZaiLimits(stack.redis, keys)).toMatchObject({ cap: 4, limit: 4, refusalsTotal: 1 });
  });

  test('a 1303 cools down the whole fleet: no worker process calls Z.AI until the cooldown ends', async ({ launch, sim }) => {
    const stack = await launch({ worker: false, env: { ZAI_BACKOFF_MS: '1500' } });
    const workers = [stack.spawnWorker(), stack.spawnWorker()];
    sim.failNext('rate_limit_1303');
    const first = String((await stack.generate(body)).body.id);
    // The cooldown starts once the worker has handled the 429; calls started before that are not its business.
    await waitUntil(async () => (await stack.queues.generate.getRateLimitTtl(Number.MAX_SAFE_INTEGER)) > 0 || undefined, 'the cooldown', 30_000);
    const rest = await Promise.all([1, 2, 3].map(async () => String((await stack.generate(body)).body.id)));
    for (const id of [first, ...rest]) expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');
    const [limited, ...after] = sim.callTimes();
    expect(after).toHaveLength(4);
    expect(Math.min(...after) - limited!).toBeGreaterThanOrEqual(1400);
    for (const worker of workers) expect(worker.process.exitCode).toBeNull();
  });

  test('retries a 500 with backoff until it succeeds', async ({ launch, sim }) => {
    const stack = await launch({ env: { ZAI_MAX_ATTEMPTS: '3' } });
    sim.failNext('server_error_500', 2);
    const done = await stack.waitForStatus(String((await stack.generate(body)).body.id), ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 3 });
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
  });

  test('fails with the last code once transient errors outlast ZAI_MAX_ATTEMPTS', async ({ launch, sim }) => {
    const stack = await launch({ env: { ZAI_MAX_ATTEMPTS: '3' } });
    sim.failNext('network_error_1234', 5);
    const done = await stack.waitForStatus(String((await stack.generate(body)).body.id), ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'failed', attempts: 3, error: { code: '1234' } });
    expect(sim.stats().calls).toBe(3);
  });

  test('after 1231 ("you already have a request") the job waits out its earlier call before resubmitting', async ({ launch, sim }) => {
    const stack = await launch({ env: { ZAI_TIMEOUT_MS: '1500', ZAI_BACKOFF_MS: '20', ZAI_MAX_ATTEMPTS: '3' } });
    sim.failNext('duplicate_request_1231');
    const done = await stack.waitForStatus(String((await stack.generate(body)).body.id), ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    const [first, second] = sim.callTimes();
    expect(second! - first!).toBeGreaterThanOrEqual(1500);
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
  });

  test('a Z.AI timeout is retried; the call that timed out is paid too', async ({ launch, sim }) => {
    const stack = await launch({ env: { ZAI_TIMEOUT_MS: '300' } });
    sim.failNext('timeout');
    const done = await stack.waitForStatus(String((await stack.generate(body)).body.id), ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(await expectPaid(sim, { jobs: 1, undelivered: 1 })).toMatchObject({ paid: 2 });
  });

  test('a prompt refused as unsafe (1301) fails at once with the code and message kept', async ({ launch, sim }) => {
    const stack = await launch({ env: { ZAI_MAX_ATTEMPTS: '5' } });
    sim.failNext('sensitive_content_1301');
    const id = String((await stack.generate(body)).body.id);
    const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error: { code: '1301' } });
    expect(String((done.error as { message: string }).message).length).toBeGreaterThan(0);
    const record = await stack.generations.get(id);
    expect(record?.error).toMatchObject({ zai_status: 400 });
    expect(String(record?.error && (record.error as { zai_body?: string }).zai_body)).toContain('1301');
  });

  test('an exhausted balance (1113) pauses the fleet, keeps jobs queued, shows on /readyz, and an admin resumes', async ({ launch, sim }) => {
    const admin = 'admin-token-0123456789';
    const stack = await launch({ env: { ADMIN_TOKEN: admin, ZAI_PAUSE_PROBE_MS: '600000', ZAI_MAX_ATTEMPTS: '1' } });
    sim.failNext('balance_1113');
    const first = String((await stack.generate(body)).body.id);
    const ready = await waitUntil(async () => {
      const res = await fetch(`${stack.apiUrl}/readyz`);
      const json = (await res.json()) as { status: string; generation: { paused: boolean; reason?: { code: string } } };
      return json.generation.paused ? { httpStatus: res.status, ...json } : undefined;
    }, 'the fleet to pause');
    expect(ready).toMatchObject({ httpStatus: 200, status: 'degraded', generation: { paused: true, reason: { code: '1113' } } });

    const second = String((await stack.generate(body)).body.id);
    await waitUntil(async () => ((await stack.queues.generate.getJobCountByTypes('paused')) === 2 ? true : undefined), 'both jobs held by the pause');
    expect(sim.stats().calls).toBe(1);
    for (const id of [first, second]) expect((await stack.generations.get(id))?.status).toBe('queued');
    await expect.poll(() => sample(stack.metricsUrl, 'darkroom_generation_paused{reason="1113"}')).toBe(1);
    await expect.poll(() => sample(stack.metricsUrl, 'darkroom_queue_jobs{queue="generate",state="paused"}')).toBe(2);

    const denied = await fetch(`${stack.apiUrl}/admin/fleet/resume`, { method: 'POST', headers: { authorization: 'Bearer wrong' } });
    expect(denied.status).toBe(401);
    const resumed = await fetch(`${stack.apiUrl}/admin/fleet/resume`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    expect(await resumed.json()).toMatchObject({ resumed: true, was: { code: '1113' } });
    for (const id of [first, second]) expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');
    await expectPaid(sim, { jobs: 2, undelivered: 0 });
    await expect.poll(() => sample(stack.metricsUrl, 'darkroom_generation_paused{reason=""}')).toBe(0);
    await expect.poll(() => sample(stack.metricsUrl, 'darkroom_queue_jobs{queue="generate",state="completed"}')).toBe(2);
  });

  test('a locked account (1112) pauses the fleet until a free probe shows it works again', async ({ launch, sim }) => {
    const stack = await launch({ env: { ZAI_PAUSE_PROBE_MS: '200', ZAI_MAX_ATTEMPTS: '1' } });
    sim.failNext('account_locked_1112');
    const id = String((await stack.generate(body)).body.id);
    const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(sim.stats().outcomes['429:1112']).toBe(1);
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
    expect(await stack.queues.generate.isPaused()).toBe(false);
  });

  test('a rejected API key pauses generation instead of failing every job', async ({ launch, sim }) => {
    const stack = await launch({ env: { ZAI_API_KEY: 'rotated-key', ZAI_PAUSE_PROBE_MS: '600000' } });
    const ids = await Promise.all([1, 2].map(async () => String((await stack.generate(body)).body.id)));
    await waitUntil(async () => ((await stack.queues.generate.isPaused()) ? true : undefined), 'the fleet to pause');
    // Both calls may be in flight when the pause lands; each hands its job back, none fails it.
    const statuses = await waitUntil(async () => {
      const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
      return records.every((r) => r?.status !== 'generating') ? records.map((r) => r?.status) : undefined;
    }, 'both calls to settle');
    expect(statuses).toEqual(['queued', 'queued']);
    await expectPaid(sim, { jobs: 0, undelivered: 0 });
  });

  test('CONTENT_FILTER_MIN_LEVEL fails an image below it as content_filtered, without copying it', async ({ launch, sim }) => {
    const stack = await launch({ env: { CONTENT_FILTER_MIN_LEVEL: '2' } });
    sim.configure({ contentFilterLevel: 1 });
    const done = await stack.waitForStatus(String((await stack.generate(body)).body.id), ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'content_filtered' }, content_filter: [{ role: 'assistant', level: 1 }] });
    expect(sim.stats().imageDownloads).toBe(0);
    expect(sim.stats().calls).toBe(1);
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
  });
});

describe('image copy failures', () => {
  test('an expired image URL is regenerated once, as a new paid call', async ({ launch, sim }) => {
    const stack = await launch();
    sim.failNext('image_expired');
    const id = String((await stack.generate(body)).body.id);
    const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    await expectPaid(sim, { jobs: 1, regenerated: 1, undelivered: 0 });
    expect((await stack.generations.get(id))?.paid_generations).toBe(2);
    expect((done.result as { sha256: string }).sha256).toBe(sim.issuedImages()[1]!.sha256);
  });

  test('an image URL that is gone twice fails the job as image_expired', async ({ launch, sim }) => {
    const stack = await launch();
    sim.failNext('image_not_found', 2);
    const done = await stack.waitForStatus(String((await stack.generate(body)).body.id), ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'image_expired' } });
    await expectPaid(sim, { jobs: 1, regenerated: 1, undelivered: 0 });
  });

  test('S3 resets and 503 SlowDown are retried with backoff: one paid generation, one whole object', async ({ launch, sim }) => {
    const proxy = await startS3FaultProxy(inject('s3').endpoint);
    const stack = await launch({ env: { S3_ENDPOINT: proxy.endpoint } });
    try {
      proxy.failNextPuts('reset', 'slow_down', 'slow_down');
      const done = await stack.waitForStatus(String((await stack.generate(body)).body.id), ['succeeded', 'failed']);
      expect(done.status).toBe('succeeded');
      expect(proxy.puts).toBeGreaterThanOrEqual(4);
      await expectPaid(sim, { jobs: 1, undelivered: 0 });
      const result = done.result as { sha256: string; key: string; bucket: string };
      const stored = await stack.s3.send(new GetObjectCommand({ Bucket: result.bucket, Key: result.key }));
      expect(createHash('sha256').update(await stored.Body!.transformToByteArray()).digest('hex')).toBe(sim.issuedImages()[0]!.sha256);
    } finally {
      await stack.close(); // its clean-up goes through the proxy
      await proxy.close();
    }
  });

  test.for(['image_truncated', 'image_wrong_type'] as const)('%s: the copy is retried from the saved URL, never storing a partial object', async (mode, { launch, sim }) => {
    const stack = await launch();
    sim.failNext(mode);
    const done = await stack.waitForStatus(String((await stack.generate(body)).body.id), ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(sim.stats()).toMatchObject({ imageFailures: 1, imageDownloads: 1 });
    await expectPaid(sim, { jobs: 1, undelivered: 0 });
    const result = done.result as { sha256: string; key: string; bucket: string };
    expect(result.sha256).toBe(sim.issuedImages()[0]!.sha256);

    const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: result.bucket, Prefix: `images/${stack.tenant}/` }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([result.key]);
    const stored = await stack.s3.send(new GetObjectCommand({ Bucket: result.bucket, Key: result.key }));
    const bytes = await stored.Body!.transformToByteArray();
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sim.issuedImages()[0]!.sha256);
  });
});

describe('webhook delivery', () => {
  test('after every attempt fails the delivery is marked failed, logged per attempt, and can be re-delivered', async ({ launch }) => {
    const admin = 'admin-token-0123456789';
    const stack = await launch({ env: { ADMIN_TOKEN: admin, WEBHOOK_RETRY_SCHEDULE: '0,0.05,0.05' } });
    stack.receiver.respondWith(500);
    const id = String((await stack.generate({ ...body, webhook_url: stack.receiver.url })).body.id);
    await stack.waitForStatus(id, ['succeeded']);
    const path = `/v1/images/generations/${id}/deliveries`;
    type Log = { webhook: { status: string; attempts: number }; deliveries: Array<{ attempt: number; status_code: number; ms: number; at: string }> };
    await expect.poll(async () => (await stack.request<Log>('GET', path)).body.webhook?.status, { timeout: 10_000 }).toBe('failed');
    const log = (await stack.request<Log>('GET', path)).body;
    expect(log.deliveries.map((d) => [d.attempt, d.status_code])).toEqual([[1, 500], [2, 500], [3, 500]]);
    expect(new Set(stack.receiver.deliveries.map((d) => d.id))).toEqual(new Set([`msg_${id}_succeeded`]));

    stack.receiver.respondWith(200);
    const redeliver = await fetch(`${stack.apiUrl}/admin/v1/generations/${id}/webhook/redeliver`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    expect(redeliver.status).toBe(200);
    await expect.poll(async () => (await stack.request<Log>('GET', path)).body.webhook?.status, { timeout: 10_000 }).toBe('delivered');
    expect(stack.receiver.deliveries.at(-1)!.id).toBe(`msg_${id}_succeeded`);
  });
});

describe('retention', () => {
  test('finished records expire after JOB_RETENTION_HOURS, failed ones after FAILED_RETENTION_HOURS', async ({ launch, sim }) => {
    const stack = await launch({ env: { JOB_RETENTION_HOURS: '2', FAILED_RETENTION_HOURS: '5', IDEMPOTENCY_TTL_HOURS: '1' } });
    const ok = String((await stack.generate(body)).body.id);
    await stack.waitForStatus(ok, ['succeeded']);
    sim.failNext('sensitive_content_1301');
    const bad = String((await stack.generate(body)).body.id);
    await stack.waitForStatus(bad, ['failed']);
    const ttl = (id: string) => stack.redis.ttl(`${stack.prefix}:gen:${id}`);
    expect(await ttl(ok)).toBeGreaterThan(2 * 3600 - 60);
    expect(await ttl(ok)).toBeLessThanOrEqual(2 * 3600);
    expect(await ttl(bad)).toBeGreaterThan(5 * 3600 - 60);
    expect(await ttl(bad)).toBeLessThanOrEqual(5 * 3600);
  });
});
