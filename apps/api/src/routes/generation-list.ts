/**
 * GET /v1/images/generations: a tenant's own generations, newest first, cursor-paginated
 * (generation-search.ts). The tenant is always the caller's: another tenant's jobs never appear,
 * also through another tenant's batch_id.
 */
import type { FastifyInstance } from 'fastify';
import { searchGenerations, tenantFilterSchema } from '@darkroom/shared';
import type { ApiContext } from '../context.ts';
import { listBody, parseSearchQuery } from '../search-query.ts';
import { generationListSchema, pagingQuery } from '../list-schemas.ts';
import { API_KEY_SECURITY, TENANT_ERRORS, errorResponses, json } from '../openapi.ts';

const schema = {
  summary: "The tenant's generations, newest first",
  description: 'Filters: status, batch_id, created_after and created_before (epoch ms or ISO 8601, exclusive).',
  tags: ['generations'],
  security: API_KEY_SECURITY,
  querystring: tenantFilterSchema.extend(pagingQuery.shape),
  response: { 200: json('A page of generations', generationListSchema), ...errorResponses(...TENANT_ERRORS, 'validation_error') },
};

export function generationListRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/images/generations', { schema }, async (request) => {
    const { filter, cursor, limit } = parseSearchQuery(tenantFilterSchema, request.query);
    const page = await searchGenerations(ctx, { ...filter, tenant: request.tenant }, { cursor, limit });
    return listBody(page, ctx.links);
  });
}
