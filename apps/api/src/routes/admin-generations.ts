/**
 * Admin search and retry (issue 8): GET /admin/v1/generations, POST /admin/v1/generations/:id/retry,
 * and the bulk retries: POST /admin/v1/retries (dry run: counted here, at once; otherwise a retry
 * object run by the worker's `retries` queue, answered 202), GET /admin/v1/retries[/:id] and
 * POST /admin/v1/retries/:id/abort. Every route is behind requireAdmin (admin-auth.ts), and every
 * retry and abort is audited under the admin token's name.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  RetryStore,
  adminFilterSchema,
  countRetry,
  enqueueRetries,
  retryGeneration,
  retryRequestSchema,
  searchGenerations,
  toJobView,
  toRetryView,
} from '@darkroom/shared';
import { audit } from '../admin-audit.ts';
import { requireAdmin as adminHook, requireAdminOrLogin } from '../admin-auth.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, validationError } from '../errors.ts';
import { listBody, parseSearchQuery } from '../search-query.ts';
import { adminGenerationSchemas as schemas } from './admin-generation-schemas.ts';

const ID = /^gen_[0-9a-f]{32}$/;
const RETRY_ID = /^retry_[0-9a-f]{32}$/;
const oneRetryBody = z.strictObject({ resend_webhook: z.boolean().default(false) });
const listQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20), before: z.coerce.number().int().optional() });

/** The admin token name for the audit (set by requireAdmin). */
function adminName(request: FastifyRequest): string {
  return request.admin?.name ?? 'unknown';
}

export function adminGenerationRoutes(app: FastifyInstance, ctx: ApiContext): void {
  if (ctx.config.http.adminTokens.length === 0) return;
  const requireAdmin = adminHook(ctx);
  // The batch page's retry button calls these two from a logged-in browser.
  const requireAdminOrBrowser = requireAdminOrLogin(ctx);
  const retries = new RetryStore(ctx.redis, ctx.keys);
  const batchWindowMs = Math.min(ctx.config.retention.succeededSeconds, ctx.config.retention.failedSeconds) * 1000;
  const retryDeps = { generations: ctx.generations, queues: ctx.queues, links: ctx.links, batchWindowMs };
  const adminExtra = (r: { tenant: string; failed_stage?: string | undefined; paid_generations: number; retries?: number | undefined }) => ({
    tenant: r.tenant,
    failed_stage: r.failed_stage ?? null,
    paid_generations: r.paid_generations,
    retries: r.retries ?? 0,
  });

  app.get('/admin/v1/generations', { onRequest: requireAdmin, schema: schemas.search }, async (request) => {
    const { filter, cursor, limit } = parseSearchQuery(adminFilterSchema, request.query);
    return listBody(await searchGenerations(ctx, filter, { cursor, limit }), ctx.links, adminExtra);
  });

  app.post<{ Params: { id: string } }>('/admin/v1/generations/:id/retry', { onRequest: requireAdmin, schema: schemas.retryOne }, async (request) => {
    const { id } = request.params;
    const body = oneRetryBody.safeParse(request.body ?? {});
    if (!body.success) throw validationError(body.error.issues);
    if (!ID.test(id) || !(await ctx.generations.get(id))) throw new ApiError('not_found', `no generation ${id}`);
    const outcome = await retryGeneration(retryDeps, id, { resendWebhook: body.data.resend_webhook, by: adminName(request) });
    await audit(ctx, request, 'generation.retry', { id, resend_webhook: body.data.resend_webhook, outcome });
    if ('skipped' in outcome) throw new ApiError('conflict', `${id} was not retried: ${outcome.skipped}`);
    const record = await ctx.generations.get(id);
    return { retried: outcome.retried, ...(outcome.resumed ? { resumed: true } : {}), generation: record ? { ...toJobView(record, undefined), ...adminExtra(record) } : null };
  });

  app.post('/admin/v1/retries', { onRequest: requireAdminOrBrowser, schema: schemas.startRetries }, async (request, reply) => {
    const parsed = retryRequestSchema.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues);
    const body = parsed.data;
    if (body.dry_run) return { object: 'retry.dry_run', ...(await countRetry(ctx, body)) };
    const id = await retries.create(adminName(request), { ids: body.ids, filter: body.filter, resend_webhook: body.resend_webhook });
    await enqueueRetries(ctx.queues, id);
    await audit(ctx, request, 'retries.start', { retry: id, filter: body.filter ?? null, ids: body.ids?.length ?? null, resend_webhook: body.resend_webhook });
    const created = await retries.get(id);
    void reply.status(202).header('location', `/admin/v1/retries/${id}`);
    return created ? toRetryView(created) : { id };
  });

  app.get('/admin/v1/retries', { onRequest: requireAdmin, schema: schemas.listRetries }, async (request) => {
    const q = listQuery.safeParse(request.query ?? {});
    if (!q.success) throw validationError(q.error.issues, 'query');
    const list = await retries.list(q.data.limit, q.data.before);
    const last = list.at(-1);
    return { object: 'list', data: list.map(toRetryView), next_before: list.length === q.data.limit && last ? last.created_at : null };
  });

  const ownRetry = async (id: string) => {
    const found = RETRY_ID.test(id) ? await retries.get(id) : undefined;
    if (!found) throw new ApiError('not_found', `no retry ${id}`);
    return found;
  };

  app.get<{ Params: { id: string } }>('/admin/v1/retries/:id', { onRequest: requireAdminOrBrowser, schema: schemas.readRetry }, async (request) => toRetryView(await ownRetry(request.params.id)));

  app.post<{ Params: { id: string } }>('/admin/v1/retries/:id/abort', { onRequest: requireAdmin, schema: schemas.abortRetry }, async (request) => {
    const found = await ownRetry(request.params.id);
    if (!(await retries.finish(found.id, 'aborted'))) throw new ApiError('conflict', `retry ${found.id} has already ended (${found.status})`);
    await audit(ctx, request, 'retries.abort', { retry: found.id });
    return toRetryView(await ownRetry(found.id));
  });
}
