/**
 * Who an admin route serves. Until named admin tokens land (h-control's requireAdmin, which sets
 * `request.admin = { name }`), the one ADMIN_TOKEN is checked here in constant time and named
 * `admin`; routes take the hook as a parameter, so swapping it is one line in app.ts.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from './auth.ts';
import { ApiError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    admin?: { name: string };
  }
}

export type AdminHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export function adminTokenHook(token: string): AdminHook {
  const expected = Buffer.from(token);
  return (request) => {
    const given = Buffer.from(bearerToken(request) ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return Promise.reject(new ApiError('unauthorized', 'admin endpoints need "Authorization: Bearer <ADMIN_TOKEN>"'));
    }
    request.admin = { name: 'admin' };
    return Promise.resolve();
  };
}

/** The admin token name for the audit. */
export function adminName(request: FastifyRequest): string {
  return request.admin?.name ?? 'admin';
}
