/**
 * Bull Board, the BullMQ dashboard, at /admin/queues, behind the admin tokens (page, API and
 * static assets alike; a browser logs in once with ?token=, see admin-auth.ts).
 *
 * Read-only: every queue is added in Bull Board's readOnlyMode, and anything but GET/HEAD is
 * refused here as well. Bull Board's retry, promote, clean or remove act on BullMQ's jobs behind
 * the generation records' back (a retried stage job would not update its record, a removed one
 * would leave a record open forever); retries go through Darkroom's own admin routes.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import { requireAdminBrowser } from '../admin-auth.ts';
import type { ApiContext } from '../context.ts';
import { errorBody } from '../errors.ts';

export const QUEUES_PATH = '/admin/queues';

export function adminQueueRoutes(app: FastifyInstance, ctx: ApiContext): void {
  if (ctx.config.http.adminTokens.length === 0) return;
  const board = new FastifyAdapter();
  board.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: [ctx.queues.generate, ctx.queues.store, ctx.queues.notify].map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'Darkroom' } },
  });
  void app.register(async (scope) => {
    scope.addHook('onRequest', requireAdminBrowser(ctx, QUEUES_PATH));
    scope.addHook('onRequest', async (request, reply) => {
      if (request.method === 'GET' || request.method === 'HEAD') return undefined;
      return reply.status(403).send(errorBody('forbidden', 'the queue dashboard is read-only: retry through /admin/v1 routes, which keep the generation records in step'));
    });
    await scope.register(board.registerPlugin(), { prefix: QUEUES_PATH });
  });
}
