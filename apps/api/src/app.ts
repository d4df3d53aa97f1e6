/**
 * Builds the HTTP API; main.ts listens. Collaborators come in, nothing connects here.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type { Redis } from 'ioredis';
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
import { authenticate } from './auth.ts';
import type { ApiContext } from './context.ts';
import { isUtf8 } from 'node:buffer';
import { ApiError, errorBody, errorHandler } from './errors.ts';
import { IdempotencyKeys } from './idempotency.ts';
import { MemoryGuard } from './memory-guard.ts';
import { openApiDocs } from './openapi.ts';
import { adminGuard, adminRoutes } from './routes/admin.ts';
import { generationRoutes } from './routes/generations.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';

export interface AppDeps {
  config: Config;
  /** A connection made with createRedis(url, 'client'): fails fast while Redis is away. */
  redis: Redis;
  queues: Queues;
  s3: S3Client;
  bucket: string;
  logger: Logger;
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
  };

  const logger: FastifyBaseLogger = deps.logger;
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    reply.status(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.http.bodyLimit,
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
  app.setErrorHandler(errorHandler(config.http.retryAfterSeconds));
  app.setNotFoundHandler(notFound);

  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);
  // Every route is added inside this plugin, after the OpenAPI generator, so that it sees them all.
  void app.register(async (api) => {
    const adminToken = config.http.adminToken;
    await openApiDocs(api, { adminOnRequest: adminToken ? adminGuard(adminToken) : undefined });
    healthRoutes(api, ctx);
    metricsRoutes(api, ctx);
    adminRoutes(api, ctx);
    await api.register((v1, _opts, done) => {
      v1.decorateRequest('tenant', '');
      v1.addHook('onRequest', authenticate(ctx.tenants));
      generationRoutes(v1, ctx);
      done();
    });
  });
  return app;
}

export { ApiError };
