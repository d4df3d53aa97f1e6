/**
 * onRequest hook that admits a request bearing ADMIN_TOKEN ("Authorization: Bearer <token>"),
 * compared in constant time; anything else is a 401.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { bearerToken } from './auth.ts';
import { ApiError } from './errors.ts';

export function requireAdminToken(token: string) {
  const expected = Buffer.from(token);
  return (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void): void => {
    const given = Buffer.from(bearerToken(request) ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      done(new ApiError('unauthorized', 'admin pages need "Authorization: Bearer <ADMIN_TOKEN>"'));
      return;
    }
    done();
  };
}
