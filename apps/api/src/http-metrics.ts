/**
 * HTTP requests by method, route and status (fastify-metrics), into the app's own registry: no
 * metric lands in prom-client's global registry, so two apps can live in one process. The route
 * label is the route pattern (`/v1/images/generations/:id`), or `__unknown__` for a 404.
 */
import type { FastifyInstance } from 'fastify';
import fastifyMetrics from 'fastify-metrics';
import client, { type Registry } from 'prom-client';

export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  // A CommonJS module: under Node's ESM its plugin is the `default` property.
  void app.register(fastifyMetrics.default, {
    promClient: client,
    endpoint: null,
    defaultMetrics: { enabled: false },
    routeMetrics: {
      enabled: { histogram: true, summary: false },
      registeredRoutesOnly: false,
      invalidRouteGroup: '__unknown__',
      // The summary is off, but the plugin builds it anyway: it must not reach the global registry.
      overrides: {
        histogram: { name: 'darkroom_http_request_duration_seconds', help: 'API requests by method, route and status code', registers: [registry] },
        summary: { registers: [registry] },
      },
    },
  });
}
