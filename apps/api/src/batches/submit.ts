/**
 * POST /v1/batches: checks every request before anything is queued. A JSON body is parsed whole
 * (at most BATCH_JSON_MAX_REQUESTS); a JSONL upload is read line by line as it arrives, each line
 * checked and its record written (the batch still `validating`) before the next is read, so memory
 * holds one chunk of records, never the file. Any bad request refuses the whole batch (400 naming
 * up to BAD_LINES_REPORTED of them, and how many there were) and deletes what was written; so do
 * a quota and an upload cut off midway. Nothing refused was ever pending dispatch.
 */
import type { FastifyBaseLogger } from 'fastify';
import { BatchStore, EXPIRED, cancelQueuedItems, checkUrl, newBatchId, type BatchRecord } from '@darkroom/shared';
import type { ApiContext } from '../context.ts';
import type { z } from 'zod';
import { ApiError, queueFull, quotaExceeded, validationError, type FieldProblem } from '../errors.ts';
import { fingerprint, parseClaim, type IdempotencyClaim } from '../idempotency.ts';
import {
  BAD_LINES_REPORTED,
  BATCH_JSONL_MAX_LINES,
  BATCH_LINE_MAX_BYTES,
  batchJsonSchema,
  batchQuerySchema,
  checkItem,
  checkLine,
  itemSchema,
  type BatchItemRequest,
  type BatchOptions,
} from './batch-request.ts';
import { BatchIntake } from './intake.ts';
import { UploadLines } from './jsonl-lines.ts';

export type BatchSource = { kind: 'json'; body: unknown } | { kind: 'jsonl'; stream: AsyncIterable<Buffer>; query: unknown };

export interface Submission {
  tenant: string;
  log: FastifyBaseLogger;
  idempotencyKey: string | undefined;
  source: BatchSource;
}

/** Yields each checked request in input order, or its problems. */
type Checked = AsyncIterable<BatchItemRequest | FieldProblem[]> | Iterable<BatchItemRequest | FieldProblem[]>;

/** zod walks JSON values (metadata) recursively: one nested deeply enough overflows the stack. */
function safeParseBounded<T extends z.ZodType>(schema: T, value: unknown, field: string) {
  try {
    return schema.safeParse(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new ApiError('validation_error', `invalid request: ${field} is nested too deeply`, [{ field, message: 'is nested too deeply' }]);
  }
}

function readOptions(source: BatchSource): { options: BatchOptions; requests: unknown[] } {
  if (source.kind === 'json') {
    const body = source.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ApiError('validation_error', 'the body must be a JSON object', [{ field: '(body)', message: 'must be a JSON object' }]);
    }
    const parsed = safeParseBounded(batchJsonSchema, body, '(body)');
    if (!parsed.success) throw validationError(parsed.error.issues);
    const { requests, ...options } = parsed.data;
    return { options, requests };
  }
  const parsed = safeParseBounded(batchQuerySchema, source.query ?? {}, 'query');
  if (!parsed.success) throw validationError(parsed.error.issues, 'query');
  return { options: parsed.data, requests: [] };
}

export async function submitBatch(ctx: ApiContext, sub: Submission): Promise<{ batch: BatchRecord; replayed: boolean }> {
  const { options, requests } = readOptions(sub.source);
  if (options.item_webhooks && !options.webhook_url) {
    throw new ApiError('validation_error', 'invalid request: item_webhooks needs a webhook_url', [{ field: 'item_webhooks', message: 'needs a webhook_url' }]);
  }
  if (options.webhook_url) {
    const allowed = await checkUrl(options.webhook_url, ctx.config.webhooks);
    if (!allowed.ok) {
      sub.log.info({ tenant: sub.tenant, detail: allowed.detail }, 'webhook_url refused');
      throw new ApiError('validation_error', `invalid request: webhook_url ${allowed.reason}`, [{ field: 'webhook_url', message: allowed.reason }]);
    }
  }
  const batches = new BatchStore(ctx.redis, ctx.keys);
  const schema = itemSchema(ctx.config.limits.promptMaxChars);
  const upload = sub.source.kind === 'jsonl' ? new UploadLines(sub.source.stream, { maxBytes: ctx.config.batches.maxBytes, maxLineBytes: BATCH_LINE_MAX_BYTES }) : undefined;
  const source = sub.source;
  const printOf = () => (source.kind === 'json' ? fingerprint(source.body) : fingerprint({ sha256: upload?.digest(), query: source.query ?? {} }));

  /** The batch an earlier request with this key created; undefined if it did not get that far. */
  const replay = async (claim: IdempotencyClaim, print: string) => {
    if (claim.fingerprint !== print) throw new ApiError('idempotency_conflict', 'this Idempotency-Key was used with a different request');
    const existing = await batches.get(claim.id);
    if (!existing) throw new ApiError('idempotency_conflict', 'the batch this Idempotency-Key created no longer exists; use a new key');
    return { batch: existing, replayed: true };
  };

  const prior = sub.idempotencyKey ? await ctx.idempotency.find(sub.tenant, sub.idempotencyKey) : undefined;
  if (prior) {
    // The upload is still read to its end: its bytes are the fingerprint.
    if (upload) for await (const _ of upload.lines());
    return replay(prior, printOf());
  }
  if (!(await ctx.memory.hasRoom())) throw queueFull(ctx.config.http.retryAfterSeconds);

  const intake = new BatchIntake(ctx, { id: newBatchId(), tenant: sub.tenant }, options, Date.now());
  await intake.open();
  const customIds = new Set<string>();
  const checked: Checked = upload
    ? (async function* (): AsyncGenerator<BatchItemRequest | FieldProblem[]> {
        for await (const line of upload.lines()) {
          if (line.number > BATCH_JSONL_MAX_LINES) {
            throw new ApiError('validation_error', `the upload has more than ${BATCH_JSONL_MAX_LINES} lines`, [
              { line: line.number, field: '(body)', message: `more than ${BATCH_JSONL_MAX_LINES} lines` },
            ]);
          }
          yield checkLine(schema, line.bytes, line.number, customIds);
        }
      })()
    : (function* (): Generator<BatchItemRequest | FieldProblem[]> {
        for (const [i, value] of requests.entries()) yield checkItem(schema, value, i + 1, customIds);
      })();

  const problems: FieldProblem[] = [];
  let badLines = 0;
  try {
    for await (const item of checked) {
      if (Array.isArray(item)) {
        badLines += 1;
        if (problems.length < BAD_LINES_REPORTED) problems.push(...item.slice(0, BAD_LINES_REPORTED - problems.length));
      } else if (badLines === 0) {
        await intake.add(item);
      }
    }
    if (badLines > 0) {
      const what = upload ? 'line' : 'request';
      throw new ApiError('validation_error', `the batch was refused: ${badLines} bad ${what}(s), the first on ${what} ${problems[0]?.line ?? '?'}; nothing was queued`, problems).with({ bad_lines: badLines });
    }
    if (intake.count === 0) {
      throw new ApiError('validation_error', 'the upload holds no requests', [{ field: '(body)', message: 'holds no requests' }]);
    }
    const print = printOf();
    const claim = sub.idempotencyKey ? ctx.idempotency.claimFor(sub.tenant, sub.idempotencyKey, { id: intake.id, fingerprint: print }) : undefined;
    const activation = await intake.activate(claim);
    if (!activation.accepted) {
      await intake.discard();
      if ('claimed' in activation) return await replay(parseClaim(activation.claimed), print);
      const { limit, current, max } = activation.quota;
      const message =
        limit === 'max_waiting'
          ? `the batch's ${intake.count} items would take this tenant past its most unfinished generations (${current} waiting, max_waiting ${max})`
          : `the batch's ${intake.count} images would take this tenant past its daily image budget (${current} of ${max} used today, UTC)`;
      const refusal = quotaExceeded(limit, message, current, max);
      throw limit === 'max_waiting' ? refusal.retryAfter(ctx.config.http.retryAfterSeconds) : refusal;
    }
  } catch (err) {
    await intake.discard().catch((e: unknown) => sub.log.error({ err: e, batch: intake.id }, 'could not delete a refused batch'));
    throw err;
  }
  sub.log.info({ batch: intake.id, tenant: sub.tenant, items: intake.count, bytes: upload?.bytes, rss: process.memoryUsage.rss() }, 'batch accepted');
  if (options.cancel_after !== undefined && options.cancel_after <= Date.now()) {
    const expired = await cancelQueuedItems(ctx, intake.id, EXPIRED, ctx.config.retention.succeededSeconds);
    sub.log.info({ batch: intake.id, expired }, 'batch cancel_after already passed: items canceled');
  }
  const batch = await batches.get(intake.id);
  if (!batch) throw new Error(`batch ${intake.id} vanished after it was accepted`);
  return { batch, replayed: false };
}
