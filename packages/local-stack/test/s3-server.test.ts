import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server, type S3ServerHandle } from '../src/index.ts';
import { defaultClient, md5, safeClient, sha256 } from './s3-client.ts';

// Several chunks, so a streamed body goes out as more than one aws-chunked frame.
const content = randomBytes(300 * 1024 + 17);
const streamOf = (b: Buffer): Readable => Readable.from([b.subarray(0, 64 * 1024), b.subarray(64 * 1024, 200 * 1024), b.subarray(200 * 1024)]);

async function getBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

describe('startS3Server (s3rver)', () => {
  let s3: S3ServerHandle;
  let client: S3Client;

  beforeAll(async () => {
    s3 = await startS3Server();
    client = safeClient(s3);
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
  });

  it('listens on loopback with the bucket created and s3rver credentials', async () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3).toMatchObject({ bucket: 'darkroom', region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true });
    await expect(client.send(new HeadBucketCommand({ Bucket: s3.bucket }))).resolves.toBeDefined();
  });

  it.each([
    ['Buffer', () => content],
    ['Readable with ContentLength', () => streamOf(content)],
  ])('PutObject with a %s body stores exactly the bytes (WHEN_REQUIRED checksums)', async (kind, body) => {
    const key = `safe/${kind}.png`;
    const put = await client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body(), ContentLength: content.length, ContentType: 'image/png' }),
    );
    expect(put.ETag).toBe(`"${md5(content)}"`);

    const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(head.ContentLength).toBe(content.length);
    expect(head.ContentType).toBe('image/png');
    expect(head.ETag).toBe(`"${md5(content)}"`);

    expect(sha256(await getBytes(client, s3.bucket, key))).toBe(sha256(content));
  });

  // Why the services configure requestChecksumCalculation: 'WHEN_REQUIRED': with the SDK
  // defaults a streamed body is sent aws-chunked, and s3rver stores the chunk framing.
  it('with SDK default checksums, a streamed PutObject is stored with aws-chunked framing (corrupt)', async () => {
    const naive = defaultClient(s3);
    try {
      await naive.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: 'naive/stream.png', Body: streamOf(content), ContentLength: content.length }),
      );
    } finally {
      naive.destroy();
    }
    const stored = await getBytes(client, s3.bucket, 'naive/stream.png');
    expect(stored.length).toBeGreaterThan(content.length);
    expect(sha256(stored)).not.toBe(sha256(content));
    // First chunk header: hex size, CRLF.
    expect(stored.subarray(0, 16).toString('latin1')).toMatch(/^[0-9a-f]+\r\n/);
  });

  it('with SDK default checksums, a Buffer PutObject is intact (checksum goes in a header)', async () => {
    const naive = defaultClient(s3);
    try {
      await naive.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'naive/buffer.png', Body: content }));
    } finally {
      naive.destroy();
    }
    expect(sha256(await getBytes(client, s3.bucket, 'naive/buffer.png'))).toBe(sha256(content));
  });

  it('supports multipart upload (CreateMultipartUpload / UploadPart / CompleteMultipartUpload)', async () => {
    const key = 'multipart/big.png';
    const part1 = randomBytes(5 * 1024 * 1024);
    const part2 = randomBytes(123_457);
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key, ContentType: 'image/png' }));
    expect(UploadId).toBeTruthy();
    const p1 = await client.send(new UploadPartCommand({ Bucket: s3.bucket, Key: key, UploadId, PartNumber: 1, Body: part1 }));
    const p2 = await client.send(
      new UploadPartCommand({ Bucket: s3.bucket, Key: key, UploadId, PartNumber: 2, Body: Readable.from([part2]), ContentLength: part2.length }),
    );
    expect(p1.ETag).toBe(`"${md5(part1)}"`);
    expect(p2.ETag).toBe(`"${md5(part2)}"`);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: s3.bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
      }),
    );

    const whole = Buffer.concat([part1, part2]);
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(head.ContentLength).toBe(whole.length);
    expect(head.ContentType).toBe('image/png');
    expect(sha256(await getBytes(client, s3.bucket, key))).toBe(sha256(whole));
  });
});

describe('startS3Server lifecycle', () => {
  it('removes its temp directory on stop and frees the port', async () => {
    const s3 = await startS3Server({ bucket: 'other-bucket' });
    expect(s3.bucket).toBe('other-bucket');
    expect(existsSync(s3.directory)).toBe(true);
    await s3.stop();
    await s3.stop();
    expect(existsSync(s3.directory)).toBe(false);
    await expect(fetch(s3.endpoint)).rejects.toThrow();
  });

  it('keeps objects in a given directory across restarts on the same port', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'darkroom-s3-test-'));
    try {
      const first = await startS3Server({ directory });
      const port = Number(new URL(first.endpoint).port);
      let client = safeClient(first);
      await client.send(new PutObjectCommand({ Bucket: first.bucket, Key: 'k', Body: content }));
      client.destroy();
      await first.stop();
      expect(existsSync(directory)).toBe(true);

      const second = await startS3Server({ directory, port });
      try {
        expect(second.endpoint).toBe(first.endpoint);
        client = safeClient(second);
        expect(sha256(await getBytes(client, second.bucket, 'k'))).toBe(sha256(content));
        client.destroy();
      } finally {
        await second.stop();
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
