/**
 * /v1/batches: submit (JSON or a streamed JSONL upload), list, read, list items, cancel. A tenant
 * sees only its own batches; another tenant's id is indistinguishable from a missing one (404).
 * Results (GET /v1/batches/:id/results.jsonl) live in batch-results.ts.
 */
import type { FastifyInstance } from 'fastify';
import { BATCH_ID, BatchStore, STATUSES, toBatchView, toJobView, type BatchRecord, type BatchViewBody, type GenerationRecord } from '@darkroom/shared';
import { z } from 'zod';
import { readIndexedBatches } from '../batch-index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, validationError } from '../errors.ts';
import { cancelBatch } from '../batches/cancel.ts';
import { submitBatch } from '../batches/submit.ts';
import { batchSchemas } from './batch-schemas.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const NDJSON = 'application/x-ndjson';
const PAGE_MAX = 1000;
/** Items read for one page of a status-filtered list, at most: the cursor says where to go on. */
const ITEMS_SCAN_MAX = 10_000;

const limitSchema = z.coerce.number().int('must be a whole number').min(1, `must be 1 to ${PAGE_MAX}`).max(PAGE_MAX, `must be 1 to ${PAGE_MAX}`).default(100);
const listQuery = z.strictObject({
  limit: limitSchema.default(20),
  cursor: z.string().regex(/^\d+-batch_[0-9a-f]{32}$/, 'must be a next_cursor from an earlier page').optional(),
});
const itemsQuery = z.strictObject({
  limit: limitSchema,
  cursor: z.string().regex(/^\d{1,6}$/, 'must be a next_cursor from an earlier page').optional(),
  status: z.enum(STATUSES, { error: `must be one of ${STATUSES.join(', ')}` }).optional(),
});

function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.output<T> {
  const parsed = schema.safeParse(query ?? {});
  if (!parsed.success) throw validationError(parsed.error.issues, 'query');
  return parsed.data;
}

export function batchRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const batches = new BatchStore(ctx.redis, ctx.keys);
  // The upload stays a stream: submit.ts reads it line by line (and enforces BATCH_MAX_BYTES).
  app.addContentTypeParser(NDJSON, (_request, payload, done) => done(null, payload));

  const schemas = batchSchemas(ctx.config.limits.promptMaxChars);
  // Typed by the documented schema: a field toBatchView adds or changes must be documented too.
  const view = async (batch: BatchRecord): Promise<BatchViewBody> =>
    toBatchView(batch, {
      pricePerImage: ctx.config.batches.pricePerImage,
      resultsUrl: batch.results_key && batch.results_bucket ? await ctx.links(batch.results_bucket, batch.results_key) : undefined,
    });
  const jobView = async (record: GenerationRecord) => {
    const url = record.result ? await ctx.links(record.result.bucket, record.result.key) : undefined;
    return { ...toJobView(record, url), custom_id: record.custom_id ?? null, batch_index: record.batch_index ?? null };
  };
  const ownBatch = async (tenant: string, id: string) => {
    const batch = BATCH_ID.test(id) ? await batches.get(id) : undefined;
    if (!batch || batch.tenant !== tenant || batch.status === 'validating') throw new ApiError('not_found', `no batch ${id}`);
    return batch;
  };

  app.post('/v1/batches', { bodyLimit: ctx.config.batches.jsonMaxBytes, schema: schemas.submit }, async (request, reply) => {
    const idempotencyKey = request.headers['idempotency-key'];
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey))) {
      throw new ApiError('validation_error', 'Idempotency-Key must be 1 to 255 printable ASCII characters', [
        { field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters' },
      ]);
    }
    const isUpload = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() === NDJSON;
    if (isUpload) {
      const declared = Number(request.headers['content-length']);
      if (declared > ctx.config.batches.maxBytes) {
        throw new ApiError('payload_too_large', `the upload is larger than ${ctx.config.batches.maxBytes} bytes (BATCH_MAX_BYTES)`);
      }
    } else if (request.query && Object.keys(request.query).length > 0) {
      throw new ApiError('validation_error', 'batch options go in the JSON body (query parameters are for JSONL uploads)', [
        { field: 'query', message: 'is only for JSONL uploads' },
      ]);
    }
    const { batch, replayed } = await submitBatch(ctx, {
      tenant: request.tenant,
      log: request.log,
      idempotencyKey,
      source: isUpload ? { kind: 'jsonl', stream: request.body as AsyncIterable<Buffer>, query: request.query } : { kind: 'json', body: request.body },
    });
    void reply.status(202).header('location', `/v1/batches/${batch.id}`);
    if (replayed) void reply.header('idempotent-replayed', 'true');
    return view(batch);
  });

  app.get('/v1/batches', { schema: schemas.list }, async (request) => {
    const { limit, cursor } = parseQuery(listQuery, request.query);
    const key = ctx.keys.tenantBatches(request.tenant);
    const readPage = async () => {
      const ids: string[] = [];
      if (cursor) {
        const [score = '', id = ''] = cursor.split('-');
        // Same created_at, then older: newest first, ties by id descending, as ZREVRANGE orders them.
        const ties = (await ctx.redis.zrangebyscore(key, score, score)).filter((m) => m < id).sort().reverse();
        ids.push(...ties.slice(0, limit + 1));
        if (ids.length <= limit) ids.push(...(await ctx.redis.zrevrangebyscore(key, `(${score}`, '-inf', 'LIMIT', 0, limit + 1 - ids.length)));
      } else {
        ids.push(...(await ctx.redis.zrevrange(key, 0, limit)));
      }
      return { ids };
    };
    const { records: page } = await readIndexedBatches(ctx, request.tenant, readPage);
    const hasMore = page.length > limit;
    const records = page.slice(0, limit);
    const last = records.at(-1);
    return {
      object: 'list',
      data: await Promise.all(records.map(view)),
      has_more: hasMore,
      next_cursor: hasMore && last ? `${last.created_at}-${last.id}` : null,
    };
  });

  app.get<{ Params: { id: string } }>('/v1/batches/:id', { schema: schemas.read }, async (request) => view(await ownBatch(request.tenant, request.params.id)));

  app.get<{ Params: { id: string } }>('/v1/batches/:id/items', { schema: schemas.items }, async (request) => {
    const batch = await ownBatch(request.tenant, request.params.id);
    const { limit, cursor, status } = parseQuery(itemsQuery, request.query);
    const itemsKey = ctx.keys.batchItems(batch.id);
    const data: Awaited<ReturnType<typeof jobView>>[] = [];
    let next = cursor ? Number(cursor) : 0;
    let end = false;
    const stopAt = next + (status ? ITEMS_SCAN_MAX : limit);
    while (data.length < limit && next < stopAt) {
      const take = Math.min(status ? Math.max(limit, 200) : limit - data.length, stopAt - next);
      const ids = await ctx.redis.lrange(itemsKey, next, next + take - 1);
      if (ids.length === 0) {
        end = true;
        break;
      }
      const records = await Promise.all(ids.map((id) => ctx.generations.get(id)));
      for (const [i, record] of records.entries()) {
        if (data.length >= limit) break;
        next += 1;
        if (record && (!status || record.status === status)) data.push(await jobView(record));
        if (i === ids.length - 1 && ids.length < take) end = true;
      }
    }
    if (!end && next >= (await ctx.redis.llen(itemsKey))) end = true;
    return { object: 'list', data, has_more: !end, next_cursor: end ? null : String(next) };
  });

  app.post<{ Params: { id: string } }>('/v1/batches/:id/cancel', { schema: schemas.cancel }, async (request) => {
    const batch = await ownBatch(request.tenant, request.params.id);
    const { before, canceled } = await cancelBatch(ctx, batch);
    if (before !== 'in_progress' && before !== 'canceling') {
      throw new ApiError('conflict', `batch ${batch.id} is ${before || 'gone'}: nothing left to cancel`);
    }
    request.log.info({ batch: batch.id, tenant: request.tenant, canceled }, 'batch canceled');
    return view(await ownBatch(request.tenant, batch.id));
  });
}
