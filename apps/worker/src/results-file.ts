/**
 * Writes a batch's results.jsonl to S3 at `<tenant>/batches/<batchId>/results.jsonl` (the batch
 * contract) and verifies it: the object is read back and hashed, since some S3-compatible servers
 * corrupt uploads; a mismatch deletes it and fails retryably. 100,000 lines are about 30 MB, so
 * the file is built in memory and sent in one PutObject. Every S3 request has S3_TIMEOUT_MS.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { TransientError, batchResultItems, type BatchRecord } from '@darkroom/shared';
import type { ResultsFile } from './batch-state.ts';
import type { WorkerContext } from './context.ts';

export function resultsKey(tenant: string, batchId: string): string {
  return `${tenant}/batches/${batchId}/results.jsonl`;
}

export interface WrittenResults extends ResultsFile {
  /** Items canceled by the caller, and by cancel_after. */
  canceled: number;
  expired: number;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export async function writeResultsFile(ctx: WorkerContext, batch: BatchRecord): Promise<WrittenResults> {
  const lines: string[] = [];
  let canceled = 0;
  let expired = 0;
  for await (const item of batchResultItems(ctx.redis, ctx.keys, batch.id, ctx.links)) {
    lines.push(`${JSON.stringify(item)}\n`);
    if (item.status === 'canceled') {
      if (item.error?.code === 'expired') expired++;
      else canceled++;
    }
  }
  const body = Buffer.from(lines.join(''), 'utf8');
  const key = resultsKey(batch.tenant, batch.id);
  const timeout = () => AbortSignal.timeout(ctx.config.s3.timeoutMs);
  try {
    await ctx.s3.send(
      new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: body, ContentLength: body.length, ContentType: 'application/x-ndjson' }),
      { abortSignal: timeout() },
    );
    const res = await ctx.s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key }), { abortSignal: timeout() });
    const stored = Buffer.from((await res.Body?.transformToByteArray()) ?? []);
    if (sha256(stored) !== sha256(body)) {
      await ctx.s3.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: key }), { abortSignal: timeout() }).catch(() => undefined);
      throw new TransientError('results_verification_failed', `stored results file differs from the one sent (${stored.length} bytes vs ${body.length})`);
    }
  } catch (err) {
    if (err instanceof TransientError) throw err;
    throw new TransientError('results_upload_failed', `writing the results file failed: ${(err as Error).message}`, undefined, { cause: err });
  }
  return { bucket: ctx.bucket, key, bytes: body.length, canceled, expired };
}
