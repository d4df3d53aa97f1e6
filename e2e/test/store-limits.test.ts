/**
 * Nothing in the store stage waits without end, and nothing oversized or not an image is kept:
 * a trickling image host, a silent S3 (on upload, then on the read-back) and bodies over
 * IMAGE_MAX_BYTES each fail their attempt in bounded time with no object left. A slow or silent
 * host or S3 is retried from the saved URL until it succeeds; an image too large fails at once, a
 * body that is not an image after a few attempts in a row.
 */
import { createHash } from 'node:crypto';
import { inject } from 'vitest';
import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';
import { startImageHost } from './image-host.ts';
import { startS3FaultProxy } from './s3-fault-proxy.ts';
import { savedAnswer, storedKeys } from './saved-answer.ts';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const body = { model: 'cogview-4-250304', prompt: 'bounded', size: '512x512' };
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The record's last error once it has `code`, while the job is still waiting to retry. */
async function failedAttempt(stack: Stack, id: string, code: string, timeoutMs = 15_000) {
  return waitUntil(
    async () => {
      const record = await stack.generations.get(id);
      return record?.last_error?.code === code ? record : undefined;
    },
    `an attempt of ${id} to fail with ${code}`,
    timeoutMs,
  );
}

describe('store stage deadlines', () => {
  test('an image host that trickles its body fails the attempt at IMAGE_DOWNLOAD_TIMEOUT_MS, then the copy is retried', async ({ launch }) => {
    // One byte every 50 ms never trips an idle timeout; only a total deadline ends this download.
    const host = await startImageHost({ oversizedBytes: 100_000, trickleMs: 50 });
    const stack = await launch({ env: { IMAGE_DOWNLOAD_TIMEOUT_MS: '1500', STORE_BACKOFF_MS: '500' } });
    try {
      host.answer('trickle');
      const id = await savedAnswer(stack, host.url);
      const record = await failedAttempt(stack, id, 'image_download_timeout');
      expect(record.status).toBe('storing');
      expect(record.next_attempt_at).toBeGreaterThan(record.updated_at - 1);
      await waitUntil(() => host.abandoned >= 1 || undefined, 'the worker to hang up on the trickle');
      expect(await storedKeys(stack)).toEqual([]);

      host.answer('image');
      const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
      expect(done.status).toBe('succeeded');
      expect((done.result as { sha256: string }).sha256).toBe(sha256(host.image));
    } finally {
      await host.close(); // first: ends a download that would otherwise hold the worker's close
      await stack.close();
    }
  });

  test('a silent S3, on the upload and then on the read-back, fails each attempt in bounded time and leaves no object', async ({ launch, sim }) => {
    const proxy = await startS3FaultProxy(inject('s3').endpoint);
    const stack = await launch({
      env: { S3_ENDPOINT: proxy.endpoint, S3_TIMEOUT_MS: '500', IMAGE_DOWNLOAD_TIMEOUT_MS: '1500', STORE_BACKOFF_MS: '300' },
    });
    try {
      proxy.set({ mode: 'silent', methods: ['PUT'] });
      const id = String((await stack.generate(body)).body.id);
      expect((await failedAttempt(stack, id, 'image_download_timeout')).status).toBe('storing');

      proxy.set({ mode: 'silent', methods: ['GET'] });
      expect((await failedAttempt(stack, id, 's3_timeout')).status).toBe('storing');
      expect(await storedKeys(stack)).toEqual([]);
      expect(proxy.refused).toBeGreaterThanOrEqual(2);

      proxy.set({ mode: 'up' });
      const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
      expect(done.status).toBe('succeeded');
      expect((done.result as { sha256: string }).sha256).toBe(sim.issuedImages()[0]!.sha256);
      await expectPaid(sim, { jobs: 1, undelivered: 0 });
    } finally {
      proxy.set({ mode: 'up' });
      await stack.close();
      await proxy.close();
    }
  });
});

describe('store stage: errors of the image itself', () => {
  test.for([
    ['oversized', /by its Content-Length/],
    ['oversized_chunked', /more than 2048 bytes/],
  ] as const)('%s: a body over IMAGE_MAX_BYTES fails the job at once, without writing an object or calling Z.AI', async ([answer, message], { launch, sim }) => {
    const host = await startImageHost({ oversizedBytes: 4096 });
    const stack = await launch({ env: { IMAGE_MAX_BYTES: '2048', STORE_BACKOFF_MS: '50' } });
    try {
      host.answer(answer);
      const id = await savedAnswer(stack, host.url);
      const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
      expect(done).toMatchObject({ status: 'failed', error: { code: 'image_too_large' } });
      expect((done.error as { message: string }).message).toMatch(message);
      expect(host.requests).toBe(1);
      expect(await storedKeys(stack)).toEqual([]);
      expect(sim.stats().calls).toBe(0);
    } finally {
      await stack.close();
      await host.close();
    }
  });

  test('a URL that keeps answering something other than an image fails after IMAGE_CONTENT_ATTEMPTS attempts, not at the end of its window', async ({ launch, sim }) => {
    const IMAGE_CONTENT_ATTEMPTS = 3;
    const host = await startImageHost({ oversizedBytes: 0 });
    const stack = await launch({ env: { STORE_BACKOFF_MS: '50', IMAGE_CONTENT_ATTEMPTS: String(IMAGE_CONTENT_ATTEMPTS) } });
    try {
      host.answer('html');
      const id = await savedAnswer(stack, host.url);
      const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
      expect(done).toMatchObject({ status: 'failed', error: { code: 'image_wrong_type' } });
      expect(host.requests).toBe(IMAGE_CONTENT_ATTEMPTS);
      expect(await storedKeys(stack)).toEqual([]);
      expect(sim.stats().calls).toBe(0);
    } finally {
      await stack.close();
      await host.close();
    }
  });
});
