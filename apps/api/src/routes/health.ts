import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { readZaiLimits } from '@darkroom/shared';
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { errorResponses, json } from '../openapi.ts';

const tags = ['health'];
const checkResult = z.string().describe('"ok", or "error: " and why');
const nullableNumber = z.number().nullable();
const readiness = z
  .object({
    status: z.enum(['ready', 'degraded', 'unavailable']).describe('degraded: generation is paused fleet-wide, requests are still queued'),
    checks: z.object({ redis: checkResult, s3: checkResult }),
    generation: z.object({
      paused: z.boolean(),
      reason: z.object({ code: z.string(), message: z.string() }).optional(),
      since: z.string().optional(),
      resume_at: z.string().nullable().optional(),
    }),
    zai: z.object({
      concurrency: z.object({
        ceiling: z.number(),
        cap: nullableNumber,
        discovered_limit: nullableNumber,
        in_flight: nullableNumber,
        refusals_per_minute: nullableNumber,
      }),
      rate: z.object({ ceiling: nullableNumber, rps: nullableNumber, refusals_per_minute: nullableNumber }),
    }).describe('The adaptive Z.AI limits; null until a worker has started'),
  })
  .meta({
    id: 'Readiness',
    examples: [
      {
        status: 'ready',
        checks: { redis: 'ok', s3: 'ok' },
        generation: { paused: false },
        zai: {
          concurrency: { ceiling: 8, cap: 8, discovered_limit: null, in_flight: 2, refusals_per_minute: 0 },
          rate: { ceiling: null, rps: null, refusals_per_minute: 0 },
        },
      },
    ],
  });

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
  app.get(
    '/healthz',
    { schema: { summary: 'The process is up', tags, response: { 200: json('Up', z.object({ status: z.literal('ok') })) } } },
    () => ({ status: 'ok' }),
  );

  const ready = {
    summary: 'Redis and S3 answer',
    tags,
    response: { 200: json('Ready (or degraded: paused)', readiness), 503: json('Redis or S3 does not answer', readiness), ...errorResponses() },
  };
  app.get('/readyz', { schema: ready }, async (_request, reply) => {
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
