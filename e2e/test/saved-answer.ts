/**
 * A generation whose Z.AI answer is already saved, with its image URL wherever a test points it,
 * handed to the store stage as the generate stage would. Lets a test choose how the image host
 * behaves without a paid call in between.
 */
import { S3Client, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { QUEUE, enqueueStore, newGenerationId } from '@darkroom/shared';
import { queuedRecord } from '@darkroom/shared/testing';
import type { Stack } from './stack.ts';

type JobsOptions = NonNullable<Parameters<Stack['queues']['store']['add']>[2]>;

/** `legacyOpts`: add the store job as an older deploy did, with its own attempts, backoff and retention. */
export async function savedAnswer(stack: Stack, url: string, legacyOpts?: JobsOptions): Promise<string> {
  const id = await savedRecord(stack, url);
  if (legacyOpts) await stack.queues.store.add(QUEUE.store, { v: 1, id, tenant: stack.tenant }, { ...legacyOpts, jobId: `${id}-r0` });
  else await enqueueStore(stack.queues, { id, tenant: stack.tenant });
  return id;
}

/** Only the record with its saved answer, as the generate stage leaves it just after the save. */
export async function savedRecord(stack: Stack, url: string): Promise<string> {
  const id = newGenerationId();
  const now = Date.now();
  await stack.generations.create({
    id,
    tenant: stack.tenant,
    status: 'storing',
    request: { model: 'cogview-4-250304', prompt: 'a saved answer', quality: 'standard', size: '512x512' },
    created_at: now,
    updated_at: now,
    started_at: now,
    attempts: 1,
    paid_generations: 1,
    regenerations: 0,
    zai: { created: Math.floor(now / 1000), url, content_filter: [{ role: 'assistant', level: 3 }], received_at: now },
  });
  return id;
}

/**
 * A generation as the store stage leaves it after an expired image URL, before it adds the
 * generate job of the new round: back to `queued`, its answer cleared, one regeneration counted
 * (and its first paid answer). Only the record: the test adds the jobs it needs.
 */
export async function regeneratingRecord(stack: Stack): Promise<string> {
  const now = Date.now();
  const record = queuedRecord({
    tenant: stack.tenant,
    request: { model: 'cogview-4-250304', prompt: 'a regenerated answer', quality: 'standard', size: '512x512' },
    created_at: now,
    started_at: now,
    started: '1',
    attempts: 1,
    paid_generations: 1,
    regenerations: 1,
    last_error: { code: 'image_expired', message: 'the image URL answered 403' },
  });
  await stack.generations.create(record);
  return record.id;
}

/** Keys stored under the stack's tenant, read from the test S3 server itself (not through a proxy). */
export async function storedKeys(stack: Stack): Promise<string[]> {
  const s3 = inject('s3');
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `images/${stack.tenant}/` }));
    return (listed.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
  } finally {
    client.destroy();
  }
}
