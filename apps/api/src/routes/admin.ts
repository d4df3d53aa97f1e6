/**
 * Operator endpoints, enabled only when ADMIN_TOKEN is set (otherwise they do not exist: 404).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { pauseReasonSchema } from '@darkroom/shared';
import { bearerToken } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, validationError } from '../errors.ts';

const pauseBody = z.strictObject({ reason: pauseReasonSchema });

export function adminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const token = ctx.config.http.adminToken;
  if (!token) return;
  const expected = Buffer.from(token);

  const requireAdmin = (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void) => {
    const given = Buffer.from(bearerToken(request) ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      done(new ApiError('unauthorized', 'admin endpoints need "Authorization: Bearer <ADMIN_TOKEN>"'));
      return;
    }
    done();
  };

  app.get('/admin/fleet', { onRequest: requireAdmin }, async () => {
    const paused = await ctx.fleet.read();
    return { paused: Boolean(paused), reason: paused ?? null };
  });

  // An operator's pause: the workers' upkeep never lifts it, only /admin/fleet/resume (or the CLI).
  app.post('/admin/fleet/pause', { onRequest: requireAdmin }, async (request) => {
    const parsed = pauseBody.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues);
    const state = await ctx.fleet.pauseManually(parsed.data.reason);
    request.log.warn({ reason: state.message }, 'generation paused by an admin');
    return { paused: true, reason: state };
  });

  app.post('/admin/fleet/resume', { onRequest: requireAdmin }, async (request) => {
    const was = await ctx.fleet.resume();
    request.log.warn({ was }, 'generation resumed by an admin');
    return { paused: false, resumed: Boolean(was), was: was ?? null };
  });

  // A webhook whose every attempt failed stays in BullMQ's failed set; this runs it again.
  app.post<{ Params: { id: string } }>('/admin/generations/:id/webhook/redeliver', { onRequest: requireAdmin }, async (request) => {
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
