import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config.ts';

/**
 * Checksums only when an operation requires them: the SDK's default (CRC32 over aws-chunked
 * streaming bodies) is stored verbatim, chunk framing and all, by some S3-compatible servers.
 * We verify every stored object by sha256 ourselves instead.
 */
export function createS3Client(s3: Config['s3']): S3Client {
  return new S3Client({
    region: s3.region,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    forcePathStyle: s3.forcePathStyle,
    // A copy: the SDK annotates the credentials object, and config is frozen.
    ...(s3.credentials ? { credentials: { ...s3.credentials } } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}
