/**
 * Operator endpoints, enabled only when ADMIN_TOKEN is set (otherwise they do not exist: 404).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { pauseReasonSchema, pauseStateSchema } from '@darkroom/shared';
import { bearerToken } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, validationError } from '../errors.ts';
import { ADMIN_SECURITY, errorResponses, json } from '../openapi.ts';

const pauseBody = z.strictObject({ reason: pauseReasonSchema.meta({ description: 'Why: shown in /readyz, /admin/fleet and logs', examples: ['Z.AI maintenance window'] }) });

const pauseState = pauseStateSchema.meta({ id: 'PauseState', examples: [{ code: 'manual', message: 'Z.AI maintenance window', since: 1767607200000, manual: true }] });
const fleetStatus = z.object({ paused: z.boolean(), reason: pauseState.nullable() });
const resumed = z.object({ paused: z.literal(false), resumed: z.boolean().describe('false when nothing was paused'), was: pauseState.nullable() });
const redelivering = z.object({ id: z.string(), webhook_id: z.string(), status: z.literal('redelivering') });

const tags = ['admin'];
const admin = (summary: string, response: Record<number, unknown>, extra: object = {}) => ({
  summary,
  tags,
  security: ADMIN_SECURITY,
  ...extra,
  response: { ...response, ...errorResponses('unauthorized', 'service_unavailable') },
});

/** The onRequest hook of every admin route: the ADMIN_TOKEN as a bearer token, compared in constant time. */
export function adminGuard(token: string) {
  const expected = Buffer.from(token);
  return (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void) => {
    const given = Buffer.from(bearerToken(request) ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      done(new ApiError('unauthorized', 'admin endpoints need "Authorization: Bearer <ADMIN_TOKEN>"'));
      return;
    }
    done();
  };
}

export function adminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const token = ctx.config.http.adminToken;
  if (!token) return;
  const requireAdmin = adminGuard(token);

  app.get('/admin/fleet', { onRequest: requireAdmin, schema: admin('Whether generation is paused fleet-wide, and why', { 200: json('The fleet', fleetStatus) }) }, async () => {
    const paused = await ctx.fleet.read();
    return { paused: Boolean(paused), reason: paused ?? null };
  });

  // An operator's pause: the workers' upkeep never lifts it, only /admin/fleet/resume (or the CLI).
  const pause = admin(
    'Pause generation fleet-wide (jobs stay queued); only resume lifts it',
    { 200: json('Paused', z.object({ paused: z.literal(true), reason: pauseState })), ...errorResponses('validation_error', 'invalid_json') },
    { body: pauseBody },
  );
  app.post('/admin/fleet/pause', { onRequest: requireAdmin, schema: pause }, async (request) => {
    const parsed = pauseBody.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues);
    const state = await ctx.fleet.pauseManually(parsed.data.reason);
    request.log.warn({ reason: state.message }, 'generation paused by an admin');
    return { paused: true, reason: state };
  });

  app.post('/admin/fleet/resume', { onRequest: requireAdmin, schema: admin('Lift a fleet-wide pause', { 200: json('Resumed', resumed) }) }, async (request) => {
    const was = await ctx.fleet.resume();
    request.log.warn({ was }, 'generation resumed by an admin');
    return { paused: false, resumed: Boolean(was), was: was ?? null };
  });

  // A webhook whose every attempt failed stays in BullMQ's failed set; this runs it again.
  const redeliver = admin(
    'Run a failed webhook delivery again',
    { 200: json('Queued again', redelivering), ...errorResponses('not_found', 'conflict') },
    { params: z.object({ id: z.string() }) },
  );
  app.post<{ Params: { id: string } }>('/admin/generations/:id/webhook/redeliver', { onRequest: requireAdmin, schema: redeliver }, async (request) => {
    const record = await ctx.generations.get(request.params.id);
    const webhookId = record?.webhook?.webhook_id;
    const job = webhookId ? await ctx.queues.notify.getJob(webhookId) : undefined;
    if (!record || !job) throw new ApiError('not_found', `no webhook delivery for ${request.params.id}`);
    const notFailed = () => new ApiError('conflict', `the webhook of ${record.id} has not failed`);
    if (!(await job.isFailed())) throw notFailed();
    // A concurrent redeliver may have moved it first; BullMQ then refuses the retry.
    await job.retry('failed', { resetAttemptsMade: true }).catch(async (err: unknown) => {
      if (!(await job.isFailed())) throw notFailed();
      throw err;
    });
    request.log.warn({ id: record.id, webhookId }, 'webhook redelivery requested by an admin');
    return { id: record.id, webhook_id: webhookId, status: 'redelivering' };
  });
}
