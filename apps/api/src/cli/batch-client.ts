/**
 * The HTTP side of `darkroom batch …`: talks to a running API as a tenant (DARKROOM_API_URL,
 * DARKROOM_API_KEY), never to Redis. Its environment is its own small schema: these are a client's
 * settings, not the API's.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { z } from 'zod';
import type { Batch } from '@darkroom/client';

export const clientEnvSchema = z.object({
  DARKROOM_API_URL: z
    .string()
    .trim()
    .url('expected the API URL, e.g. http://127.0.0.1:3000')
    .default('http://127.0.0.1:3000')
    .transform((u) => u.replace(/\/+$/, '')),
  DARKROOM_API_KEY: z.string({ error: 'is required: an API key from `darkroom keys create`' }).trim().min(1, 'is required'),
});

export class ApiCallError extends Error {
  override name = 'ApiCallError';
  readonly status: number;
  constructor(status: number, body: string) {
    super(`HTTP ${status}: ${body}`);
    this.status = status;
  }
}

/** The batch the API answers with, as its OpenAPI document (the generated client types) says. */
export type BatchObject = Batch;

export const BATCH_ENDED = new Set(['completed', 'canceled', 'expired']);

export class BatchClient {
  readonly #url: string;
  readonly #key: string;

  constructor(env: z.output<typeof clientEnvSchema>) {
    this.#url = env.DARKROOM_API_URL;
    this.#key = env.DARKROOM_API_KEY;
  }

  async #call(method: string, path: string, init: { body?: RequestInit['body']; headers?: Record<string, string> } = {}): Promise<Response> {
    const res = await fetch(`${this.#url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.#key}`, ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body, duplex: 'half' }),
    });
    if (!res.ok) throw new ApiCallError(res.status, await res.text());
    return res;
  }

  /** Streams the file as the upload; the API checks it line by line as it arrives. */
  async submit(file: string, opts: { webhookUrl?: string | undefined; idempotencyKey?: string | undefined }): Promise<BatchObject> {
    const query = new URLSearchParams();
    if (opts.webhookUrl) query.set('webhook_url', opts.webhookUrl);
    const body = Readable.toWeb(createReadStream(file));
    const res = await this.#call('POST', `/v1/batches${query.size ? `?${query.toString()}` : ''}`, {
      body,
      headers: { 'content-type': 'application/x-ndjson', ...(opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {}) },
    });
    return (await res.json()) as BatchObject;
  }

  async get(id: string): Promise<BatchObject> {
    return (await (await this.#call('GET', `/v1/batches/${encodeURIComponent(id)}`)).json()) as BatchObject;
  }

  async cancel(id: string): Promise<BatchObject> {
    return (await (await this.#call('POST', `/v1/batches/${encodeURIComponent(id)}/cancel`)).json()) as BatchObject;
  }

  /** The results file (JSONL), as a stream. */
  async results(id: string): Promise<Readable> {
    const res = await this.#call('GET', `/v1/batches/${encodeURIComponent(id)}/results.jsonl`);
    if (!res.body) throw new ApiCallError(res.status, 'no body');
    return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  }
}
