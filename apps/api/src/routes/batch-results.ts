/**
 * GET /v1/batches/:id/results.jsonl: one JSON line per item, in input order, read from Redis as
 * it is now (partial while the batch runs and after a cancel), streamed with backpressure so the
 * API never holds a whole 100,000-line batch. The same lines as the file the worker writes to S3
 * when the batch ends (batchResultLines). Another tenant's batch is a 404, like a missing one.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { BATCH_ID, batchResultLines } from '@darkroom/shared';
import type { ApiContext } from '../context.ts';
import { z } from 'zod';
import { ApiError } from '../errors.ts';
import { API_KEY_SECURITY, TENANT_ERRORS, errorResponses } from '../openapi.ts';

const schema = {
  summary: "A batch's results, one JSON line per item in input order",
  description: 'Partial while the batch runs and after a cancel; the same lines as the results.jsonl the worker writes to S3 when the batch ends.',
  tags: ['batches'],
  security: API_KEY_SECURITY,
  params: z.object({ id: z.string().describe('The batch id') }),
  response: {
    200: { description: 'JSON lines (application/x-ndjson)', content: { 'application/x-ndjson': { schema: z.string() } } },
    ...errorResponses(...TENANT_ERRORS, 'not_found'),
  },
};

export function batchResultsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { id: string } }>('/v1/batches/:id/results.jsonl', { schema }, async (request, reply) => {
    const { id } = request.params;
    const tenant = BATCH_ID.test(id) ? await ctx.redis.hget(ctx.keys.batch(id), 'tenant') : null;
    if (tenant === null || tenant !== request.tenant) throw new ApiError('not_found', `no batch ${id}`);
    const lines = Readable.from(batchResultLines(ctx.redis, ctx.keys, id, ctx.links));
    lines.on('error', (err) => request.log.error({ err, batch: id }, 'results stream failed: response cut short'));
    return reply.type('application/x-ndjson; charset=utf-8').header('cache-control', 'no-store').send(lines);
  });
}
