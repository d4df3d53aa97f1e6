/**
 * How a finished generation's webhook event is queued, by whichever process finished it: the
 * worker's stages, the API's repair of open generations, an admin re-send. The notify job's id is
 * the webhook id, so queueing the same event again is a no-op (BullMQ ignores an add whose id
 * exists); the record's `webhook` state is set to `pending` once per event, never over what the
 * notify stage has written since.
 */
import { TERMINAL, type GenerationRecord, type GenerationStore } from './generation-record.ts';
import type { ImageLinker } from './image-links.ts';
import { generationEvent, webhookId } from './job-view.ts';
import { enqueueNotify, type Queues } from './queues.ts';

export interface AnnounceDeps {
  generations: GenerationStore;
  queues: Queues;
  links: ImageLinker;
}

/** Queues the record's terminal event when it has a webhook_url; a repeat is a no-op. */
export async function announce(deps: AnnounceDeps, record: GenerationRecord): Promise<void> {
  if (!record.webhook_url || !TERMINAL.has(record.status)) return;
  await queueEvent(deps, record, record.webhook_url, 0);
}

/** Queues the terminal event of a finished record again, as re-send number `resend` (a new message). */
export async function resendEvent(deps: AnnounceDeps, record: GenerationRecord, resend: number): Promise<void> {
  if (!record.webhook_url) return;
  await queueEvent(deps, record, record.webhook_url, resend);
}

/**
 * Queues re-send number `resend` of a finished record again if a crash left it out: not when its
 * notify job exists, nor when the notify stage has settled it (its job may be gone by retention).
 * True if it queued it.
 */
export async function requeueResend(deps: AnnounceDeps, record: GenerationRecord, resend: number): Promise<boolean> {
  if (!record.webhook_url || !TERMINAL.has(record.status)) return false;
  const id = webhookId(record.id, generationEvent(record, undefined).event, record.retries ?? 0, resend);
  if (await deps.queues.notify.getJob(id)) return false;
  if (record.webhook?.webhook_id === id && record.webhook.status !== 'pending') return false;
  await queueEvent(deps, record, record.webhook_url, resend);
  return true;
}

async function queueEvent(deps: AnnounceDeps, record: GenerationRecord, url: string, resend: number): Promise<void> {
  const imageUrl = record.result ? await deps.links(record.result.bucket, record.result.key) : undefined;
  const { event, body } = generationEvent(record, imageUrl);
  const id = webhookId(record.id, event, record.retries ?? 0, resend);
  if (resend > 0 || !record.webhook) {
    await deps.generations.update(record.id, { webhook: { event, webhook_id: id, status: 'pending', attempts: 0 } });
  }
  await enqueueNotify(deps.queues, { id: record.id, tenant: record.tenant, event, webhook_id: id, url, body });
}
