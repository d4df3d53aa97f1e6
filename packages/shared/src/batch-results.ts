/**
 * The results of a batch, one line per item in input order, read from Redis as they are now: the
 * API streams them (GET /v1/batches/:id/results.jsonl, partial while the batch runs) and the
 * worker's finalize stage writes the same lines to S3 once every item has ended. One generator,
 * so the two can never disagree.
 *
 * Memory stays flat whatever the batch size: ids come from keys.batchItems `chunk` at a time, and
 * each chunk's records are read in one pipeline.
 */
import type { Redis } from 'ioredis';
import type { ErrorDetail } from './errors.ts';
import type { StoredImage } from './generation-record.ts';
import type { ImageLinker } from './image-links.ts';
import type { RedisKeys } from './keys.ts';

export interface BatchResultLine {
  custom_id: string | null;
  id: string;
  /** The item's status, or `unknown` when its record is gone (past its retention). */
  status: string;
  result: { url: string; key: string; sha256: string; bytes: number; width: number; height: number } | null;
  error: ErrorDetail | null;
}

const FIELDS = ['status', 'custom_id', 'result', 'error'] as const;

function parsed<T>(raw: string | null): T | undefined {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

async function toLine(id: string, fields: (string | null)[], link: ImageLinker): Promise<BatchResultLine> {
  const [status, customId, rawResult, rawError] = fields as [string | null, string | null, string | null, string | null];
  if (status === null) {
    return { custom_id: null, id, status: 'unknown', result: null, error: { code: 'record_gone', message: 'the item record is past its retention' } };
  }
  const stored = status === 'succeeded' ? parsed<StoredImage>(rawResult) : undefined;
  const error = parsed<ErrorDetail>(rawError);
  return {
    custom_id: customId,
    id,
    status,
    result: stored
      ? { url: await link(stored.bucket, stored.key), key: stored.key, sha256: stored.sha256, bytes: stored.bytes, width: stored.width, height: stored.height }
      : null,
    error: error ? { code: error.code, message: error.message } : null,
  };
}

/** Every item of the batch as a results line, in input order. */
export async function* batchResultItems(
  redis: Redis,
  keys: RedisKeys,
  batchId: string,
  link: ImageLinker,
  chunk = 500,
): AsyncGenerator<BatchResultLine> {
  for (let start = 0; ; start += chunk) {
    const ids = await redis.lrange(keys.batchItems(batchId), start, start + chunk - 1);
    if (ids.length === 0) return;
    const pipe = redis.pipeline();
    for (const id of ids) pipe.hmget(keys.generation(id), ...FIELDS);
    const replies = (await pipe.exec()) ?? [];
    for (const [i, id] of ids.entries()) {
      const [err, fields] = replies[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      yield await toLine(id, fields as (string | null)[], link);
    }
    if (ids.length < chunk) return;
  }
}

/** The same, serialised: one JSON line per item, newline-terminated (JSONL). */
export async function* batchResultLines(
  redis: Redis,
  keys: RedisKeys,
  batchId: string,
  link: ImageLinker,
  chunk = 500,
): AsyncGenerator<string> {
  for await (const item of batchResultItems(redis, keys, batchId, link, chunk)) yield `${JSON.stringify(item)}\n`;
}
