/**
 * Builds the HTTP API; main.ts listens. Collaborators come in, nothing connects here.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import {
  FleetState,
  GenerationStore,
  TenantStore,
  imageLinker,
  redisKeys,
  type Config,
  type Logger,
  type Queues,
} from '@darkroom/shared';
import { hideLoginToken, requireAdmin, requireAdminBrowser } from './admin-auth.ts';
import { authenticate } from './auth.ts';
import type { ApiContext } from './context.ts';
import { isUtf8 } from 'node:buffer';
import { ApiError, errorBody, errorHandler } from './errors.ts';
import { IdempotencyKeys } from './idempotency.ts';
import { MemoryGuard } from './memory-guard.ts';
import { openApiDocs } from './openapi.ts';
import { RateLimiter } from './rate-limit.ts';
import { adminRoutes } from './routes/admin.ts';
import { adminQueueRoutes } from './routes/admin-queues.ts';
import { adminGenerationRoutes } from './routes/admin-generations.ts';
import { adminTenantRoutes } from './routes/admin-tenants.ts';
import { batchResultsRoutes } from './routes/batch-results.ts';
import { generationListRoutes } from './routes/generation-list.ts';
import { batchRoutes } from './routes/batches.ts';
import { adminPageRoutes } from './routes/admin-pages.ts';
import { generationRoutes } from './routes/generations.ts';
import { healthRoutes } from './routes/health.ts';
import { registerFleetMetrics } from './fleet-metrics.ts';
import { registerHttpMetrics } from './http-metrics.ts';
import { traceRequests } from './request-spans.ts';

export interface AppDeps {
  config: Config;
  /** A connection made with createRedis(url, 'client'): fails fast while Redis is away. */
  redis: Redis;
  queues: Queues;
  s3: S3Client;
  bucket: string;
  logger: Logger;
  /**
   * Where the API's metrics go (served on the metrics port by main.ts, never on this app's port).
   * Default: a registry of its own that nothing serves.
   */
  metrics?: Registry;
  /** Sees every route as it is registered (the test that each one is documented). */
  onRoute?: (route: RouteOptions) => void;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const { config, redis } = deps;
  const keys = redisKeys(config.redis.prefix);
  const ctx: ApiContext = {
    config,
    redis,
    keys,
    queues: deps.queues,
    generations: new GenerationStore(redis, keys),
    tenants: new TenantStore(redis, keys),
    idempotency: new IdempotencyKeys(redis, keys, config.retention.idempotencySeconds),
    fleet: new FleetState(redis, keys, deps.queues.generate),
    s3: deps.s3,
    bucket: deps.bucket,
    links: imageLinker(deps.s3, config.s3),
    memory: new MemoryGuard(redis, {
      highWater: config.limits.redisMemoryHighWater,
      everyMs: config.limits.redisMemoryCheckMs,
      log: deps.logger,
    }),
    rateLimiter: new RateLimiter(redis, keys),
  };

  // Fastify's own request fields, with a dashboard login's ?token= hidden from the request logs.
  const logger: FastifyBaseLogger = deps.logger.child({}, {
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: hideLoginToken(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket.remotePort }),
    },
  });
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    reply.status(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.http.bodyLimit,
    trustProxy: config.http.trustProxy,
    return503OnClosing: true,
    // A URL that cannot be decoded, or a path segment longer than the router takes (100
    // characters: far past any id), names nothing here: the same 404 as an unknown route.
    frameworkErrors: (_err, request, reply) => {
      void notFound(request, reply);
    },
  });
  app.removeContentTypeParser('text/plain');
  // JSON is UTF-8 (RFC 8259): a body that is not is refused, not silently patched with U+FFFD.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    if (!isUtf8(body)) {
      done(new ApiError('validation_error', 'the body is not valid UTF-8', [{ field: '(body)', message: 'is not valid UTF-8' }]), undefined);
      return;
    }
    void parseJson(request, body.toString('utf8'), done);
  });
  traceRequests(app);
  const registry = deps.metrics ?? new Registry();
  registerHttpMetrics(app, registry);
  registerFleetMetrics(registry, ctx, config.zai.maxConcurrency);
  app.setErrorHandler(errorHandler(config.http.retryAfterSeconds));
  app.setNotFoundHandler(notFound);

  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);
  // Bull Board is a UI with routes of its own, not API: outside the documented context.
  adminQueueRoutes(app, ctx);
  // Browser pages (HTML for people, not API): an admin token, or the login cookie (`?token=` once)
  // that also covers /admin/v1. Outside the documented context, like Bull Board.
  if (config.http.adminTokens.length > 0) adminPageRoutes(app, ctx, requireAdminBrowser(ctx, '/admin'));
  // Every API route is added inside this plugin, after the OpenAPI generator, so that it sees them all.
  void app.register(async (api) => {
    await openApiDocs(api, { adminOnRequest: config.http.adminTokens.length ? requireAdmin(ctx) : undefined });
    healthRoutes(api, ctx);
    adminRoutes(api, ctx);
    adminTenantRoutes(api, ctx);
    adminGenerationRoutes(api, ctx);
    await api.register((v1, _opts, done) => {
      v1.decorateRequest('tenant', '');
      v1.addHook('onRequest', authenticate(ctx));
      generationRoutes(v1, ctx);
      batchResultsRoutes(v1, ctx);
      generationListRoutes(v1, ctx);
      batchRoutes(v1, ctx);
      done();
    });
  });
  return app;
}

export { ApiError };
