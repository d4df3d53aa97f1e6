import { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';

export interface S3Target {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** The configuration the services use: checksums only when an operation requires them. */
export function safeClient(t: S3Target): S3Client {
  return new S3Client({
    endpoint: t.endpoint,
    region: t.region,
    forcePathStyle: true,
    credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The SDK defaults (CRC32 on every upload, aws-chunked for streaming bodies). */
export function defaultClient(t: S3Target): S3Client {
  return new S3Client({
    endpoint: t.endpoint,
    region: t.region,
    forcePathStyle: true,
    credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
  });
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
export const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
