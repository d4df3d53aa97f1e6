/**
 * The job object callers see: the body of GET /v1/images/generations/:id and the `data` of every
 * webhook. Built in one place so the two can never drift.
 */
import type { GenerationRecord } from './generation-record.ts';

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
    ...(record.batch_id ? { batch_id: record.batch_id } : {}),
  };
}
export type JobView = ReturnType<typeof toJobView>;
