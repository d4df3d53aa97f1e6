/**
 * GET /v1/images/generations: a tenant's own generations, newest first, cursor-paginated
 * (generation-search.ts). The tenant is always the caller's: another tenant's jobs never appear,
 * also through another tenant's batch_id.
 */
import type { FastifyInstance } from 'fastify';
import { searchGenerations, tenantFilterSchema } from '@darkroom/shared';
import type { ApiContext } from '../context.ts';
import { listBody, parseSearchQuery } from '../search-query.ts';

export function generationListRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/images/generations', async (request) => {
    const { filter, cursor, limit } = parseSearchQuery(tenantFilterSchema, request.query);
    const page = await searchGenerations(ctx, { ...filter, tenant: request.tenant }, { cursor, limit });
    return listBody(page, ctx.links);
  });
}
