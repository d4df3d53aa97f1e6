/**
 * The OpenAPI description of the /v1/batches routes (batches.ts): their bodies, queries and answers.
 */
import { z } from 'zod';
import { STATUSES, batchViewSchema, jobViewSchema } from '@darkroom/shared';
import { API_KEY_SECURITY, BODY_PARSE_ERRORS, TENANT_ERRORS, errorResponses, json } from '../openapi.ts';
import { listOf } from '../list-schemas.ts';
import { batchJsonSchema, batchQuerySchema, itemSchema } from '../batches/batch-request.ts';
import type { ApiErrorCode } from '../errors.ts';

const tags = ['batches'];
const idParams = z.object({ id: z.string().meta({ description: 'The batch id: batch_ and 32 hex digits', examples: ['batch_5b0c3d6e0f0a4a51a4bba9c54b3f6a12'] }) });

const batchItemSchema = jobViewSchema
  .extend({
    custom_id: z.string().nullable().describe('As given in the request'),
    batch_index: z.number().int().min(0).nullable().describe('Its 0-based place in the batch'),
  })
  .meta({ id: 'BatchItem' });

const route = (summary: string, ok: ReturnType<typeof json>, ...more: ApiErrorCode[]) => ({
  summary,
  tags,
  security: API_KEY_SECURITY,
  response: { 200: ok, ...errorResponses(...TENANT_ERRORS, ...more) },
});

export function batchSchemas(promptMaxChars: number) {
  const jsonBody = batchJsonSchema.extend({
    requests: z.array(itemSchema(promptMaxChars)).min(1).describe('Generation requests, each with an optional custom_id (1–64 characters, unique in the batch)'),
  });
  const submit = {
    summary: 'Submit a batch of generations',
    description:
      'As JSON (`requests` and the options), or as a JSONL upload (application/x-ndjson: one request per line, the options as query parameters). ' +
      'Every request is checked first: one bad request refuses the whole batch (400, every bad line named). Answers 202 once every item is queued.',
    tags,
    security: API_KEY_SECURITY,
    headers: z.object({ 'idempotency-key': z.string().optional().describe('A repeat with the same key (and body) returns the same batch') }),
    querystring: batchQuerySchema.describe('For a JSONL upload only'),
    body: {
      content: {
        'application/json': { schema: jsonBody },
        'application/x-ndjson': { schema: z.string().describe('One generation request (JSON, with an optional custom_id) per line') },
      },
    },
    response: {
      202: json('The batch, queued (with a known Idempotency-Key: the batch that key created, Idempotent-Replayed: true)', batchViewSchema),
      ...errorResponses(...TENANT_ERRORS, 'validation_error', 'invalid_json', 'payload_too_large', 'unsupported_media_type', 'idempotency_conflict', 'quota_exceeded', 'queue_full'),
    },
  };
  return {
    submit,
    list: {
      ...route("The tenant's batches, newest first", json('A page of batches', listOf(batchViewSchema, 'BatchList')), 'validation_error'),
      querystring: z.object({ limit: z.number().int().min(1).max(1000).default(20).optional(), cursor: z.string().optional().describe('A next_cursor from an earlier page') }),
    },
    read: { ...route('Read a batch', json('The batch', batchViewSchema), 'not_found'), params: idParams },
    items: {
      ...route("A batch's items in input order", json('A page of items', listOf(batchItemSchema, 'BatchItemList')), 'not_found', 'validation_error'),
      params: idParams,
      querystring: z.object({
        limit: z.number().int().min(1).max(1000).default(100).optional(),
        cursor: z.string().optional().describe('A next_cursor from an earlier page'),
        status: z.enum(STATUSES).optional().describe('Only the items in this status'),
      }),
    },
    cancel: {
      ...route('Cancel a batch', json('The batch, canceling: its queued items are canceled, running ones finish', batchViewSchema), 'not_found', 'conflict', ...BODY_PARSE_ERRORS),
      description: 'Items that have not called Z.AI are canceled (never paid); those already running finish. 409 once the batch has ended.',
      params: idParams,
    },
  };
}
