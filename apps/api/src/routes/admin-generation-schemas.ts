/**
 * The OpenAPI description of the admin search and retry routes (admin-generations.ts).
 */
import { z } from 'zod';
import { RETRY_STATUSES, adminFilterSchema, retryRequestSchema } from '@darkroom/shared';
import { ADMIN_SECURITY, errorResponses, json } from '../openapi.ts';
import { adminGenerationSchema, listOf, pagingQuery } from '../list-schemas.ts';
import type { ApiErrorCode } from '../errors.ts';

const count = z.number().int().min(0);
const counts = z.record(z.string(), count);

const retryCountsSchema = z.object({
  matched: count,
  by_error_code: counts,
  by_stage: counts,
  actions: z.object({ store: count, generate: count, resend_webhook: count }).describe('Copy a saved answer again (store), call Z.AI again (generate, paid), re-send a webhook'),
  skipped: counts.describe('By reason'),
  resumed: count.describe('Of actions: jobs a crashed retry had reopened without a job, whose job would be added again'),
  new_paid_calls: count.describe('Generations whose retry needs a new paid Z.AI call'),
});

const retryViewSchema = z
  .object({
    id: z.string().regex(/^retry_[0-9a-f]{32}$/),
    object: z.literal('retry'),
    status: z.enum(RETRY_STATUSES),
    who: z.string().describe('The admin token name that started it'),
    created_at: z.iso.datetime().nullable(),
    updated_at: z.iso.datetime().nullable(),
    completed_at: z.iso.datetime().nullable(),
    ids: z.array(z.string()).nullable(),
    filter: z.record(z.string(), z.unknown()).nullable().describe('The filter as parsed (times in epoch ms)'),
    resend_webhook: z.boolean(),
    planned: retryCountsSchema.nullable().describe('The dry-run counts of what it matched when it started'),
    progress: z.object({ matched: count, done: count, retried: count, resumed: count.describe('Of retried: jobs a crashed retry had reopened without a job, added again, or whose webhook it had re-sent without queueing the message, queued again'), skipped: count, skipped_by_reason: counts, snapshotted: z.boolean().describe('The dry-run counts (planned) are taken and the walk has begun') }),
  })
  .meta({ id: 'Retry' });

const tags = ['admin'];
const idParams = (what: string) => z.object({ id: z.string().describe(what) });
const admin = (summary: string, ok: Record<number, unknown>, ...more: ApiErrorCode[]) => ({
  summary,
  tags,
  security: ADMIN_SECURITY,
  response: { ...ok, ...errorResponses('unauthorized', 'service_unavailable', ...more) },
});

export const adminGenerationSchemas = {
  search: {
    ...admin('Search every tenant\'s generations, newest first', { 200: json('A page of generations', listOf(adminGenerationSchema, 'AdminGenerationList')) }, 'validation_error'),
    description: 'Filters: tenant, status, batch_id, error_code, stage, paid, created_after and created_before (epoch ms or ISO 8601, exclusive).',
    querystring: adminFilterSchema.extend(pagingQuery.shape),
  },
  retryOne: {
    ...admin(
      'Retry one generation',
      { 200: json('What the retry does, and the generation now', z.object({ retried: z.enum(['store', 'generate', 'resend_webhook']), resumed: z.literal(true).optional().describe('Only the job a crashed retry had left out was added'), generation: adminGenerationSchema.nullable() })) },
      'validation_error', 'invalid_json', 'not_found', 'conflict',
    ),
    description: 'A saved Z.AI answer is copied again rather than paid for again. 409 when it cannot be retried (not failed, content filtered, …). Audited.',
    params: idParams('The generation id'),
    body: z.object({ resend_webhook: z.boolean().default(false).optional() }).optional(),
  },
  startRetries: {
    ...admin(
      'Retry many generations (by ids or filter), or count what that would do',
      {
        200: json('With dry_run: the counts', retryCountsSchema.extend({ object: z.literal('retry.dry_run') })),
        202: json('The retry, started (Location: its URL)', retryViewSchema),
      },
      'validation_error', 'invalid_json',
    ),
    description: 'Give `ids` or `filter`. Run by the worker; audited.',
    body: retryRequestSchema,
  },
  listRetries: {
    ...admin('The bulk retries, newest first', {
      200: json('A page of retries', z.object({ object: z.literal('list'), data: z.array(retryViewSchema), next_before: z.number().int().nullable().describe('Pass as `before` for the next page') })),
    }, 'validation_error'),
    querystring: z.object({ limit: z.number().int().min(1).max(100).default(20).optional(), before: z.number().int().optional() }),
  },
  readRetry: { ...admin('Read a bulk retry', { 200: json('The retry', retryViewSchema) }, 'not_found'), params: idParams('The retry id') },
  abortRetry: {
    ...admin('Abort a running bulk retry', { 200: json('The retry, aborted', retryViewSchema) }, 'not_found', 'conflict'),
    description: 'Generations already retried stay retried. Audited.',
    params: idParams('The retry id'),
  },
};
