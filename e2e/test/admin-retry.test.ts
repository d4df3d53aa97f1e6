/**
 * After an outage: find what failed, dry-run, retry, without paying Z.AI twice (issue 8).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { RetryStore, enqueueRetries, redisKeys, webhookId, type RetryIntent } from '@darkroom/shared';
import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';
import { startS3FaultProxy } from './s3-fault-proxy.ts';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const ADMIN = 'admin-token-for-retry-tests';
const CLI = fileURLToPath(new URL('../../apps/api/src/cli.ts', import.meta.url));
const body = { model: 'cogview-4-250304', prompt: 'after an outage', size: '512x512' };

function admin(stack: Stack, method: string, path: string, payload?: unknown) {
  return stack.request(method, path, payload, { authorization: `Bearer ${ADMIN}` });
}

async function allFailed(stack: Stack, ids: string[]) {
  for (const id of ids) expect(await stack.waitForStatus(id, ['succeeded', 'failed'], 60_000)).toMatchObject({ status: 'failed' });
}

/** The record of `id` (of any tenant) once it has ended. */
async function ended(stack: Stack, id: string) {
  return waitUntil(async () => {
    const record = await stack.generations.get(id);
    return record && ['succeeded', 'failed', 'canceled'].includes(record.status) ? record : undefined;
  }, `${id} to end`, 60_000);
}

/**
 * A bulk retry of `ids` as a run that crashed just after noting `current` left it (its worker gone
 * before it saved anything else); `crashed` plays what that run did before dying. Then a worker
 * takes it up, and its completed view is returned.
 */
async function resumeCrashed(stack: Stack, ids: string[], current: Omit<RetryIntent, 'cursor'>, crashed: (retryId: string) => Promise<void>) {
  const store = new RetryStore(stack.redis, redisKeys(stack.prefix));
  const retryId = await store.create('admin', { ids, resend_webhook: true });
  await store.begin(retryId, { ...current, cursor: String(ids.indexOf(current.id) + 1) });
  await crashed(retryId);
  await enqueueRetries(stack.queues, retryId);
  return waitUntil(async () => {
    const res = await admin(stack, 'GET', `/admin/v1/retries/${retryId}`);
    return res.body.status === 'completed' ? res.body : undefined;
  }, 'the bulk retry to complete', 60_000);
}

/** Every page of an admin search. */
async function adminSearch(stack: Stack, query: string): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const res = await admin(stack, 'GET', `/admin/v1/generations?${query}&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    found.push(...(res.body.data as Record<string, unknown>[]));
    cursor = res.body.next_cursor as string | null;
  } while (cursor);
  return found;
}

describe('admin retries after an outage', () => {
  test('an S3 outage fails 30 in store and a Z.AI fault 10 in generate; the retry stores all 40 and pays exactly 10 more', async ({ launch, sim }) => {
    const proxy = await startS3FaultProxy(inject('s3').endpoint);
    const stack = await launch({
      env: {
        ADMIN_TOKEN: ADMIN,
        S3_ENDPOINT: proxy.endpoint,
        STORE_BACKOFF_MS: '20',
        STORE_BACKOFF_MAX_MS: '100',
        STORE_RETRY_HOURS: String(1_000 / 3_600_000),
        ZAI_MAX_ATTEMPTS: '1',
      },
    });
    try {
      const hook = { ...body, webhook_url: stack.receiver.url };
      proxy.set({ mode: 'down' });
      const stored = await Promise.all(Array.from({ length: 30 }, async () => String((await stack.generate(hook)).body.id)));
      await allFailed(stack, stored);
      proxy.set({ mode: 'up' });
      sim.failNext('server_error_500', 10);
      const generated = await Promise.all(Array.from({ length: 10 }, async () => String((await stack.generate(hook)).body.id)));
      await allFailed(stack, generated);
      await expectPaid(sim, { jobs: 30 });
      const paidBefore = sim.stats().paid;

      const failedStore = await adminSearch(stack, 'status=failed&stage=store&paid=true');
      expect(new Set(failedStore.map((g) => g.id))).toEqual(new Set(stored));
      const failedGenerate = await adminSearch(stack, `status=failed&stage=generate&tenant=${stack.tenant}`);
      expect(new Set(failedGenerate.map((g) => g.id))).toEqual(new Set(generated));

      const dry = await admin(stack, 'POST', '/admin/v1/retries', { filter: { status: 'failed' }, dry_run: true });
      expect(dry.status).toBe(200);
      expect(dry.body).toMatchObject({ matched: 40, new_paid_calls: 10, actions: { store: 30, generate: 10, resend_webhook: 0 }, by_stage: { store: 30, generate: 10 } });
      expect(sim.stats().paid).toBe(paidBefore);

      const started = await admin(stack, 'POST', '/admin/v1/retries', { filter: { status: 'failed' } });
      expect(started.status).toBe(202);
      const retryId = String(started.body.id);
      const done = await waitUntil(
        async () => {
          const res = await admin(stack, 'GET', `/admin/v1/retries/${retryId}`);
          return res.body.status === 'completed' ? res.body : undefined;
        },
        'the bulk retry to complete',
        60_000,
      );
      expect(done).toMatchObject({ who: 'admin', planned: { matched: 40, new_paid_calls: 10 }, progress: { matched: 40, retried: 40, skipped: 0 } });

      for (const id of [...stored, ...generated]) {
        const view = await stack.waitForStatus(id, ['succeeded', 'failed'], 60_000);
        expect(view).toMatchObject({ status: 'succeeded', retries: 1 });
        expect((view.history as { status: string; error: { code: string } }[])[0]).toMatchObject({ status: 'failed' });
      }
      await expectPaid(sim, { jobs: 40 });
      expect(sim.stats().paid - paidBefore).toBe(10);

      // Each retried job ends with a new event: a failed one from its first round, a succeeded one now.
      const deliveries = await stack.receiver.waitFor((d) => d.filter((x) => x.payload?.type === 'image.generation.succeeded').length >= 40, 30_000);
      const succeeded = deliveries.filter((d) => d.payload?.type === 'image.generation.succeeded');
      expect(new Set(succeeded.map((d) => d.payload?.data.id))).toEqual(new Set([...stored, ...generated]));
      expect(deliveries.every((d) => d.verified)).toBe(true);
      const ids = deliveries.map((d) => d.headers['webhook-id']);
      expect(new Set(ids).size).toBe(ids.length);

      // Nothing is left to retry: a second dry run finds only succeeded jobs, all skipped.
      const again = await admin(stack, 'POST', '/admin/v1/retries', { ids: stored.slice(0, 3), dry_run: true });
      expect(again.body).toMatchObject({ matched: 3, new_paid_calls: 0, skipped: { succeeded: 3 } });
      const list = await admin(stack, 'GET', '/admin/v1/retries');
      expect((list.body.data as { id: string }[]).map((r) => r.id)).toContain(retryId);
    } finally {
      proxy.set({ mode: 'up' });
      await stack.close();
      await proxy.close();
    }
  });

  test('a tenant lists exactly its own jobs across pages while new ones are written', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { ADMIN_TOKEN: ADMIN } });
    const other = await stack.newTenant();
    const asOther = { authorization: `Bearer ${other.api_key}` };
    const mine = await Promise.all(Array.from({ length: 23 }, async () => String((await stack.generate(body)).body.id)));
    const theirs = await Promise.all(Array.from({ length: 5 }, async () => String((await stack.generate(body, asOther)).body.id)));

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await stack.request('GET', `/v1/images/generations?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...(res.body.data as { id: string }[]).map((g) => g.id));
      cursor = res.body.next_cursor as string | null;
      await stack.generate(body);
      await stack.generate(body, asOther);
    } while (cursor);
    expect(seen.length).toBe(new Set(seen).size);
    expect(new Set(seen)).toEqual(new Set(mine));

    const theirList = await stack.request('GET', '/v1/images/generations?limit=100', undefined, asOther);
    const theirIds = (theirList.body.data as { id: string }[]).map((g) => g.id);
    expect(theirIds.some((id) => mine.includes(id))).toBe(false);
    for (const id of theirs) expect(theirIds).toContain(id);
    expect((await stack.request('GET', '/v1/images/generations?status=nope')).status).toBe(400);
    expect((await stack.request('GET', '/v1/images/generations?cursor=garbage')).status).toBe(400);
  });

  test('admin routes refuse a tenant key and a missing token; tenant routes refuse the admin token', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { ADMIN_TOKEN: ADMIN } });
    const id = String((await stack.generate(body)).body.id);
    const routes: [string, string, unknown?][] = [
      ['GET', '/admin/v1/generations'],
      ['POST', `/admin/v1/generations/${id}/retry`, {}],
      ['POST', '/admin/v1/retries', { ids: [id], dry_run: true }],
      ['GET', '/admin/v1/retries'],
      ['GET', '/admin/v1/retries/retry_00000000000000000000000000000000'],
      ['POST', '/admin/v1/retries/retry_00000000000000000000000000000000/abort'],
    ];
    for (const [method, path, payload] of routes) {
      expect((await stack.request(method, path, payload)).status, `${method} ${path} with a tenant key`).toBe(401);
      expect((await stack.request(method, path, payload, { authorization: '' })).status, `${method} ${path} without a token`).toBe(401);
    }
    expect((await admin(stack, 'GET', '/v1/images/generations')).status).toBe(403);
    expect((await admin(stack, 'GET', `/v1/images/generations/${id}`)).status).toBe(403);
    // A queued job is not retried.
    expect((await admin(stack, 'POST', `/admin/v1/generations/${id}/retry`, {})).status).toBe(409);
  });

  test('darkroom retry dry-runs, then retries with its progress, over HTTP with the admin token', async ({ launch, sim }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN, ZAI_MAX_ATTEMPTS: '1' } });
    sim.failNext('server_error_500', 1);
    const id = String((await stack.generate(body)).body.id);
    await allFailed(stack, [id]);
    const env = { PATH: process.env.PATH ?? '', DARKROOM_API_URL: stack.apiUrl, DARKROOM_ADMIN_TOKEN: ADMIN };
    const run = (...args: string[]) => promisify(execFile)(process.execPath, [CLI, 'retry', ...args], { env });

    const dry = JSON.parse((await run('--filter', `stage=generate,since=1h,tenant=${stack.tenant}`, '--dry-run')).stdout) as Record<string, unknown>;
    expect(dry).toMatchObject({ matched: 1, new_paid_calls: 1, by_error_code: { [String((await stack.generations.get(id))?.error?.code)]: 1 } });
    const done = JSON.parse((await run('--filter', `stage=generate,tenant=${stack.tenant}`)).stdout) as Record<string, unknown>;
    expect(done).toMatchObject({ status: 'completed', progress: { matched: 1, retried: 1 } });
    expect(await stack.waitForStatus(id, ['succeeded', 'failed'])).toMatchObject({ status: 'succeeded', retries: 1 });
    await expect(promisify(execFile)(process.execPath, [CLI, 'retry', '--filter', 'since=1h'], { env: { PATH: env.PATH } })).rejects.toMatchObject({ code: 2 });
  });

  test('one generation: a failed one runs again, a succeeded one only re-sends its webhook when asked', async ({ launch, sim }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN, ZAI_MAX_ATTEMPTS: '1' } });
    const hook = { ...body, webhook_url: stack.receiver.url };
    const ok = String((await stack.generate(hook)).body.id);
    expect(await stack.waitForStatus(ok, ['succeeded', 'failed'])).toMatchObject({ status: 'succeeded' });
    await stack.receiver.waitFor((d) => d.some((x) => x.payload?.data.id === ok));
    expect((await admin(stack, 'POST', `/admin/v1/generations/${ok}/retry`, {})).status).toBe(409);
    const resent = await admin(stack, 'POST', `/admin/v1/generations/${ok}/retry`, { resend_webhook: true });
    expect(resent.body).toMatchObject({ retried: 'resend_webhook' });
    const both = await stack.receiver.waitFor((d) => d.filter((x) => x.payload?.data.id === ok).length === 2);
    const events = both.filter((x) => x.payload?.data.id === ok);
    expect(events.map((e) => e.payload?.type)).toEqual(['image.generation.succeeded', 'image.generation.succeeded']);
    expect(events[0]!.headers['webhook-id']).not.toBe(events[1]!.headers['webhook-id']);

    sim.failNext('server_error_500', 1);
    const bad = String((await stack.generate(hook)).body.id);
    await allFailed(stack, [bad]);
    const paid = sim.stats().paid;
    const retried = await admin(stack, 'POST', `/admin/v1/generations/${bad}/retry`, {});
    expect(retried.body).toMatchObject({ retried: 'generate', generation: { status: 'queued', retries: 1 } });
    expect(await stack.waitForStatus(bad, ['succeeded', 'failed'])).toMatchObject({ status: 'succeeded', error: null });
    expect(sim.stats().paid).toBe(paid + 1);
    // A succeeded job is not run again, however often it is asked.
    expect((await admin(stack, 'POST', `/admin/v1/generations/${bad}/retry`, {})).status).toBe(409);
    expect(sim.stats().paid).toBe(paid + 1);
  });

  test('a retry that crashed between its reopen and its enqueue is resumed by the next retry, paid once', async ({ launch, sim }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN, ZAI_MAX_ATTEMPTS: '1' } });
    sim.failNext('server_error_500', 1);
    const id = String((await stack.generate(body)).body.id);
    await allFailed(stack, [id]);
    const paid = sim.stats().paid;
    // What the crashed retry left: reopened as queued for its first retry, no job added.
    const window = 86_400_000;
    expect(await stack.generations.reopen(id, 'queued', { retries: 1, error: null, zai: null }, 0, window)).toBe('reopened');
    expect(await stack.queues.generate.getJob(`${id}-t1`)).toBeUndefined();

    // A dry run counts it as the retry will treat it: its job added, a new paid call.
    const expected = { matched: 1, actions: { store: 0, generate: 1, resend_webhook: 0 }, skipped: {}, resumed: 1, new_paid_calls: 1 };
    expect((await admin(stack, 'POST', '/admin/v1/retries', { ids: [id], dry_run: true })).body).toMatchObject(expected);
    const byFilter = await admin(stack, 'POST', '/admin/v1/retries', { filter: { tenant: stack.tenant, status: 'queued' }, dry_run: true });
    expect(byFilter.body).toMatchObject(expected);
    expect(sim.stats().paid).toBe(paid);

    const resumed = await admin(stack, 'POST', `/admin/v1/generations/${id}/retry`, {});
    expect(resumed.body).toMatchObject({ retried: 'generate', resumed: true, generation: { retries: 1 } });
    expect(await stack.waitForStatus(id, ['succeeded', 'failed'])).toMatchObject({ status: 'succeeded', retries: 1 });
    expect(sim.stats().paid).toBe(paid + 1);
    expect((await admin(stack, 'POST', `/admin/v1/generations/${id}/retry`, {})).status).toBe(409);
    expect(sim.stats().paid).toBe(paid + 1);
  });

  test('a bulk retry walks more failed jobs than one page and retries each exactly once', async ({ launch, sim }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN, ZAI_MAX_ATTEMPTS: '1', RETRY_PAGE_SIZE: '3' } });
    sim.failNext('server_error_500', 10);
    const ids = await Promise.all(Array.from({ length: 10 }, async () => String((await stack.generate(body)).body.id)));
    await allFailed(stack, ids);
    const paid = sim.stats().paid;

    const started = await admin(stack, 'POST', '/admin/v1/retries', { filter: { status: 'failed' } });
    expect(started.status).toBe(202);
    const done = await waitUntil(async () => {
      const res = await admin(stack, 'GET', `/admin/v1/retries/${String(started.body.id)}`);
      return res.body.status === 'completed' ? res.body : undefined;
    }, 'the bulk retry to complete', 60_000);
    expect(done).toMatchObject({ planned: { matched: 10, new_paid_calls: 10 }, progress: { matched: 10, done: 10, retried: 10, resumed: 0, skipped: 0 } });
    for (const id of ids) {
      const view = await stack.waitForStatus(id, ['succeeded', 'failed'], 60_000);
      expect(view).toMatchObject({ status: 'succeeded', retries: 1 });
      expect(view.history).toHaveLength(1);
    }
    expect(sim.stats().paid - paid).toBe(10);
  });

  test('a bulk retry whose worker is killed mid-walk is finished by another, each job retried and paid once', async ({ launch, sim }) => {
    const stack = await launch({ worker: false, env: { ADMIN_TOKEN: ADMIN, ZAI_MAX_ATTEMPTS: '1', RETRY_PAGE_SIZE: '3' } });
    const other = await stack.newTenant();
    const asOther = { authorization: `Bearer ${other.api_key}` };
    const first = stack.spawnWorker();
    sim.failNext('server_error_500', 8);
    // The other tenant's jobs are older, so the walk (newest first) reaches them after ours.
    const older = await Promise.all(Array.from({ length: 4 }, async () => String((await stack.generate(body, asOther)).body.id)));
    for (const id of older) expect(await ended(stack, id)).toMatchObject({ status: 'failed' });
    const newer = await Promise.all(Array.from({ length: 4 }, async () => String((await stack.generate(body)).body.id)));
    for (const id of newer) expect(await ended(stack, id)).toMatchObject({ status: 'failed' });
    const { paid, calls } = sim.stats();

    // The new rounds wait until the walk is over, so killing the worker never cuts a Z.AI call
    // (an operator's pause: the fleet's upkeep lifts a bare BullMQ pause).
    expect((await admin(stack, 'POST', '/admin/v1/fleet/pause', { reason: 'a bulk retry is walked' })).status).toBe(200);
    // A key of the wrong type makes the reopen of the other tenant's first job fail half-way, as a
    // crash would leave it: queued, out of the failed index, without a job; the runner stops there.
    const blocker = redisKeys(stack.prefix).tenantStatus(other.tenant, 'queued');
    await stack.redis.set(blocker, 'not a sorted set');
    const started = await admin(stack, 'POST', '/admin/v1/retries', { filter: { status: 'failed' } });
    const retryId = String(started.body.id);
    await waitUntil(async () => ((await stack.queues.retries.getJob(retryId))?.attemptsMade ?? 0) >= 1 || undefined, 'the walk to stop', 30_000);
    await first.kill('SIGKILL');
    const stopped = (await admin(stack, 'GET', `/admin/v1/retries/${retryId}`)).body as { status: string; progress: { done: number } };
    expect(stopped.status).toBe('running');
    expect(stopped.progress.done).toBeGreaterThanOrEqual(4);
    expect(stopped.progress.done).toBeLessThan(8);
    expect(sim.stats().calls).toBe(calls);

    await stack.redis.del(blocker);
    expect((await admin(stack, 'POST', '/admin/v1/fleet/resume')).status).toBe(200);
    stack.spawnWorker();
    const done = await waitUntil(async () => {
      const res = await admin(stack, 'GET', `/admin/v1/retries/${retryId}`);
      return res.body.status === 'completed' ? res.body : undefined;
    }, 'the bulk retry to complete', 60_000);
    expect(done).toMatchObject({ planned: { matched: 8 }, progress: { matched: 8, done: 8, retried: 8, skipped: 0 } });
    expect((done.progress as { resumed: number }).resumed).toBeGreaterThanOrEqual(1);
    for (const id of [...newer, ...older]) {
      const record = await ended(stack, id);
      expect(record).toMatchObject({ status: 'succeeded', retries: 1 });
      expect(record.history).toHaveLength(1);
    }
    expect(sim.stats().paid - paid).toBe(8);
  });

  test('a bulk retry that crashed around a webhook re-send never re-sends twice, and queues a re-send the crash left out', async ({ launch }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN } });
    const hook = { ...body, webhook_url: stack.receiver.url };
    const [sent, lost] = await Promise.all([stack.generate(hook), stack.generate(hook)].map(async (r) => String((await r).body.id)));
    for (const id of [sent!, lost!]) expect(await ended(stack, id)).toMatchObject({ status: 'succeeded' });
    await stack.receiver.waitFor((d) => [sent, lost].every((id) => d.some((x) => x.payload?.data.id === id)));
    const resend = (id: string, n: number) => webhookId(id, 'image.generation.succeeded', 0, n);
    const noted = { retries: 0, webhook_resends: 0, action: 'resend_webhook' } as const;

    // The crash came after the re-send: it is not sent again.
    const afterSend = await resumeCrashed(stack, [sent!], { id: sent!, ...noted }, async () => {
      expect((await admin(stack, 'POST', `/admin/v1/generations/${sent}/retry`, { resend_webhook: true })).body).toMatchObject({ retried: 'resend_webhook' });
    });
    expect(afterSend).toMatchObject({ progress: { done: 1, retried: 1, resumed: 0, skipped: 0 } });
    expect(await stack.generations.get(sent!)).toMatchObject({ webhook_resends: 1 });
    expect(await stack.queues.notify.getJob(resend(sent!, 2))).toBeUndefined();
    const sentTwice = await stack.receiver.waitFor((d) => d.filter((x) => x.payload?.data.id === sent).length >= 2);
    expect(sentTwice.filter((x) => x.payload?.data.id === sent).map((x) => x.headers['webhook-id'])).toEqual([webhookId(sent!, 'image.generation.succeeded'), resend(sent!, 1)]);

    // The crash came between counting the re-send and queueing it: the same message is queued.
    const beforeQueue = await resumeCrashed(stack, [lost!], { id: lost!, ...noted }, async () => {
      await stack.generations.update(lost!, { webhook_resends: 1 });
    });
    expect(beforeQueue).toMatchObject({ progress: { done: 1, retried: 1, resumed: 1, skipped: 0 } });
    expect(await stack.generations.get(lost!)).toMatchObject({ webhook_resends: 1 });
    expect(await stack.queues.notify.getJob(resend(lost!, 2))).toBeUndefined();
    const lostResent = await stack.receiver.waitFor((d) => d.filter((x) => x.payload?.data.id === lost).length >= 2);
    expect(lostResent.filter((x) => x.payload?.data.id === lost).map((x) => x.headers['webhook-id'])).toEqual([webhookId(lost!, 'image.generation.succeeded'), resend(lost!, 1)]);
  });

  test('a job another admin retried while a crashed bulk retry was down, failed again, is still retried by it', async ({ launch, sim }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN, ZAI_MAX_ATTEMPTS: '1' } });
    sim.failNext('server_error_500', 2);
    const id = String((await stack.generate(body)).body.id);
    expect(await ended(stack, id)).toMatchObject({ status: 'failed' });
    const paid = sim.stats().paid;

    // Noted by the bulk retry (retries 0), which died before reopening it; meanwhile another
    // admin's retry reopened it, and that round failed too.
    const done = await resumeCrashed(stack, [id], { id, retries: 0, webhook_resends: 0, action: 'generate' }, async () => {
      expect((await admin(stack, 'POST', `/admin/v1/generations/${id}/retry`, {})).body).toMatchObject({ retried: 'generate' });
      expect(await ended(stack, id)).toMatchObject({ status: 'failed', retries: 1 });
    });
    expect(done).toMatchObject({ progress: { done: 1, retried: 1, resumed: 0, skipped: 0 } });
    const record = await ended(stack, id);
    expect(record).toMatchObject({ status: 'succeeded', retries: 2 });
    // The second round names the bulk retry that reopened it; the first, a single retry, none.
    expect(record.history?.map((round) => round.retry_id)).toEqual([undefined, done.id]);
    const view = await stack.request('GET', `/v1/images/generations/${id}`);
    expect((view.body.history as Record<string, unknown>[]).map((round) => 'retry_id' in round)).toEqual([false, false]);
    expect(sim.stats().paid - paid).toBe(1);
  });

  test('a retried job whose cancel_after has passed runs: the retry is an explicit request to run it', async ({ launch, sim }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN, ZAI_MAX_ATTEMPTS: '1' } });
    sim.failNext('server_error_500', 1);
    const id = String((await stack.generate(body)).body.id);
    await allFailed(stack, [id]);
    await stack.generations.update(id, { cancel_after: Date.now() - 1 });
    const retried = await admin(stack, 'POST', `/admin/v1/generations/${id}/retry`, {});
    expect(retried.body).toMatchObject({ retried: 'generate' });
    expect(await stack.waitForStatus(id, ['succeeded', 'failed', 'canceled'])).toMatchObject({ status: 'succeeded', retries: 1 });
  });

  test('a bulk retry can be aborted while it runs, once', async ({ launch }) => {
    // No worker: the retry stays running until aborted.
    const stack = await launch({ worker: false, env: { ADMIN_TOKEN: ADMIN } });
    const id = String((await stack.generate(body)).body.id);
    const started = await admin(stack, 'POST', '/admin/v1/retries', { ids: [id] });
    expect(started).toMatchObject({ status: 202, body: { status: 'running', who: 'admin', ids: [id] } });
    const retryId = String(started.body.id);
    const aborted = await admin(stack, 'POST', `/admin/v1/retries/${retryId}/abort`);
    expect(aborted.body).toMatchObject({ id: retryId, status: 'aborted' });
    expect((await admin(stack, 'POST', `/admin/v1/retries/${retryId}/abort`)).status).toBe(409);
    expect((await admin(stack, 'GET', `/admin/v1/retries/${retryId}`)).body).toMatchObject({ status: 'aborted' });
    const audit = (await admin(stack, 'GET', '/admin/v1/audit')).body.entries as { admin: string; action: string; retry?: string }[];
    expect(audit.filter((e) => e.retry === retryId).map((e) => [e.admin, e.action])).toEqual([
      ['admin', 'retries.abort'],
      ['admin', 'retries.start'],
    ]);
    expect((await admin(stack, 'POST', '/admin/v1/retries', { ids: [id], filter: {} })).status).toBe(400);
  });
});
