/**
 * Operator endpoints for the fleet and webhooks, under /admin/v1 (the first paths, /admin/fleet…
 * and /admin/generations/…, stay as aliases). They exist only when an admin token is configured
 * (ADMIN_TOKEN or ADMIN_TOKENS; otherwise 404), and every action is audited by token name.
 */
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { z } from 'zod';
import { pauseReasonSchema, type QUEUE } from '@darkroom/shared';
import { audit, readAudit } from '../admin-audit.ts';
import { requireAdmin } from '../admin-auth.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, validationError } from '../errors.ts';

const pauseBody = z.strictObject({ reason: pauseReasonSchema });
const drainBody = z.strictObject({ reason: pauseReasonSchema.optional() });
const auditQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

export function adminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  if (ctx.config.http.adminTokens.length === 0) return;
  const onRequest = requireAdmin(ctx);
  const route = (method: 'GET' | 'POST', paths: string[], handler: RouteHandlerMethod) => {
    for (const url of paths) app.route({ method, url, onRequest, handler });
  };

  route('GET', ['/admin/v1/fleet', '/admin/fleet'], async () => {
    const [paused, drain, active] = await Promise.all([ctx.fleet.read(), ctx.fleet.readDrain(), activeJobs(ctx)]);
    const running = Object.values(active).reduce((a, b) => a + b, 0);
    return { paused: Boolean(paused), reason: paused ?? null, draining: Boolean(drain), drain: drain ?? null, drained: Boolean(drain) && running === 0, active };
  });

  // An operator's pause: the workers' upkeep never lifts it, only a resume (route or CLI).
  route('POST', ['/admin/v1/fleet/pause', '/admin/fleet/pause'], async (request) => {
    const parsed = pauseBody.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues);
    const state = await ctx.fleet.pauseManually(parsed.data.reason);
    await audit(ctx, request, 'fleet.pause', { reason: state.message });
    return { paused: true, reason: state };
  });

  // Every worker stops taking jobs (all stages) and finishes those it runs; Z.AI calls under way end normally.
  route('POST', ['/admin/v1/fleet/drain'], async (request) => {
    const parsed = drainBody.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues);
    const drain = await ctx.fleet.drain(parsed.data.reason, request.admin?.name);
    await audit(ctx, request, 'fleet.drain', { reason: parsed.data.reason ?? null });
    return { draining: true, drain, active: await activeJobs(ctx) };
  });

  // Lifts a pause (whatever set it) and a drain.
  route('POST', ['/admin/v1/fleet/resume', '/admin/fleet/resume'], async (request) => {
    const was = await ctx.fleet.resume();
    const drainWas = await ctx.fleet.undrain();
    await audit(ctx, request, 'fleet.resume', { was: was ?? null, drain_was: drainWas ?? null });
    return { paused: false, draining: false, resumed: Boolean(was ?? drainWas), was: was ?? null, drain_was: drainWas ?? null };
  });

  // A webhook whose every attempt failed stays in BullMQ's failed set; this runs it again.
  route('POST', ['/admin/v1/generations/:id/webhook/redeliver', '/admin/generations/:id/webhook/redeliver'], async (request) => {
    const { id } = request.params as { id: string };
    const record = await ctx.generations.get(id);
    const webhookId = record?.webhook?.webhook_id;
    const job = webhookId ? await ctx.queues.notify.getJob(webhookId) : undefined;
    if (!record || !job) throw new ApiError('not_found', `no webhook delivery for ${id}`);
    const notFailed = () => new ApiError('conflict', `the webhook of ${record.id} has not failed`);
    if (!(await job.isFailed())) throw notFailed();
    // A concurrent redeliver may have moved it first; BullMQ then refuses the retry.
    await job.retry('failed', { resetAttemptsMade: true }).catch(async (err: unknown) => {
      if (!(await job.isFailed())) throw notFailed();
      throw err;
    });
    await audit(ctx, request, 'webhook.redeliver', { id: record.id, webhook_id: webhookId });
    return { id: record.id, webhook_id: webhookId, status: 'redelivering' };
  });

  route('GET', ['/admin/v1/audit'], async (request) => {
    const parsed = auditQuery.safeParse(request.query);
    if (!parsed.success) throw validationError(parsed.error.issues, 'query');
    return { entries: await readAudit(ctx, parsed.data.limit) };
  });
}

/** Jobs BullMQ holds as active, per stage, fleet-wide. */
async function activeJobs(ctx: ApiContext): Promise<Record<keyof typeof QUEUE, number>> {
  const [generate, store, notify] = await Promise.all([ctx.queues.generate.getActiveCount(), ctx.queues.store.getActiveCount(), ctx.queues.notify.getActiveCount()]);
  return { generate, store, notify };
}
