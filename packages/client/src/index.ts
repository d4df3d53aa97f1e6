/**
 * Darkroom's typed client: openapi-fetch over the types openapi-typescript generates from the API's
 * OpenAPI documents (public-api.ts, admin-api.ts; `pnpm client:generate` rewrites them). A change to
 * the API's contract changes these types, so code that relies on the old contract stops compiling.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components as adminComponents, paths as adminPaths } from './admin-api.ts';
import type { components, paths } from './public-api.ts';

export type { paths };
export type Generation = components['schemas']['Generation'];
export type GenerationRequest = paths['/v1/images/generations']['post']['requestBody']['content']['application/json'];
export type ErrorBody = components['schemas']['Error'];
/** A webhook's body (the document's `webhooks`), for receivers. */
export type GenerationEvent = components['schemas']['GenerationEvent'];
export type Batch = components['schemas']['Batch'];
/** The batch.completed webhook's body. */
export type BatchEvent = components['schemas']['BatchEvent'];

type AdminJson<P extends keyof adminPaths, M extends 'get' | 'post'> = adminPaths[P][M] extends {
  responses: { 200: { content: { 'application/json': infer Body } } };
}
  ? Body
  : never;
/** The admin answers, which the CLI prints for the same actions. */
export type FleetStatus = AdminJson<'/admin/v1/fleet', 'get'>;
export type FleetPaused = AdminJson<'/admin/v1/fleet/pause', 'post'>;
export type FleetResumed = AdminJson<'/admin/v1/fleet/resume', 'post'>;
/** A bulk retry (POST /admin/v1/retries answers it with 202, GET /admin/v1/retries/{id} with 200). */
export type Retry = adminComponents['schemas']['Retry'];
/** POST /admin/v1/retries with dry_run: what a retry would do. */
export type RetryDryRun = AdminJson<'/admin/v1/retries', 'post'>;

export interface ClientOptions {
  /** Where the API listens, e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  /** A tenant API key. */
  apiKey: string;
  fetch?: typeof globalThis.fetch;
}

/** A client of the public API, authenticated with a tenant's key. */
export function darkroomClient({ baseUrl, apiKey, fetch }: ClientOptions): Client<paths> {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${apiKey}` }, ...(fetch ? { fetch } : {}) });
}
