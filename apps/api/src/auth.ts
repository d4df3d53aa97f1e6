import type { FastifyRequest } from 'fastify';
import type { TenantStore } from '@darkroom/shared';
import { ApiError } from './errors.ts';

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

/** onRequest hook for /v1: resolves the caller's tenant from its API key. */
export function authenticate(tenants: TenantStore) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (!token) throw new ApiError('unauthorized', 'send your API key as "Authorization: Bearer <api_key>"');
    const tenant = await tenants.tenantForKey(token);
    if (!tenant) throw new ApiError('unauthorized', 'unknown API key');
    request.tenant = tenant;
  };
}
