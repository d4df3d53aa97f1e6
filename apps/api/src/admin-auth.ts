/**
 * Admin authentication. Tokens come from ADMIN_TOKEN (named "admin") and ADMIN_TOKENS
 * (`name:token,…`); the name, never the token, goes to logs and the audit trail.
 *
 * Tokens are compared in constant time (admin-tokens.ts).
 *
 * Browsers (Bull Board) cannot send a Bearer header with the page's asset requests: they log in
 * once with `?token=`, which sets an HttpOnly, SameSite=Strict cookie holding an HMAC of the
 * token (not the token itself) and its expiry. Request logs show such a URL with the token
 * replaced (hideLoginToken, used by app.ts's request serializer).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminToken } from '@darkroom/shared';
import { adminTokenName } from './admin-tokens.ts';
import { bearerToken } from './auth.ts';
import type { ApiContext } from './context.ts';
import { ApiError, errorBody } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by requireAdmin: which admin token was used (for the audit). */
    admin?: { name: string };
  }
}

export const ADMIN_COOKIE = 'darkroom_admin';
const COOKIE_TTL_SECONDS = 12 * 3600;

/**
 * onRequest hook for an admin route: a valid admin Bearer token, else 401. A tenant's API key is
 * not an admin token, so it is refused like any other. Sets `request.admin`.
 */
export function requireAdmin(ctx: Pick<ApiContext, 'config'>) {
  const tokens = ctx.config.http.adminTokens;
  return (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    const name = adminTokenName(tokens, bearerToken(request));
    if (!name) {
      done(new ApiError('unauthorized', 'admin endpoints need "Authorization: Bearer <admin token>" (ADMIN_TOKEN or one of ADMIN_TOKENS)'));
      return;
    }
    request.admin = { name };
    done();
  };
}

function cookieMac(token: AdminToken, expires: number): Buffer {
  return createHmac('sha256', token.token).update(`darkroom-admin-cookie.${token.name}.${expires}`).digest();
}

/** The cookie value that logs a browser in as `token` until `expires` (epoch seconds). */
function cookieValue(token: AdminToken, expires: number): string {
  return `${token.name}.${expires}.${cookieMac(token, expires).toString('base64url')}`;
}

/** The admin name of a valid, unexpired login cookie; every token is checked, whatever matches. */
function cookieAdmin(tokens: readonly AdminToken[], value: string | undefined, now = Date.now()): string | undefined {
  const m = value ? /^([a-z0-9][a-z0-9_-]{0,62})\.(\d{1,12})\.([\w-]{43})$/.exec(value) : null;
  if (!m) return undefined;
  const [, name, expiresText, macText] = m as unknown as [string, string, string, string];
  const expires = Number(expiresText);
  const given = Buffer.from(macText, 'base64url');
  let found: string | undefined;
  for (const token of tokens) {
    const same = timingSafeEqual(given, cookieMac(token, expires)) && token.name === name;
    if (same && found === undefined) found = token.name;
  }
  return found && expires * 1000 > now ? found : undefined;
}

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * onRequest hook for browser pages under `path`: a Bearer admin token, or the login cookie.
 * `?token=<admin token>` logs in: it sets the cookie and redirects to the same URL without it.
 * Answers 401 itself (the pages' plugin has its own error handler, which would make it a 500).
 */
export function requireAdminBrowser(ctx: Pick<ApiContext, 'config'>, path: string) {
  const tokens = ctx.config.http.adminTokens;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const url = new URL(request.url, 'http://localhost');
    const login = url.searchParams.get('token');
    if (login !== null) {
      const name = adminTokenName(tokens, login);
      const token = tokens.find((t) => t.name === name);
      if (!token) return refuse(reply);
      const expires = Math.floor(Date.now() / 1000) + COOKIE_TTL_SECONDS;
      const secure = request.protocol === 'https' ? '; Secure' : '';
      url.searchParams.delete('token');
      request.log.warn({ admin: token.name }, 'admin logged in to the queue dashboard');
      return reply
        .header('set-cookie', `${ADMIN_COOKIE}=${cookieValue(token, expires)}; Path=${path}; Max-Age=${COOKIE_TTL_SECONDS}; HttpOnly; SameSite=Strict${secure}`)
        .redirect(`${url.pathname}${url.search}`, 303);
    }
    const name = adminTokenName(tokens, bearerToken(request)) ?? cookieAdmin(tokens, readCookie(request, ADMIN_COOKIE));
    if (!name) return refuse(reply);
    request.admin = { name };
    return undefined;
  };
}

/** `url` with the value of a `token` query parameter (a dashboard login) replaced, for logs. */
export function hideLoginToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/g, '$1[redacted]');
}

function refuse(reply: FastifyReply): FastifyReply {
  return reply
    .status(401)
    .send(errorBody('unauthorized', 'the queue dashboard needs an admin token: open it once with ?token=<admin token>, or send "Authorization: Bearer <admin token>"'));
}
