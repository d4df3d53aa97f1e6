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
import { ApiError } from '../errors.ts';

export function batchResultsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { id: string } }>('/v1/batches/:id/results.jsonl', async (request, reply) => {
    const { id } = request.params;
    const tenant = BATCH_ID.test(id) ? await ctx.redis.hget(ctx.keys.batch(id), 'tenant') : null;
    if (tenant === null || tenant !== request.tenant) throw new ApiError('not_found', `no batch ${id}`);
    const lines = Readable.from(batchResultLines(ctx.redis, ctx.keys, id, ctx.links));
    lines.on('error', (err) => request.log.error({ err, batch: id }, 'results stream failed: response cut short'));
    return reply.type('application/x-ndjson; charset=utf-8').header('cache-control', 'no-store').send(lines);
  });
}
