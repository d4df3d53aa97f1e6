import type { FastifyRequest } from 'fastify';
import type { TenantStore } from '@darkroom/shared';
import { adminTokenName } from './admin-tokens.ts';
import type { ApiContext } from './context.ts';
import { ApiError } from './errors.ts';
import type { RateLimiter } from './rate-limit.ts';

declare module 'fastify' {
  interface FastifyRequest {
    tenant: string;
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

/**
 * onRequest hook for /v1: resolves the caller's tenant from its API key (no cache, so a revoked
 * key is refused from its next request), refuses admin tokens, and applies the tenant's rate limit.
 */
export function authenticate(ctx: Pick<ApiContext, 'config'> & { tenants: TenantStore; rateLimiter: RateLimiter }) {
  const adminTokens = ctx.config.http.adminTokens;
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (!token) throw new ApiError('unauthorized', 'send your API key as "Authorization: Bearer <api_key>"');
    if (adminTokenName(adminTokens, token)) {
      throw new ApiError('forbidden', 'an admin token does not work on tenant routes: send a tenant\'s API key');
    }
    const tenant = await ctx.tenants.tenantForKey(token);
    if (!tenant) throw new ApiError('unauthorized', 'unknown API key');
    request.tenant = tenant;
    const waitMs = await ctx.rateLimiter.take(tenant);
    if (waitMs > 0) {
      throw new ApiError('rate_limited', `tenant ${tenant} is over its request-rate limit; retry after Retry-After seconds`).retryAfter(Math.max(1, Math.ceil(waitMs / 1000)));
    }
  };
}
