import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { readZaiLimits } from '@darkroom/shared';
import type { ApiContext } from '../context.ts';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref())]);

async function check(fn: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(fn(), 2_000);
    return 'ok';
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/**
 * /healthz: the process is up. /readyz: Redis and S3 answer (503 otherwise); a fleet-wide pause of
 * generation is reported with its reason but does not fail readiness, because requests are still
 * accepted and queued. It also shows the adaptive Z.AI limits (null until a worker has started).
 */
export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/healthz', () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const [redis, s3] = await Promise.all([
      check(() => ctx.redis.ping()),
      check(() => ctx.s3.send(new HeadBucketCommand({ Bucket: ctx.bucket }))),
    ]);
    const paused = redis === 'ok' ? await ctx.fleet.read().catch(() => undefined) : undefined;
    const limits = redis === 'ok' ? await readZaiLimits(ctx.redis, ctx.keys).catch(() => undefined) : undefined;
    const ready = redis === 'ok' && s3 === 'ok';
    return reply.status(ready ? 200 : 503).send({
      status: ready ? (paused ? 'degraded' : 'ready') : 'unavailable',
      checks: { redis, s3 },
      generation: paused
        ? { paused: true, reason: { code: paused.code, message: paused.message }, since: new Date(paused.since).toISOString(), resume_at: paused.resumeAt ? new Date(paused.resumeAt).toISOString() : null }
        : { paused: false },
      zai: {
        concurrency: {
          ceiling: ctx.config.zai.maxConcurrency,
          cap: limits?.cap ?? null,
          discovered_limit: limits?.limit || null,
          in_flight: limits?.inFlight ?? null,
          refusals_per_minute: limits?.refusalsPerMinute ?? null,
        },
        rate: {
          ceiling: ctx.config.zai.maxRps ?? null,
          rps: limits?.rps || null,
          refusals_per_minute: limits?.throttlesPerMinute ?? null,
        },
      },
    });
  });
}
