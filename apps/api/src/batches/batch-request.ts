/**
 * What POST /v1/batches accepts. Each request is a generation request (the schema of
 * POST /v1/images/generations) plus `custom_id` (1–64 characters, unique within the batch); the
 * batch's options come as body fields (JSON) or query parameters (JSONL).
 */
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { cancelAfterSchema, generationRequestSchema, metadataSchema, webhookUrlSchema, type GenerationRequest } from '@darkroom/shared';
import { fieldProblems, type FieldProblem } from '../errors.ts';

export const BATCH_JSON_MAX_REQUESTS = 10_000;
export const BATCH_JSONL_MAX_LINES = 100_000;
/** A valid line is far smaller (a 4,000-character prompt and 4 KiB of metadata). */
export const BATCH_LINE_MAX_BYTES = 256 * 1024;
/** Bad lines named in a 400; the total is counted past it. */
export const BAD_LINES_REPORTED = 100;

export type BatchItemRequest = GenerationRequest & { custom_id?: string | undefined };

export interface BatchOptions {
  webhook_url?: string | undefined;
  item_webhooks?: boolean | undefined;
  metadata?: Record<string, unknown> | undefined;
  cancel_after?: number | undefined;
}

const options = {
  webhook_url: webhookUrlSchema.optional(),
  metadata: metadataSchema.optional(),
  cancel_after: cancelAfterSchema.optional(),
};

export const batchJsonSchema = z.strictObject({
  requests: z
    .array(z.unknown(), { error: 'must be an array of generation requests' })
    .min(1, 'must hold at least one request')
    .max(BATCH_JSON_MAX_REQUESTS, `must hold at most ${BATCH_JSON_MAX_REQUESTS} requests; upload JSONL for more`),
  ...options,
  item_webhooks: z.boolean({ error: 'must be true or false' }).optional(),
});

export const batchQuerySchema = z.strictObject({
  ...options,
  metadata: z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(metadataSchema)
    .optional(),
  item_webhooks: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true').optional(),
});

export function itemSchema(promptMaxChars: number) {
  return generationRequestSchema({ promptMaxChars }).extend({
    custom_id: z.string({ error: 'must be a string' }).min(1, 'must be 1 to 64 characters').max(64, 'must be 1 to 64 characters').optional(),
  });
}
type ItemSchema = ReturnType<typeof itemSchema>;

/**
 * Checks one request: its problems (each with its line), or the parsed request. `customIds` holds
 * the custom_ids seen so far, and gets this one.
 */
export function checkItem(schema: ItemSchema, value: unknown, line: number, customIds: Set<string>): BatchItemRequest | FieldProblem[] {
  const at = (problems: FieldProblem[]) => problems.map((p) => ({ line, ...p }));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return at([{ field: '(line)', message: 'must be a JSON object' }]);
  let parsed;
  try {
    parsed = schema.safeParse(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return at([{ field: '(line)', message: 'is nested too deeply' }]);
  }
  if (!parsed.success) return at(fieldProblems(parsed.error.issues));
  const item = parsed.data;
  if (item.webhook_url !== undefined) {
    return at([{ field: 'webhook_url', message: "is set per batch: use the batch's webhook_url (with item_webhooks for per-item events)" }]);
  }
  if (item.custom_id !== undefined) {
    if (customIds.has(item.custom_id)) return at([{ field: 'custom_id', message: `duplicates an earlier request's custom_id "${item.custom_id}"` }]);
    customIds.add(item.custom_id);
  }
  return item;
}

/** Parses one JSONL line (bytes without its line end) and checks it. */
export function checkLine(schema: ItemSchema, bytes: Buffer | undefined, line: number, customIds: Set<string>): BatchItemRequest | FieldProblem[] {
  if (bytes === undefined) return [{ line, field: '(line)', message: `is longer than ${BATCH_LINE_MAX_BYTES} bytes` }];
  if (!isUtf8(bytes)) return [{ line, field: '(line)', message: 'is not valid UTF-8' }];
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return [{ line, field: '(line)', message: `is not valid JSON: ${(err as Error).message}` }];
  }
  return checkItem(schema, value, line, customIds);
}
