/**
 * The body of every webhook: the event, when the job ended, and the job view (the same object
 * GET /v1/images/generations/:id answers). The worker sends it; the OpenAPI document's `webhooks`
 * describe it, so receivers can generate types for it too.
 */
import { z } from 'zod';
import { jobViewSchema } from './job-view.ts';
import { WEBHOOK_EVENTS, type WebhookEvent } from './queues.ts';

/** The events whose body is a generation's job view (batch.completed carries a batch instead). */
export const GENERATION_EVENTS = WEBHOOK_EVENTS.filter((event): event is Extract<WebhookEvent, `image.generation.${string}`> => event.startsWith('image.generation.'));

export const webhookBodySchema = z
  .object({
    type: z.enum(GENERATION_EVENTS),
    timestamp: z.iso.datetime().describe('When the job ended'),
    data: jobViewSchema,
  })
  .meta({
    id: 'GenerationEvent',
    description: 'Signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature headers) with the tenant webhook secret',
  });
export type WebhookBody = z.output<typeof webhookBodySchema>;
