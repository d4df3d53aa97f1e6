/**
 * A batch's results.jsonl in S3: built from the items as they are now (buildResults), then written
 * and verified (putResults): the object is read back and hashed, since some S3-compatible servers
 * corrupt uploads; a mismatch deletes it and fails retryably. 100,000 lines are about 30 MB, so the
 * file is built in memory and sent in one PutObject. Every S3 request has S3_TIMEOUT_MS.
 *
 * Each finalize run writes under a key of its own (resultsKey): the batch's end round and a random
 * run id. A run that read the batch before an admin retry reopened it, or a second run of the same
 * end, may write after the end that counts; it can then only write its own object, never the one
 * the batch points at (batch-end.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { TransientError, batchResultItems, type BatchRecord } from '@darkroom/shared';
import type { WorkerContext } from './context.ts';

export type ResultsDeps = Pick<WorkerContext, 'redis' | 'keys' | 'links' | 's3' | 'bucket' | 'config'>;

/**
 * `<tenant>/batches/<batchId>/results-<round>-<run>.jsonl`, round = how often an admin retry had
 * reopened the batch. (Batches ended before run keys existed point at `…/results.jsonl`.)
 */
export function resultsKey(batch: Pick<BatchRecord, 'tenant' | 'id' | 'reopened'>, run: string): string {
  return `${batch.tenant}/batches/${batch.id}/results-${batch.reopened}-${run}.jsonl`;
}

export const newRunId = (): string => randomBytes(8).toString('hex');

export interface BuiltResults {
  body: Buffer;
  /** Items canceled by the caller, and by cancel_after. */
  canceled: number;
  expired: number;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export async function buildResults(deps: ResultsDeps, batchId: string): Promise<BuiltResults> {
  const lines: string[] = [];
  let canceled = 0;
  let expired = 0;
  for await (const item of batchResultItems(deps.redis, deps.keys, batchId, deps.links)) {
    lines.push(`${JSON.stringify(item)}\n`);
    if (item.status === 'canceled') {
      if (item.error?.code === 'expired') expired++;
      else canceled++;
    }
  }
  return { body: Buffer.from(lines.join(''), 'utf8'), canceled, expired };
}

const timeout = (deps: ResultsDeps) => AbortSignal.timeout(deps.config.s3.timeoutMs);

export async function deleteResults(deps: ResultsDeps, key: string): Promise<void> {
  await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: key }), { abortSignal: timeout(deps) });
}

/** Writes `body` at `key` and reads it back: a stored copy that differs is deleted and fails retryably. */
export async function putResults(deps: ResultsDeps, key: string, body: Buffer): Promise<void> {
  try {
    await deps.s3.send(
      new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: body, ContentLength: body.length, ContentType: 'application/x-ndjson' }),
      { abortSignal: timeout(deps) },
    );
    const res = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }), { abortSignal: timeout(deps) });
    const stored = Buffer.from((await res.Body?.transformToByteArray()) ?? []);
    if (sha256(stored) !== sha256(body)) {
      await deleteResults(deps, key).catch(() => undefined);
      throw new TransientError('results_verification_failed', `stored results file differs from the one sent (${stored.length} bytes vs ${body.length})`);
    }
  } catch (err) {
    if (err instanceof TransientError) throw err;
    throw new TransientError('results_upload_failed', `writing the results file failed: ${(err as Error).message}`, undefined, { cause: err });
  }
}
