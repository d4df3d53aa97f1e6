/**
 * The audit trail of admin actions: who (the admin token's name), when, what, on what. Kept in a
 * capped Redis list (newest first) shared by every replica, and logged at warn level.
 */
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '@darkroom/shared';
import type { ApiContext } from './context.ts';

const KEEP_ENTRIES = 10_000;

export interface AuditEntry {
  at: string;
  admin: string;
  action: string;
  [detail: string]: unknown;
}

/** Records an action of `admin` (a token's name, or "cli"); returns the entry. */
export async function recordAudit(redis: Redis, keys: RedisKeys, admin: string, action: string, detail: Record<string, unknown> = {}): Promise<AuditEntry> {
  const entry: AuditEntry = { ...detail, at: new Date().toISOString(), admin, action };
  await redis.multi().lpush(keys.adminAudit, JSON.stringify(entry)).ltrim(keys.adminAudit, 0, KEEP_ENTRIES - 1).exec();
  return entry;
}

/** Records an admin route's action under the name of the token the request carried. */
export async function audit(ctx: Pick<ApiContext, 'redis' | 'keys'>, request: FastifyRequest, action: string, detail: Record<string, unknown> = {}): Promise<void> {
  const entry = await recordAudit(ctx.redis, ctx.keys, request.admin?.name ?? 'unknown', action, detail);
  request.log.warn({ audit: entry }, 'admin action');
}

export async function readAudit(ctx: Pick<ApiContext, 'redis' | 'keys'>, limit: number): Promise<AuditEntry[]> {
  const raw = await ctx.redis.lrange(ctx.keys.adminAudit, 0, limit - 1);
  return raw.map((json) => JSON.parse(json) as AuditEntry);
}
