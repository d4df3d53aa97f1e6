/**
 * /v1/images/generations: create (202 once Redis holds the job) and read. A tenant sees only its
 * own generations; another tenant's id is indistinguishable from a missing one (404).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  CANCELED_BY_CALLER,
  DAILY_COUNTER_TTL_SECONDS,
  checkUrl,
  enqueueGenerate,
  generationRequestSchema,
  jobViewSchema,
  newGenerationId,
  toJobView,
  utcDay,
  WEBHOOK_EVENTS,
  zaiFields,
  type GenerationRecord,
} from '@darkroom/shared';
import type { ApiContext } from '../context.ts';
import { ApiError, queueFull, quotaExceeded, validationError, type ApiErrorCode } from '../errors.ts';
import { fingerprint, parseClaim, type IdempotencyClaim } from '../idempotency.ts';
import { repairOpenGenerations } from '../open-generations.ts';
import { API_KEY_SECURITY, BODY_PARSE_ERRORS, TENANT_ERRORS, errorResponses, json } from '../openapi.ts';

const ID = /^gen_[0-9a-f]{32}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const tags = ['generations'];
const idParams = z.object({ id: z.string().meta({ description: 'The generation id: gen_ and 32 hex digits', examples: ['gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f'] }) });
const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(IDEMPOTENCY_KEY)
    .optional()
    .meta({ description: 'A repeat with the same key (and body) returns the same job, within IDEMPOTENCY_TTL_HOURS', examples: ['order-1001'] }),
});

const deliverySchema = z.object({
  attempt: z.number().int().min(1),
  webhook_id: z.string(),
  at: z.string().describe('When the attempt started (ISO 8601)'),
  status_code: z.number().int().nullable().describe("The receiver's HTTP status; null when none came"),
  ms: z.number(),
  error: z.string().nullable(),
  ok: z.boolean(),
});
const deliveriesSchema = z
  .object({
    id: z.string(),
    webhook: z
      .object({
        event: z.enum(WEBHOOK_EVENTS),
        webhook_id: z.string(),
        status: z.enum(['pending', 'delivered', 'failed']),
        attempts: z.number().int(),
        last_status_code: z.number().int().optional(),
        last_error: z.string().optional(),
      })
      .nullable()
      .describe('null when the generation has no webhook_url'),
    deliveries: z.array(deliverySchema).describe('Every attempt, oldest first'),
  })
  .meta({
    id: 'Deliveries',
    examples: [
      {
        id: 'gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f',
        webhook: {
          event: 'image.generation.succeeded',
          webhook_id: 'msg_gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f_succeeded',
          status: 'delivered',
          attempts: 2,
          last_status_code: 200,
        },
        deliveries: [
          { attempt: 1, webhook_id: 'msg_gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f_succeeded', at: '2026-01-05T10:00:09.600Z', status_code: 503, ms: 12, error: 'HTTP 503', ok: false },
          { attempt: 2, webhook_id: 'msg_gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f_succeeded', at: '2026-01-05T10:00:14.650Z', status_code: 200, ms: 41, error: null, ok: true },
        ],
      },
    ],
  });

/** zod walks JSON values recursively: a body nested deeply enough overflows the stack. */
function parseRequest(schema: ReturnType<typeof generationRequestSchema>, body: object) {
  try {
    return schema.safeParse(body);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new ApiError('validation_error', 'the body is nested too deeply', [{ field: '(body)', message: 'is nested too deeply' }]);
  }
}

export function generationRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const schema = generationRequestSchema({ promptMaxChars: ctx.config.limits.promptMaxChars });
  const { tenantMaxUnfinished } = ctx.config.limits;
  const { retryAfterSeconds } = ctx.config.http;
  const view = async (record: GenerationRecord) => {
    const url = record.result ? await ctx.links(record.result.bucket, record.result.key) : undefined;
    return toJobView(record, url);
  };

  const ownRecord = async (tenant: string, id: string) => {
    const record = ID.test(id) ? await ctx.generations.get(id) : undefined;
    if (!record || record.tenant !== tenant) throw new ApiError('not_found', `no generation ${id}`);
    return record;
  };

  const create = {
    summary: 'Queue a generation',
    description: 'Answers 202 once Redis holds the job (Location: its URL). Z.AI is called once per image, whatever is retried.',
    tags,
    security: API_KEY_SECURITY,
    headers: idempotencyHeaders,
    body: schema,
    response: {
      202: json('Queued (or, with a known Idempotency-Key, the job that key created: Idempotent-Replayed: true)', jobViewSchema),
      ...errorResponses(...TENANT_ERRORS, 'validation_error', 'invalid_json', 'payload_too_large', 'unsupported_media_type', 'idempotency_conflict', 'too_many_unfinished', 'quota_exceeded', 'queue_full'),
    },
  };
  const read = (summary: string, ok: ReturnType<typeof json>, ...more: ApiErrorCode[]) => ({
    summary,
    tags,
    security: API_KEY_SECURITY,
    params: idParams,
    response: { 200: ok, ...errorResponses(...TENANT_ERRORS, 'not_found', ...more) },
  });

  app.post('/v1/images/generations', { schema: create }, async (request, reply) => {
    if (request.body === null || typeof request.body !== 'object' || Array.isArray(request.body)) {
      throw new ApiError('validation_error', 'the body must be a JSON object', [{ field: '(body)', message: 'must be a JSON object' }]);
    }
    const parsed = parseRequest(schema, request.body);
    if (!parsed.success) throw validationError(parsed.error.issues);
    const body = parsed.data;
    if (body.webhook_url) {
      const allowed = await checkUrl(body.webhook_url, ctx.config.webhooks);
      if (!allowed.ok) {
        request.log.info({ tenant: request.tenant, detail: allowed.detail }, 'webhook_url refused');
        throw new ApiError('validation_error', `invalid request: webhook_url ${allowed.reason}`, [
          { field: 'webhook_url', message: allowed.reason },
        ]);
      }
    }

    const idempotencyKey = request.headers['idempotency-key'];
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey))) {
      throw new ApiError('validation_error', 'Idempotency-Key must be 1 to 255 printable ASCII characters', [
        { field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters' },
      ]);
    }
    const tenant = request.tenant;
    // `cancel_after` as sent: seconds from now parse to a different time on a replay.
    const print = fingerprint({ ...body, cancel_after: (request.body as { cancel_after?: unknown }).cancel_after });

    const accepted = (record: GenerationRecord) => {
      void reply.status(202).header('location', `/v1/images/generations/${record.id}`);
      return view(record);
    };
    /** The job an earlier request with this key created, or undefined if it did not get that far. */
    const replay = async (claim: IdempotencyClaim | undefined) => {
      if (!claim) return undefined;
      if (claim.fingerprint !== print) {
        throw new ApiError('idempotency_conflict', 'this Idempotency-Key was used with a different request');
      }
      const existing = await ctx.generations.get(claim.id);
      if (!existing) return undefined;
      // Closes the gap where the first request died between creating the record and enqueueing.
      if (existing.status === 'queued' && existing.regenerations === 0 && (existing.retries ?? 0) === 0) await enqueueGenerate(ctx.queues, { id: claim.id, tenant });
      void reply.header('idempotent-replayed', 'true');
      return existing;
    };

    if (idempotencyKey) {
      const prior = await replay(await ctx.idempotency.find(tenant, idempotencyKey));
      if (prior) return accepted(prior);
    }
    if (!(await ctx.memory.hasRoom())) throw queueFull(retryAfterSeconds);

    const now = Date.now();
    const record: GenerationRecord = {
      id: newGenerationId(),
      tenant,
      status: 'queued',
      request: zaiFields(body),
      webhook_url: body.webhook_url,
      metadata: body.metadata,
      cancel_after: body.cancel_after,
      created_at: now,
      updated_at: now,
      attempts: 0,
      paid_generations: 0,
      regenerations: 0,
    };
    const admitted = await ctx.generations.admit(record, {
      maxOpen: tenantMaxUnfinished,
      quota: { day: utcDay(now), ttlSeconds: DAILY_COUNTER_TTL_SECONDS },
      ...(idempotencyKey ? { claim: ctx.idempotency.claimFor(tenant, idempotencyKey, { id: record.id, fingerprint: print }) } : {}),
    });
    if ('claimed' in admitted) {
      const winner = await replay(parseClaim(admitted.claimed));
      if (winner) return accepted(winner);
      throw new ApiError('idempotency_conflict', 'the generation this Idempotency-Key created no longer exists; use a new key');
    }
    if ('budget' in admitted) {
      throw quotaExceeded('daily_images', `this tenant's daily image budget is spent (${admitted.budget.used} of ${admitted.budget.max} today, UTC)`, admitted.budget.used, admitted.budget.max);
    }
    if ('full' in admitted) {
      const repaired = await repairOpenGenerations(ctx, tenant);
      if (repaired.dropped + repaired.not_enqueued + repaired.requeued > 0) {
        request.log.warn({ tenant, ...repaired }, 'repaired open generations that had nothing to move them');
      }
      if (admitted.max !== undefined) {
        throw quotaExceeded('max_waiting', `this tenant already has ${admitted.full} unfinished generations, its most allowed (max_waiting ${admitted.max}); retry once some have finished`, admitted.full, admitted.max).retryAfter(retryAfterSeconds);
      }
      throw new ApiError(
        'too_many_unfinished',
        `this tenant already has ${admitted.full} unfinished generations, the most allowed (TENANT_MAX_UNFINISHED=${tenantMaxUnfinished}); retry once some have finished`,
      ).retryAfter(retryAfterSeconds);
    }
    try {
      await enqueueGenerate(ctx.queues, { id: record.id, tenant });
    } catch (err) {
      // Without a key the client's retry is new work, so this record must not run as well: it
      // goes (and frees its place). With a key, a replay enqueues it, which is what that client asks for.
      if (!idempotencyKey) {
        await ctx.generations.delete(record.id).catch((e: unknown) => request.log.error({ err: e, id: record.id }, 'could not remove a record whose job was never enqueued'));
      }
      throw err;
    }
    request.log.info({ id: record.id, tenant }, 'queued');
    return accepted(record);
  });

  app.get<{ Params: { id: string } }>('/v1/images/generations/:id', { schema: read('Read a generation', json('The job', jobViewSchema)) }, async (request) => {
    return view(await ownRecord(request.tenant, request.params.id));
  });

  const cancel = {
    ...read('Cancel a queued generation', json('The generation, now canceled', jobViewSchema), 'conflict', ...BODY_PARSE_ERRORS),
    description: 'Only a generation that has not started (status queued) can be canceled (409 otherwise): nothing was paid for it.',
  };
  app.post<{ Params: { id: string } }>('/v1/images/generations/:id/cancel', { schema: cancel }, async (request) => {
    const record = await ownRecord(request.tenant, request.params.id);
    const canceled = await ctx.generations.cancel(record.id, CANCELED_BY_CALLER, ctx.config.retention.succeededSeconds);
    const now = canceled ? await ctx.generations.get(record.id) : undefined;
    if (!now) {
      const current = (await ctx.generations.get(record.id))?.status ?? record.status;
      throw new ApiError('conflict', `generation ${record.id} is ${current}: only a queued generation can be canceled`);
    }
    request.log.info({ id: record.id, tenant: request.tenant }, 'canceled');
    return view(now);
  });

  app.get<{ Params: { id: string } }>(
    '/v1/images/generations/:id/deliveries',
    { schema: read("The generation's webhook deliveries", json('Its webhook state and every attempt', deliveriesSchema)) },
    async (request) => {
    const record = await ownRecord(request.tenant, request.params.id);
    const entries = await ctx.redis.lrange(ctx.keys.deliveries(record.id), 0, -1);
    return { id: record.id, webhook: record.webhook ?? null, deliveries: entries.map((e) => JSON.parse(e) as unknown) };
    },
  );
}
