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
import { ADMIN_SECURITY, errorResponses, json } from '../openapi.ts';

/** How long a rotated-out webhook secret keeps signing deliveries, unless the body says otherwise. */
const DEFAULT_GRACE_HOURS = 24;
const rotateBody = z.strictObject({
  grace_hours: z.number().min(0).max(24 * 30).default(DEFAULT_GRACE_HOURS).describe('How long the previous secret keeps signing deliveries as well'),
});
const rateBody = z.strictObject({ per_second: z.number().int().min(1).max(1_000_000).nullable().describe('null lifts the limit') });

const keyInfo = z.object({ id: z.string(), prefix: z.string().nullable(), created_at: z.string().nullable() });
const rateLimit = z.object({ per_second: z.number().int() }).nullable();
const tenantInfo = z.object({
  tenant: z.string(),
  created_at: z.string().nullable(),
  rate_limit: rateLimit,
  previous_webhook_secret_valid_until: z.string().nullable(),
  keys: z.array(keyInfo),
});
const tenantParams = z.object({ tenant: z.string() });
const schema = (summary: string, ok: ReturnType<typeof json>, extra: object, ...codes: Parameters<typeof errorResponses>) => ({
  summary,
  tags: ['admin'],
  security: ADMIN_SECURITY,
  ...extra,
  response: { 200: ok, ...errorResponses('unauthorized', 'service_unavailable', ...codes) },
});
const withBody = ['validation_error', 'invalid_json', 'unsupported_media_type', 'payload_too_large'] as const;

interface TenantParams {
  tenant: string;
}

export function adminTenantRoutes(app: FastifyInstance, ctx: ApiContext): void {
  if (ctx.config.http.adminTokens.length === 0) return;
  const onRequest = requireAdmin(ctx);
  const known = async (tenant: string) => {
    if (!(await ctx.tenants.exists(tenant))) throw new ApiError('not_found', `no tenant ${tenant}`);
  };

  app.get('/admin/v1/tenants', { onRequest, schema: schema('Every tenant and its keys (id, prefix, creation time)', json('Tenants', z.object({ tenants: z.array(tenantInfo) })), {}) }, async () => ({
    tenants: await ctx.tenants.list(),
  }));

  // The key is refused from the next request on every replica: key lookups are not cached.
  const revoke = schema(
    "Revoke one of a tenant's keys, by id or prefix",
    json('Revoked', z.object({ tenant: z.string(), revoked: z.literal(true), key: keyInfo })),
    { params: tenantParams.extend({ key: z.string().describe('The key id, or its prefix') }) },
    'not_found',
    'conflict',
  );
  app.post<{ Params: TenantParams & { key: string } }>('/admin/v1/tenants/:tenant/keys/:key/revoke', { onRequest, schema: revoke }, async (request) => {
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

  const rotate = schema(
    "Rotate a tenant's webhook secret, the previous one still signing for grace_hours",
    json('The new secret', z.object({ tenant: z.string(), webhook_secret: z.string(), previous_valid_until: z.string().nullable() })),
    { params: tenantParams, body: rotateBody },
    'not_found',
    ...withBody,
  );
  app.post<{ Params: TenantParams }>('/admin/v1/tenants/:tenant/webhook-secret/rotate', { onRequest, schema: rotate }, async (request) => {
    const { tenant } = request.params;
    const parsed = rotateBody.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues);
    await known(tenant);
    const rotated = await ctx.tenants.rotateWebhookSecret(tenant, Math.round(parsed.data.grace_hours * 3_600_000));
    if (!rotated) throw new ApiError('not_found', `no tenant ${tenant}`);
    await audit(ctx, request, 'tenant.webhook_secret.rotate', { tenant, previous_valid_until: rotated.previous_valid_until });
    return { tenant, ...rotated };
  });

  const rate = schema(
    "Set or lift a tenant's request-rate limit (every replica together)",
    json('The limit', z.object({ tenant: z.string(), rate_limit: rateLimit })),
    { params: tenantParams, body: rateBody },
    'not_found',
    ...withBody,
  );
  app.put<{ Params: TenantParams }>('/admin/v1/tenants/:tenant/rate-limit', { onRequest, schema: rate }, async (request) => {
    const { tenant } = request.params;
    const parsed = rateBody.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error.issues);
    await known(tenant);
    await ctx.tenants.setRateLimit(tenant, parsed.data.per_second);
    await audit(ctx, request, 'tenant.rate_limit.set', { tenant, per_second: parsed.data.per_second });
    return { tenant, rate_limit: parsed.data.per_second === null ? null : { per_second: parsed.data.per_second } };
  });
}
