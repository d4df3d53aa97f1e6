/**
 * Tenant administration under /admin/v1/tenants: list tenants and their keys (id, prefix and
 * creation time only), revoke a key, rotate the webhook secret with a grace period, and set the
 * request-rate limit. Same admin guard and audit as routes/admin.ts.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AmbiguousKeyError } from '@darkroom/shared';
import { audit } from '../admin-audit.ts';
import { requireAdmin } from '../admin-auth.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, validationError } from '../errors.ts';

/** How long a rotated-out webhook secret keeps signing deliveries, unless the body says otherwise. */
const DEFAULT_GRACE_HOURS = 24;
const rotateBody = z.strictObject({ grace_hours: z.number().min(0).max(24 * 30).default(DEFAULT_GRACE_HOURS) });
const rateBody = z.strictObject({ per_second: z.number().int().min(1).max(1_000_000).nullable() });

interface TenantParams {
  tenant: string;
}

export function adminTenantRoutes(app: FastifyInstance, ctx: ApiContext): void {
  if (ctx.config.http.adminTokens.length === 0) return;
  const onRequest = requireAdmin(ctx);
  const known = async (tenant: string) => {
    if (!(await ctx.tenants.exists(tenant))) throw new ApiError('not_found', `no tenant ${tenant}`);
  };

  app.get('/admin/v1/tenants', { onRequest }, async () => ({ tenants: await ctx.tenants.list() }));

  // The key is refused from the next request on every replica: key lookups are not cached.
  app.post<{ Params: TenantParams & { key: string } }>('/admin/v1/tenants/:tenant/keys/:key/revoke', { onRequest }, async (request) => {
    const { tenant, key } = request.params;
    await known(tenant);
    const revoked = await ctx.tenants.revokeKey(tenant, key).catch((err: unknown) => {
      if (err instanceof AmbiguousKeyError) throw new ApiError('conflict', err.message);
      throw err;
    });
    if (!revoked) throw new ApiError('not_found', `tenant ${tenant} has no key with id or prefix ${key}`);
    await audit(ctx, request, 'tenant.key.revoke', { tenant, key: revoked });
    return { tenant, revoked: true, key: revoked };
  });

  app.post<{ Params: TenantParams }>('/admin/v1/tenants/:tenant/webhook-secret/rotate', { onRequest }, async (request) => {
    const { tenant } = request.params;
    const parsed = rotateBody.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues);
    await known(tenant);
    const rotated = await ctx.tenants.rotateWebhookSecret(tenant, Math.round(parsed.data.grace_hours * 3_600_000));
    if (!rotated) throw new ApiError('not_found', `no tenant ${tenant}`);
    await audit(ctx, request, 'tenant.webhook_secret.rotate', { tenant, previous_valid_until: rotated.previous_valid_until });
    return { tenant, ...rotated };
  });

  app.put<{ Params: TenantParams }>('/admin/v1/tenants/:tenant/rate-limit', { onRequest }, async (request) => {
    const { tenant } = request.params;
    const parsed = rateBody.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues);
    await known(tenant);
    await ctx.tenants.setRateLimit(tenant, parsed.data.per_second);
    await audit(ctx, request, 'tenant.rate_limit.set', { tenant, per_second: parsed.data.per_second });
    return { tenant, rate_limit: parsed.data.per_second === null ? null : { per_second: parsed.data.per_second } };
  });
}
