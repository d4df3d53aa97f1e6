/**
 * The job object callers see: the body of GET /v1/images/generations/:id and the `data` of every
 * webhook. Built in one place so the two can never drift.
 */
import { z } from 'zod';
import { STATUSES, type GenerationRecord } from './generation-record.ts';
import { ZAI_MODEL } from './generation-request.ts';
import type { WebhookEvent } from './queues.ts';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

const timestamp = z.iso.datetime().nullable();

/** The job view as clients receive it: the response schema of the generation routes and webhooks. */
export const jobViewSchema = z
  .object({
    id: z.string().regex(/^gen_[0-9a-f]{32}$/),
    object: z.literal('image.generation'),
    status: z.enum(STATUSES),
    created_at: timestamp,
    updated_at: timestamp,
    started_at: timestamp,
    completed_at: timestamp,
    next_attempt_at: timestamp.describe('After a failed copy of the image, until the job ends: when the copy is tried again'),
    attempts: z.number().int().min(0),
    request: z
      .object({
        model: z.string().meta({ examples: [ZAI_MODEL] }),
        prompt: z.string(),
        quality: z.enum(['hd', 'standard']),
        size: z.string(),
        user_id: z.string().optional(),
      })
      .describe('The Z.AI request, normalised: defaults filled in, the model lower-cased'),
    webhook_url: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    result: z
      .object({
        url: z.string().describe('A presigned (or public) URL of the stored image'),
        bucket: z.string(),
        key: z.string(),
        sha256: z.string(),
        bytes: z.number().int(),
        content_type: z.string(),
        width: z.number().int(),
        height: z.number().int(),
      })
      .nullable()
      .describe('Set once status is succeeded'),
    created: z.number().int().nullable().describe("Z.AI's `created` (Unix seconds) of the paid generation"),
    content_filter: z.array(z.object({ role: z.string(), level: z.number() })).nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable().describe('Set once status is failed'),
    retries: z.number().int().min(1).optional().describe('Admin retries so far; absent when never retried'),
    history: z
      .array(
        z.object({
          status: z.enum(STATUSES),
          error: z.object({ code: z.string(), message: z.string() }).nullable(),
          failed_stage: z.string().nullable(),
          started_at: z.number().int().nullable().describe('Epoch ms'),
          completed_at: z.number().int().nullable().describe('Epoch ms'),
          attempts: z.number().int().min(0),
          paid_generations: z.number().int().min(0),
          retried_at: z.number().int().describe('Epoch ms'),
          retried_by: z.string().describe('The admin token name that asked for the retry'),
        }),
      )
      .optional()
      .describe('With retries: each earlier round as it ended, oldest first'),
    batch_id: z.string().optional(),
  })
  .meta({
    id: 'Generation',
    examples: [
      {
        id: 'gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f',
        object: 'image.generation',
        status: 'succeeded',
        created_at: '2026-01-05T10:00:00.000Z',
        updated_at: '2026-01-05T10:00:09.512Z',
        started_at: '2026-01-05T10:00:00.120Z',
        completed_at: '2026-01-05T10:00:09.512Z',
        next_attempt_at: null,
        attempts: 1,
        request: { model: 'cogview-4-250304', prompt: 'a red bicycle leaning on a wall', quality: 'standard', size: '1024x1024' },
        webhook_url: null,
        metadata: { order: 'A-1001' },
        result: {
          url: 'https://images.example.com/darkroom/gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f.png',
          bucket: 'darkroom',
          key: 'gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f.png',
          sha256: 'a3f1c9e07b2d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef',
          bytes: 1482311,
          content_type: 'image/png',
          width: 1024,
          height: 1024,
        },
        created: 1767607208,
        content_filter: [{ role: 'assistant', level: 3 }],
        error: null,
      },
      {
        id: 'gen_7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d',
        object: 'image.generation',
        status: 'queued',
        created_at: '2026-01-05T10:00:00.000Z',
        updated_at: '2026-01-05T10:00:00.000Z',
        started_at: null,
        completed_at: null,
        next_attempt_at: null,
        attempts: 0,
        request: { model: 'cogview-4-250304', prompt: 'a lighthouse at dusk', quality: 'hd', size: '1440x720' },
        webhook_url: 'https://example.com/hooks/darkroom',
        metadata: null,
        result: null,
        created: null,
        content_filter: null,
        error: null,
      },
    ],
  });
export type JobView = z.output<typeof jobViewSchema>;

export function toJobView(record: GenerationRecord, imageUrl: string | undefined): JobView {
  return {
    id: record.id,
    object: 'image.generation' as const,
    status: record.status,
    created_at: iso(record.created_at),
    updated_at: iso(record.updated_at),
    started_at: iso(record.started_at),
    completed_at: iso(record.completed_at),
    next_attempt_at: iso(record.next_attempt_at),
    attempts: record.attempts,
    request: record.request,
    webhook_url: record.webhook_url ?? null,
    metadata: record.metadata ?? null,
    result:
      record.status === 'succeeded' && record.result && imageUrl
        ? { url: imageUrl, ...record.result }
        : null,
    created: record.zai?.created ?? null,
    content_filter: record.zai?.content_filter ?? null,
    error: record.error ?? null,
    // A round's `retry_id` is the walk's own bookkeeping, not part of the contract.
    ...(record.retries ? { retries: record.retries, history: (record.history ?? []).map(({ retry_id: _, ...round }) => round) } : {}),
    ...(record.batch_id ? { batch_id: record.batch_id } : {}),
  };
}
const GENERATION_EVENT = {
  succeeded: 'image.generation.succeeded',
  failed: 'image.generation.failed',
  canceled: 'image.generation.canceled',
} as const satisfies Record<string, WebhookEvent>;

/**
 * One id per (subject, event, round): a repeat of the same event is the same message, never a
 * second one; an admin retry's round (`retry` > 0) or a re-send (`resend` > 0) is a new message.
 */
export function webhookId(id: string, event: WebhookEvent, retry = 0, resend = 0): string {
  const base = `msg_${id}_${event.slice(event.lastIndexOf('.') + 1)}`;
  return `${base}${retry > 0 ? `_t${retry}` : ''}${resend > 0 ? `_s${resend}` : ''}`;
}

/** The terminal event of a finished generation and its exact body. */
export function generationEvent(record: GenerationRecord, imageUrl: string | undefined): { event: WebhookEvent; body: string } {
  const event = GENERATION_EVENT[record.status as keyof typeof GENERATION_EVENT];
  const body = JSON.stringify({
    type: event,
    timestamp: new Date(record.completed_at ?? Date.now()).toISOString(),
    data: toJobView(record, imageUrl),
  });
  return { event, body };
}
