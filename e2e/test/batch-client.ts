/**
 * Batches as a caller makes and follows them: POST /v1/batches (JSON, or a JSONL upload),
 * GET /v1/batches/:id and its items, POST /v1/batches/:id/cancel, GET …/results.jsonl. Every
 * failed call throws with the API's answer, so a test never goes on from a batch that was refused.
 */
import { randomUUID } from 'node:crypto';
import { ZAI_MODEL, type BatchResultLine, type BatchView } from '@darkroom/shared';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

export interface BatchItem {
  prompt: string;
  custom_id?: string;
  size?: string;
}

export interface BatchOptions {
  /** Another tenant's key; the stack's tenant by default. */
  apiKey?: string;
  webhook_url?: string;
  item_webhooks?: boolean;
  metadata?: Record<string, unknown>;
  /** RFC 3339 time or whole seconds from now, as the API takes it. */
  cancel_after?: string | number;
  /** Send the requests as a JSONL upload (options as query parameters) instead of a JSON body. */
  jsonl?: boolean;
}

const ITEMS_PAGE = 1000;

const request = (item: BatchItem) => ({
  model: ZAI_MODEL,
  prompt: item.prompt,
  size: item.size ?? '512x512',
  ...(item.custom_id === undefined ? {} : { custom_id: item.custom_id }),
});

async function call<T>(stack: Stack, method: string, path: string, init: { apiKey?: string | undefined; body?: string; type?: string } = {}): Promise<T> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${init.apiKey ?? stack.apiKey}`, ...(init.type ? { 'content-type': init.type } : {}) },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Submits a batch through the API; answers its id and its items' generation ids in input order. */
export async function submitBatch(stack: Stack, items: BatchItem[], opts: BatchOptions = {}): Promise<{ id: string; ids: string[]; accepted: BatchView }> {
  const options = {
    ...(opts.webhook_url === undefined ? {} : { webhook_url: opts.webhook_url }),
    ...(opts.item_webhooks ? { item_webhooks: true } : {}),
    ...(opts.metadata === undefined ? {} : { metadata: opts.metadata }),
    ...(opts.cancel_after === undefined ? {} : { cancel_after: opts.cancel_after }),
  };
  let accepted: BatchView;
  if (opts.jsonl) {
    const query = new URLSearchParams(Object.entries(options).map(([k, v]): [string, string] => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]));
    const body = items.map((item) => JSON.stringify(request(item))).join('\n') + '\n';
    accepted = await call<BatchView>(stack, 'POST', `/v1/batches${query.size ? `?${query.toString()}` : ''}`, { apiKey: opts.apiKey, body, type: 'application/x-ndjson' });
  } else {
    const body = JSON.stringify({ requests: items.map(request), ...options });
    accepted = await call<BatchView>(stack, 'POST', '/v1/batches', { apiKey: opts.apiKey, body, type: 'application/json' });
  }
  return { id: accepted.id, ids: await batchItemIds(stack, accepted.id, opts.apiKey), accepted };
}

/** GET /v1/batches/:id/items, every page: the generation ids in input order. */
export async function batchItemIds(stack: Stack, id: string, apiKey?: string): Promise<string[]> {
  const ids: string[] = [];
  for (let cursor: string | null = ''; cursor !== null; ) {
    const page: { data: Array<{ id: string }>; next_cursor: string | null } = await call(stack, 'GET', `/v1/batches/${id}/items?limit=${ITEMS_PAGE}${cursor ? `&cursor=${cursor}` : ''}`, { apiKey });
    ids.push(...page.data.map((item) => item.id));
    cursor = page.next_cursor;
  }
  return ids;
}

export const getBatch = (stack: Stack, id: string, apiKey?: string) => call<BatchView>(stack, 'GET', `/v1/batches/${id}`, { apiKey });

/** POST /v1/batches/:id/cancel; answers how many items this cancel canceled (none were before). */
export async function cancelBatch(stack: Stack, id: string): Promise<number> {
  const batch = await call<BatchView>(stack, 'POST', `/v1/batches/${id}/cancel`);
  return batch.request_counts.canceled;
}

export const uniquePrompt = (label: string, i: number) => `${label} ${i} ${randomUUID().slice(0, 8)}`;

/** Polls GET /v1/batches/:id until the batch has one of the statuses. */
export async function waitForBatch(stack: Stack, id: string, statuses: string[], timeoutMs = 120_000, apiKey?: string): Promise<BatchView> {
  return waitUntil(
    async () => {
      const batch = await getBatch(stack, id, apiKey);
      return statuses.includes(batch.status) ? batch : undefined;
    },
    `batch ${id} to reach ${statuses.join('|')}`,
    timeoutMs,
    100,
  );
}

/** GET /v1/batches/:id/results.jsonl, parsed, with the answer's status and content type. */
export async function fetchResults(stack: Stack, id: string, apiKey = stack.apiKey): Promise<{ status: number; type: string; lines: BatchResultLine[] }> {
  const res = await fetch(`${stack.apiUrl}/v1/batches/${id}/results.jsonl`, { headers: { authorization: `Bearer ${apiKey}` } });
  const text = await res.text();
  const lines = res.status === 200 ? text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as BatchResultLine) : [];
  return { status: res.status, type: res.headers.get('content-type') ?? '', lines };
}

/** Waits until no notify job is left to run, so a second delivery would already have been made. */
export async function notifyDrained(stack: Stack): Promise<void> {
  await waitUntil(
    async () => {
      const counts = await stack.queues.notify.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(counts).every((n) => n === 0) ? true : undefined;
    },
    'the notify queue to drain',
    30_000,
  );
}
