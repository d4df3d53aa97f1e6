/**
 * Copies a temporary Z.AI image into S3, streaming: the download flows through a tap (sha256,
 * byte count, image header) straight into PutObject, so no job holds a whole image in memory.
 * Guarantees: a stored object is whole and verified (read back and hashed, since some
 * S3-compatible servers corrupt uploads), or it is deleted and the copy fails retryably.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { request, type Dispatcher } from 'undici';
import { ImageExpiredError, TransientError, type StoredImage } from '@darkroom/shared';
import { readImageHeader, type ImageHeader } from './image-header.ts';

const HEAD_BYTES = 64 * 1024;

class ImageTap extends Transform {
  readonly #hash = createHash('sha256');
  #head: Buffer[] = [];
  #headLength = 0;
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
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

const EXT_BY_TYPE: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

/** The object key of a generation's image: deterministic, so every retry writes the same object. */
export function imageKey(tenant: string, id: string, contentType: string): string {
  return `images/${tenant}/${id}.${EXT_BY_TYPE[contentType] ?? 'img'}`;
}

export interface CopyDeps {
  s3: S3Client;
  bucket: string;
  timeoutMs: number;
  dispatcher?: Dispatcher;
}

async function sha256OfObject(s3: S3Client, bucket: string, key: string): Promise<{ sha256: string; bytes: number }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of res.Body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function deleteQuietly(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
}

export async function copyImage(
  deps: CopyDeps,
  source: { url: string; tenant: string; id: string },
): Promise<StoredImage> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(source.url, {
      method: 'GET',
      headersTimeout: deps.timeoutMs,
      bodyTimeout: deps.timeoutMs,
      ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
    });
  } catch (err) {
    throw new TransientError('image_download_failed', `image download failed: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (res.statusCode === 403 || res.statusCode === 404 || res.statusCode === 410) {
    await res.body.dump();
    throw new ImageExpiredError('image_expired', `the temporary image URL answered ${res.statusCode}`);
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new TransientError('image_download_failed', `the temporary image URL answered ${res.statusCode}`);
  }
  const contentType = String(res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!contentType.startsWith('image/')) {
    await res.body.dump();
    throw new TransientError('image_wrong_type', `expected an image, got content-type "${contentType}"`);
  }
  const lengthHeader = res.headers['content-length'];
  const expected = lengthHeader === undefined ? undefined : Number(lengthHeader);

  const key = imageKey(source.tenant, source.id, contentType);
  const tap = new ImageTap();
  try {
    if (expected !== undefined && Number.isFinite(expected)) {
      // Known length: one PutObject streaming the body as it arrives.
      const upload = deps.s3.send(
        new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: tap, ContentLength: expected, ContentType: contentType }),
      );
      await Promise.all([pipeline(res.body, tap), upload]);
    } else {
      // Unknown length: multipart upload, which buffers one 5 MiB part at a time at most.
      const upload = new Upload({
        client: deps.s3,
        params: { Bucket: deps.bucket, Key: key, Body: tap, ContentType: contentType },
      });
      await Promise.all([pipeline(res.body, tap), upload.done()]);
    }
  } catch (err) {
    res.body.destroy();
    await deleteQuietly(deps.s3, deps.bucket, key);
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
    await deleteQuietly(deps.s3, deps.bucket, key);
    throw new TransientError('image_incomplete', problem);
  }
  const stored = await sha256OfObject(deps.s3, deps.bucket, key);
  if (stored.sha256 !== sha256 || stored.bytes !== tap.bytes) {
    await deleteQuietly(deps.s3, deps.bucket, key);
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
