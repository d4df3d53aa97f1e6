/**
 * The job object callers see: the body of GET /v1/images/generations/:id and the `data` of every
 * webhook. Built in one place so the two can never drift.
 */
import type { GenerationRecord } from './generation-record.ts';
import type { WebhookEvent } from './queues.ts';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function toJobView(record: GenerationRecord, imageUrl: string | undefined) {
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
    ...(record.retries ? { retries: record.retries, history: record.history ?? [] } : {}),
    ...(record.batch_id ? { batch_id: record.batch_id } : {}),
  };
}
export type JobView = ReturnType<typeof toJobView>;

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
