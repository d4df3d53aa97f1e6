/**
 * The batch object callers see (toBatchView in batch-record.ts): the body of the /v1/batches
 * routes and the `data` of the batch.completed webhook. The response schema of those routes, and a
 * type toBatchView's answer must satisfy where the API sends it.
 */
import { z } from 'zod';
import { BATCH_STATUSES } from './batch-record.ts';

const timestamp = z.iso.datetime().nullable();
const count = z.number().int().min(0);

export const batchViewSchema = z
  .object({
    id: z.string().regex(/^batch_[0-9a-f]{32}$/),
    object: z.literal('batch'),
    status: z.enum(BATCH_STATUSES),
    request_counts: z.object({ total: count, queued: count, running: count, succeeded: count, failed: count, canceled: count }),
    created_at: timestamp,
    in_progress_at: timestamp,
    canceling_at: timestamp,
    finalizing_at: timestamp,
    completed_at: timestamp,
    cancel_after: timestamp.describe('Items that have not started by then are canceled, and the batch ends expired'),
    estimated_completion_at: timestamp.describe('While it runs, from its rate so far'),
    webhook_url: z.string().nullable(),
    item_webhooks: z.boolean().describe('Every item sends its own image.generation.* event as well'),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    results: z
      .object({
        bucket: z.string().nullable(),
        key: z.string(),
        bytes: z.number().int().nullable(),
        url: z.string().nullable().describe('A presigned (or public) URL of results.jsonl'),
      })
      .nullable()
      .describe('The results file in S3, once the batch has ended'),
    estimated_cost: z
      .object({ per_image: z.number(), images: count, total: z.number() })
      .nullable()
      .describe('With PRICE_PER_IMAGE set: what the batch costs at most'),
  })
  .meta({
    id: 'Batch',
    examples: [
      {
        id: 'batch_5b0c3d6e0f0a4a51a4bba9c54b3f6a12',
        object: 'batch',
        status: 'in_progress',
        request_counts: { total: 1000, queued: 430, running: 16, succeeded: 550, failed: 3, canceled: 1 },
        created_at: '2026-01-05T10:00:00.000Z',
        in_progress_at: '2026-01-05T10:00:01.200Z',
        canceling_at: null,
        finalizing_at: null,
        completed_at: null,
        cancel_after: null,
        estimated_completion_at: '2026-01-05T10:01:20.000Z',
        webhook_url: 'https://example.com/hooks/darkroom',
        item_webhooks: false,
        metadata: { campaign: 'spring' },
        results: null,
        estimated_cost: null,
      },
    ],
  });
export type BatchViewBody = z.output<typeof batchViewSchema>;

/** The body of the batch.completed webhook. */
export const batchEventSchema = z
  .object({
    type: z.literal('batch.completed'),
    timestamp: z.iso.datetime().describe('When the batch ended'),
    data: batchViewSchema,
  })
  .meta({
    id: 'BatchEvent',
    description: 'Signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature headers) with the tenant webhook secret',
  });
