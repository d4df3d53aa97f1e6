/**
 * Stage 3: deliver one webhook event. Each BullMQ attempt is one delivery attempt on the
 * WEBHOOK_RETRY_SCHEDULE; each is logged on its subject, the generation or (batch.completed) the
 * batch: keys.deliveries(id) and the subject's `webhook` state (attempt, time, status, latency,
 * error). After the last attempt the job stays failed in BullMQ, so it can be re-delivered.
 * Standard Webhooks: a 410 ends the delivery at once; a Retry-After (429, 503) delays the next
 * attempt (webhookRetryDelay bounds it); a 3xx is a failed attempt, never followed.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { TransientError, notifyPayload } from '@darkroom/shared';
import { setBatchWebhook } from '../batch-state.ts';
import type { WorkerContext } from '../context.ts';
import { sendWebhook } from '../webhook-sender.ts';
import { stage, webhookOutcome } from '../worker-metrics.ts';

export async function processNotify(ctx: WorkerContext, job: Job): Promise<void> {
  const p = notifyPayload.parse(job.data);
  const log = ctx.log.child({ jobId: job.id, id: p.id, tenant: p.tenant, stage: 'notify', event: p.event });
  // Read at each attempt: a rotation applies from the next one, and its grace ends on time.
  const secrets = await ctx.tenants.webhookSecrets(p.tenant);
  if (secrets.length === 0) throw new UnrecoverableError(`tenant ${p.tenant} has no webhook secret`);

  const attempt = job.attemptsMade + 1;
  const result = await stage(
    ctx.metrics,
    'webhook',
    () =>
      sendWebhook(
        { url: p.url, id: p.webhook_id, body: p.body, secrets },
        { dispatcher: ctx.webhookDispatcher, policy: ctx.config.webhooks, timeoutMs: ctx.config.webhooks.timeoutMs },
      ),
    (r) => !r.ok,
  );
  ctx.metrics.webhookAttempt(webhookOutcome(result));
  const { forbidden: _forbidden, gone: _gone, retryAfterMs: _retryAfterMs, detail, ...entry } = result;
  const deliveries = ctx.keys.deliveries(p.id);
  await ctx.redis
    .multi()
    .rpush(deliveries, JSON.stringify({ attempt, webhook_id: p.webhook_id, ...entry }))
    .expire(deliveries, ctx.config.retention.failedSeconds)
    .exec();

  const last = result.forbidden || result.gone || attempt >= (job.opts.attempts ?? 1);
  const status = result.ok ? 'delivered' : last ? 'failed' : 'pending';
  const webhook = {
    event: p.event,
    webhook_id: p.webhook_id,
    status,
    attempts: attempt,
    last_status_code: result.status_code ?? undefined,
    last_error: result.error ?? undefined,
  } as const;
  if (p.event === 'batch.completed') await setBatchWebhook(ctx.redis, ctx.keys, p.id, webhook);
  else await ctx.generations.update(p.id, { webhook });
  if (result.ok) {
    log.info({ attempt, status_code: result.status_code, ms: result.ms }, 'webhook delivered');
    return;
  }
  log.warn({ attempt, status_code: result.status_code, error: detail, last, retryAfterMs: result.retryAfterMs }, 'webhook attempt failed');
  if (result.forbidden) throw new UnrecoverableError(`webhook refused: ${result.error ?? 'forbidden address'}`);
  if (result.gone) throw new UnrecoverableError('webhook endpoint answered 410 Gone: delivery stopped');
  throw new TransientError('webhook_failed', `webhook attempt ${attempt} failed: ${result.error ?? 'unknown'}`, undefined, {
    retryAfterMs: result.retryAfterMs ?? 0,
  });
}
