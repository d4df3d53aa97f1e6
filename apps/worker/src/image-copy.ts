/**
 * Copies a temporary Z.AI image into S3, streaming: the download flows through a tap (sha256,
 * byte count, size cap, image header) straight into PutObject, so no job holds a whole image in
 * memory. Guarantees:
 * - a stored object is whole and verified (read back and hashed, since some S3-compatible servers
 *   corrupt uploads), or it is deleted and the copy fails retryably;
 * - nothing waits without end: the download and its upload share one total deadline
 *   (IMAGE_DOWNLOAD_TIMEOUT_MS), every other S3 request has its own (S3_TIMEOUT_MS), and each is
 *   raced against its deadline, so even a call that ignores its abort signal cannot hold the slot;
 * - a body that is not a PNG, JPEG or WebP by its Content-Type, or larger than IMAGE_MAX_BYTES by
 *   its Content-Length or by counting, is refused before or while streaming and never kept; too
 *   large is permanent, a wrong or incomplete body an ImageContentError (retried a few times).
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { request, type Dispatcher } from 'undici';
import { ImageContentError, ImageExpiredError, JobError, PermanentError, TransientError, type StoredImage } from '@darkroom/shared';
import { readImageHeader, type ImageHeader } from './image-header.ts';

const HEAD_BYTES = 64 * 1024;

class ImageTap extends Transform {
  readonly #hash = createHash('sha256');
  readonly #maxBytes: number;
  #head: Buffer[] = [];
  #headLength = 0;
  bytes = 0;
  tooLarge = false;

  constructor(maxBytes: number) {
    super();
    this.#maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#maxBytes) {
      this.tooLarge = true;
      done(tooLarge(`more than ${this.#maxBytes} bytes`, this.#maxBytes));
      return;
    }
    this.#hash.update(chunk);
    if (this.#headLength < HEAD_BYTES) {
      this.#head.push(chunk);
      this.#headLength += chunk.length;
    }
    done(null, chunk);
  }

  sha256(): string {
    return this.#hash.digest('hex');
  }

  header(): ImageHeader | undefined {
    return readImageHeader(Buffer.concat(this.#head));
  }
}

/** Permanent: Z.AI's image behind the URL never changes, so no retry can make it smaller. */
function tooLarge(size: string, maxBytes: number): PermanentError {
  return new PermanentError('image_too_large', `the image is ${size}, over IMAGE_MAX_BYTES (${maxBytes})`);
}

/** A deadline: its signal aborts with `error` after `ms`; clear() once the work is over. */
function deadline(ms: number, error: () => JobError): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(error()), ms);
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** `work`'s outcome, or the signal's reason as soon as it aborts, whichever comes first. */
async function bounded<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) throw signal.reason;
  let onAbort = () => undefined as void;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

const EXT_BY_TYPE: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

/** The object key of a generation's image: deterministic, so every retry writes the same object. */
export function imageKey(tenant: string, id: string, contentType: string): string {
  return `images/${tenant}/${id}.${EXT_BY_TYPE[contentType] ?? 'img'}`;
}

export interface CopyDeps {
  s3: S3Client;
  bucket: string;
  /** Total deadline of the download and of the upload it streams into. */
  downloadTimeoutMs: number;
  /** Total deadline of every other S3 request: the read-back, a delete. */
  s3TimeoutMs: number;
  maxBytes: number;
  dispatcher?: Dispatcher;
}

/** Runs one S3 request (and whatever reads its answer) within S3_TIMEOUT_MS. */
async function s3Call<T>(deps: CopyDeps, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const limit = deadline(
    deps.s3TimeoutMs,
    () => new TransientError('s3_timeout', `S3 ${what} did not finish within S3_TIMEOUT_MS (${deps.s3TimeoutMs} ms)`),
  );
  try {
    return await bounded(limit.signal, work(limit.signal));
  } finally {
    limit.clear();
  }
}

async function sha256OfObject(deps: CopyDeps, key: string): Promise<{ sha256: string; bytes: number }> {
  return s3Call(deps, 'read-back', async (signal) => {
    const res = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }), { abortSignal: signal });
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of res.Body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return { sha256: hash.digest('hex'), bytes };
  });
}

async function deleteQuietly(deps: CopyDeps, key: string): Promise<void> {
  await s3Call(deps, 'delete', (signal) =>
    deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: key }), { abortSignal: signal }),
  ).catch(() => undefined);
}

export async function copyImage(
  deps: CopyDeps,
  source: { url: string; tenant: string; id: string },
): Promise<StoredImage> {
  const limit = deadline(
    deps.downloadTimeoutMs,
    () => new TransientError('image_download_timeout', `the image copy did not finish within IMAGE_DOWNLOAD_TIMEOUT_MS (${deps.downloadTimeoutMs} ms)`),
  );
  try {
    return await copyWithin(deps, source, limit.signal);
  } finally {
    limit.clear();
  }
}

async function copyWithin(deps: CopyDeps, source: { url: string; tenant: string; id: string }, signal: AbortSignal): Promise<StoredImage> {
  let res: Dispatcher.ResponseData;
  try {
    res = await bounded(
      signal,
      request(source.url, {
        method: 'GET',
        signal,
        headersTimeout: deps.downloadTimeoutMs,
        bodyTimeout: deps.downloadTimeoutMs,
        ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
      }),
    );
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new TransientError('image_download_failed', `image download failed: ${(err as Error).message}`, undefined, { cause: err });
  }
  // undici reports a destroyed, unread body as an 'error' event: without a listener, a crash.
  const discard = () => res.body.on('error', () => undefined).destroy();
  const refuse = (error: JobError) => {
    discard();
    return error;
  };
  if (res.statusCode === 403 || res.statusCode === 404 || res.statusCode === 410) {
    throw refuse(new ImageExpiredError('image_expired', `the temporary image URL answered ${res.statusCode}`));
  }
  if (res.statusCode !== 200) {
    throw refuse(new TransientError('image_download_failed', `the temporary image URL answered ${res.statusCode}`));
  }
  const contentType = String(res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!(contentType in EXT_BY_TYPE)) {
    throw refuse(new ImageContentError('image_wrong_type', `expected a PNG, JPEG or WebP image, got content-type "${contentType}"`));
  }
  const lengthHeader = res.headers['content-length'];
  const expected = lengthHeader === undefined ? undefined : Number(lengthHeader);
  if (expected !== undefined && expected > deps.maxBytes) {
    throw refuse(tooLarge(`${expected} bytes by its Content-Length`, deps.maxBytes));
  }

  const key = imageKey(source.tenant, source.id, contentType);
  const tap = new ImageTap(deps.maxBytes);
  let upload: Upload | undefined;
  try {
    if (expected !== undefined && Number.isFinite(expected)) {
      // Known length: one PutObject streaming the body as it arrives, within the download's deadline.
      const put = deps.s3.send(
        new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: tap, ContentLength: expected, ContentType: contentType }),
        // No request timer of the client's: this upload lasts as long as the download feeding it.
        { abortSignal: signal, requestTimeout: 0 },
      );
      await bounded(signal, Promise.all([pipeline(res.body, tap), put]));
    } else {
      // Unknown length: multipart upload, which buffers one 5 MiB part at a time at most.
      upload = new Upload({
        client: deps.s3,
        params: { Bucket: deps.bucket, Key: key, Body: tap, ContentType: contentType },
      });
      await bounded(signal, Promise.all([pipeline(res.body, tap), upload.done()]));
    }
  } catch (err) {
    discard();
    tap.destroy();
    if (upload) await upload.abort().catch(() => undefined);
    await deleteQuietly(deps, key);
    if (tap.tooLarge) throw tooLarge(`more than ${deps.maxBytes} bytes`, deps.maxBytes);
    if (signal.aborted) throw signal.reason;
    throw new TransientError('image_copy_failed', `copying the image failed: ${(err as Error).message}`, undefined, { cause: err });
  }

  const sha256 = tap.sha256();
  const header = tap.header();
  const problem =
    expected !== undefined && tap.bytes !== expected
      ? `downloaded ${tap.bytes} bytes of ${expected}`
      : header === undefined
        ? 'the body is not a PNG, JPEG or WebP image'
        : undefined;
  if (problem) {
    await deleteQuietly(deps, key);
    throw new ImageContentError('image_incomplete', problem);
  }
  let stored;
  try {
    stored = await sha256OfObject(deps, key);
  } catch (err) {
    await deleteQuietly(deps, key);
    if (err instanceof JobError) throw err;
    throw new TransientError('store_verification_failed', `reading the stored object back failed: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (stored.sha256 !== sha256 || stored.bytes !== tap.bytes) {
    await deleteQuietly(deps, key);
    throw new TransientError(
      'store_verification_failed',
      `stored object differs from the download (${stored.bytes} bytes vs ${tap.bytes})`,
    );
  }
  return {
    bucket: deps.bucket,
    key,
    sha256,
    bytes: tap.bytes,
    content_type: contentType,
    width: header?.width ?? 0,
    height: header?.height ?? 0,
  };
}
