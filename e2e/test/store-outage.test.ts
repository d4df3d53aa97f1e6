/**
 * A paid image is never thrown away by the store stage: an S3 outage, however long, is waited out
 * for as long as Z.AI's image URL is valid (STORE_RETRY_HOURS at most), without calling Z.AI again.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';
import { startImageHost } from './image-host.ts';
import { startS3FaultProxy } from './s3-fault-proxy.ts';
import { savedAnswer, storedKeys } from './saved-answer.ts';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const body = { model: 'cogview-4-250304', prompt: 'an S3 outage', size: '512x512' };
/** What the store stage gave up after before: STORE_MAX_ATTEMPTS' default. */
const OLD_MAX_ATTEMPTS = 8;

/** Resolves once every store job has started `attempts` copies; 'failed' as soon as one job failed. */
function copiesRetried(stack: Stack, ids: string[], attempts: number) {
  return waitUntil(
    async () => {
      const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
      if (records.some((r) => r?.status === 'failed')) return 'failed';
      const jobs = await Promise.all(ids.map((id) => stack.queues.store.getJob(`${id}-r0`)));
      return jobs.every((job) => job && job.attemptsStarted >= attempts) ? 'retrying' : undefined;
    },
    `every copy to be tried ${attempts} times`,
    60_000,
  );
}

describe('store stage outages', () => {
  test('keeps copying through an S3 outage longer than the old retry span, then stores every image with no new Z.AI call', async ({ launch, sim }) => {
    const proxy = await startS3FaultProxy(inject('s3').endpoint);
    const stack = await launch({ env: { S3_ENDPOINT: proxy.endpoint, STORE_BACKOFF_MS: '20', STORE_BACKOFF_MAX_MS: '200' } });
    try {
      proxy.set({ mode: 'down' });
      const ids = await Promise.all([1, 2, 3].map(async () => String((await stack.generate(body)).body.id)));
      expect(await copiesRetried(stack, ids, OLD_MAX_ATTEMPTS + 2)).toBe('retrying');

      for (const id of ids) {
        const view = (await stack.request('GET', `/v1/images/generations/${id}`)).body;
        expect(view).toMatchObject({ status: 'storing', error: null, result: null });
        expect(String(view.next_attempt_at)).toMatch(/^\d{4}-\d\d-\d\dT/);
        expect((await stack.generations.get(id))?.last_error).toMatchObject({ code: 'image_copy_failed' });
      }
      expect(proxy.refused).toBeGreaterThan(0);
      await expectPaid(sim, { jobs: 3, undelivered: 0 });

      proxy.set({ mode: 'up' });
      const issued = new Set(sim.issuedImages().map((image) => image.sha256));
      for (const id of ids) {
        const done = await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000);
        expect(done).toMatchObject({ status: 'succeeded', next_attempt_at: null });
        const result = done.result as { sha256: string; key: string; bucket: string };
        const stored = await stack.s3.send(new GetObjectCommand({ Bucket: result.bucket, Key: result.key }));
        const sha256 = createHash('sha256').update(await stored.Body!.transformToByteArray()).digest('hex');
        expect(sha256).toBe(result.sha256);
        expect(issued.has(sha256)).toBe(true);
      }
      await expectPaid(sim, { jobs: 3, undelivered: 0 });
      expect(sim.stats().calls).toBe(3);
    } finally {
      proxy.set({ mode: 'up' });
      await stack.close(); // its clean-up goes through the proxy
      await proxy.close();
    }
  });

  test('fails a copy only once its retry window is over, with the last error and no new Z.AI call', async ({ launch, sim }) => {
    const proxy = await startS3FaultProxy(inject('s3').endpoint);
    const windowMs = 1_800;
    const stack = await launch({
      env: { S3_ENDPOINT: proxy.endpoint, STORE_BACKOFF_MS: '20', STORE_BACKOFF_MAX_MS: '200', STORE_RETRY_HOURS: String(windowMs / 3_600_000) },
    });
    try {
      proxy.set({ mode: 'down' });
      const id = String((await stack.generate(body)).body.id);
      const done = await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000);
      expect(done).toMatchObject({ status: 'failed', next_attempt_at: null, error: { code: 'image_copy_failed' } });
      const record = await stack.generations.get(id);
      // It gives up when the next attempt would fall after the window: at most one backoff (200 ms) early.
      expect(record!.completed_at! - record!.zai!.received_at).toBeGreaterThanOrEqual(windowMs - 200);
      expect((await stack.queues.store.getJob(`${id}-r0`))?.attemptsStarted).toBeGreaterThan(1);
      expect(sim.stats().calls).toBe(1);
    } finally {
      proxy.set({ mode: 'up' });
      await stack.close();
      await proxy.close();
    }
  });

  test('a store job written by an older deploy, with its own small attempt cap, is still retried until it stores', async ({ launch }) => {
    const proxy = await startS3FaultProxy(inject('s3').endpoint);
    const host = await startImageHost({ oversizedBytes: 0 });
    const stack = await launch({ env: { S3_ENDPOINT: proxy.endpoint, STORE_BACKOFF_MS: '20', STORE_BACKOFF_MAX_MS: '200' } });
    try {
      proxy.set({ mode: 'down' });
      const id = await savedAnswer(stack, host.url, {
        attempts: 2,
        backoff: { type: 'exponential', delay: 20, jitter: 0.5 },
        removeOnComplete: { age: 3600 },
        removeOnFail: { age: 3600 },
      });
      expect(await copiesRetried(stack, [id], 4)).toBe('retrying');
      proxy.set({ mode: 'up' });
      const done = await stack.waitForStatus(id, ['succeeded', 'failed'], 30_000);
      expect(done.status).toBe('succeeded');
      expect((done.result as { sha256: string }).sha256).toBe(createHash('sha256').update(host.image).digest('hex'));
      expect(await storedKeys(stack)).toEqual([(done.result as { key: string }).key]);
    } finally {
      proxy.set({ mode: 'up' });
      await stack.close();
      await proxy.close();
      await host.close();
    }
  });
});
