/**
 * Operator endpoints for the fleet and webhooks, under /admin/v1 (the first paths, /admin/fleet…
 * and /admin/generations/…, stay as aliases). They exist only when an admin token is configured
 * (ADMIN_TOKEN or ADMIN_TOKENS; otherwise 404), and every action is audited by token name.
 */
import type { FastifyInstance, FastifySchema, RouteHandlerMethod } from 'fastify';
import { z } from 'zod';
import { drainStateSchema, pauseReasonSchema, pauseStateSchema, QUEUE } from '@darkroom/shared';
import { audit, readAudit } from '../admin-audit.ts';
import { requireAdmin } from '../admin-auth.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, validationError } from '../errors.ts';
import { ADMIN_SECURITY, errorResponses, json } from '../openapi.ts';

const reason = pauseReasonSchema.meta({ description: 'Why: shown in /readyz, /admin/v1/fleet and logs', examples: ['Z.AI maintenance window'] });
const pauseBody = z.strictObject({ reason });
const drainBody = z.strictObject({ reason: reason.optional() });
const auditQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

const pauseState = pauseStateSchema.meta({ id: 'PauseState', examples: [{ code: 'manual', message: 'Z.AI maintenance window', since: 1767607200000, manual: true }] });
const drainState = drainStateSchema.meta({ id: 'DrainState', examples: [{ since: 1767607200000, reason: 'deploy', by: 'ops' }] });
const active = z
  .record(z.enum(Object.keys(QUEUE) as [keyof typeof QUEUE, ...Array<keyof typeof QUEUE>]), z.number().int())
  .describe('Jobs BullMQ holds as active, per queue, fleet-wide');
const fleetStatus = z.object({
  paused: z.boolean(),
  reason: pauseState.nullable(),
  draining: z.boolean(),
  drain: drainState.nullable(),
  drained: z.boolean().describe('Draining and no job active: safe to stop the workers'),
  active,
});
const resumed = z.object({
  paused: z.literal(false),
  draining: z.literal(false),
  resumed: z.boolean().describe('false when nothing was paused or draining'),
  was: pauseState.nullable(),
  drain_was: drainState.nullable(),
});
const auditEntry = z.looseObject({ at: z.string(), admin: z.string().describe("The admin token's name, or cli"), action: z.string() });

const tags = ['admin'];
const admin = (summary: string, response: Record<number, unknown>, extra: FastifySchema = {}): FastifySchema => ({
  summary,
  tags,
  security: ADMIN_SECURITY,
  ...extra,
  response: { ...response, ...errorResponses('unauthorized', 'service_unavailable') },
});
const withBody = errorResponses('validation_error', 'invalid_json', 'unsupported_media_type', 'payload_too_large');

export function adminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  if (ctx.config.http.adminTokens.length === 0) return;
  const onRequest = requireAdmin(ctx);
  // The first path is the route; the others are older aliases, documented as deprecated.
  const route = (method: 'GET' | 'POST', paths: string[], schema: FastifySchema, handler: RouteHandlerMethod) => {
    paths.forEach((url, i) => app.route({ method, url, onRequest, handler, schema: i === 0 ? schema : { ...schema, deprecated: true } }));
  };

  route('GET', ['/admin/v1/fleet', '/admin/fleet'], admin('Whether the fleet is paused or draining, and why', { 200: json('The fleet', fleetStatus) }), async () => {
    const [paused, drain, active] = await Promise.all([ctx.fleet.read(), ctx.fleet.readDrain(), activeJobs(ctx)]);
    const running = Object.values(active).reduce((a, b) => a + b, 0);
    return { paused: Boolean(paused), reason: paused ?? null, draining: Boolean(drain), drain: drain ?? null, drained: Boolean(drain) && running === 0, active };
  });

  // An operator's pause: the workers' upkeep never lifts it, only a resume (route or CLI).
  const pause = admin(
    'Pause generation fleet-wide (jobs stay queued); only a resume lifts it',
    { 200: json('Paused', z.object({ paused: z.literal(true), reason: pauseState })), ...withBody },
    { body: pauseBody },
  );
  route('POST', ['/admin/v1/fleet/pause', '/admin/fleet/pause'], pause, async (request) => {
    const parsed = pauseBody.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues);
    const state = await ctx.fleet.pauseManually(parsed.data.reason);
    await audit(ctx, request, 'fleet.pause', { reason: state.message });
    return { paused: true, reason: state };
  });

  // Every worker stops taking jobs (all stages) and finishes those it runs; Z.AI calls under way end normally.
  const drain = admin(
    'Drain: every worker stops taking jobs and finishes those it runs',
    { 200: json('Draining', z.object({ draining: z.literal(true), drain: drainState, active })), ...withBody },
    { body: drainBody },
  );
  route('POST', ['/admin/v1/fleet/drain'], drain, async (request) => {
    const parsed = drainBody.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues);
    const drain = await ctx.fleet.drain(parsed.data.reason, request.admin?.name);
    await audit(ctx, request, 'fleet.drain', { reason: parsed.data.reason ?? null });
    return { draining: true, drain, active: await activeJobs(ctx) };
  });

  // Lifts a pause (whatever set it) and a drain.
  route('POST', ['/admin/v1/fleet/resume', '/admin/fleet/resume'], admin('Lift a pause (whatever set it) and a drain', { 200: json('Resumed', resumed) }), async (request) => {
    const was = await ctx.fleet.resume();
    const drainWas = await ctx.fleet.undrain();
    await audit(ctx, request, 'fleet.resume', { was: was ?? null, drain_was: drainWas ?? null });
    return { paused: false, draining: false, resumed: Boolean(was ?? drainWas), was: was ?? null, drain_was: drainWas ?? null };
  });

  // A webhook whose every attempt failed stays in BullMQ's failed set; this runs it again.
  const redeliver = admin(
    'Run a failed webhook delivery again',
    { 200: json('Queued again', z.object({ id: z.string(), webhook_id: z.string(), status: z.literal('redelivering') })), ...errorResponses('not_found', 'conflict') },
    { params: z.object({ id: z.string() }) },
  );
  route('POST', ['/admin/v1/generations/:id/webhook/redeliver', '/admin/generations/:id/webhook/redeliver'], redeliver, async (request) => {
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

  const auditLog = admin('The audit trail of admin actions, newest first', { 200: json('Entries', z.object({ entries: z.array(auditEntry) })), ...errorResponses('validation_error') }, { querystring: auditQuery });
  route('GET', ['/admin/v1/audit'], auditLog, async (request) => {
    const parsed = auditQuery.safeParse(request.query);
    if (!parsed.success) throw validationError(parsed.error.issues, 'query');
    return { entries: await readAudit(ctx, parsed.data.limit) };
  });
}

/** Jobs BullMQ holds as active, per stage, fleet-wide. */
async function activeJobs(ctx: ApiContext): Promise<Record<keyof typeof QUEUE, number>> {
  const [generate, store, notify, finalize, retries] = await Promise.all([
    ctx.queues.generate.getActiveCount(),
    ctx.queues.store.getActiveCount(),
    ctx.queues.notify.getActiveCount(),
    ctx.queues.finalize.getActiveCount(),
    ctx.queues.retries.getActiveCount(),
  ]);
  return { generate, store, notify, finalize, retries };
}
