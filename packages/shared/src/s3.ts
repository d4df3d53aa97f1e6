import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config.ts';

/**
 * Checksums only when an operation requires them: the SDK's default (CRC32 over aws-chunked
 * streaming bodies) is stored verbatim, chunk framing and all, by some S3-compatible servers.
 * We verify every stored object by sha256 ourselves instead.
 * The SDK sets no timeout of its own: S3_TIMEOUT_MS bounds connecting and each request until its
 * answer arrives (callers that stream a long body pass their own requestTimeout and abortSignal).
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
    requestHandler: { connectionTimeout: s3.timeoutMs, requestTimeout: s3.timeoutMs, throwOnRequestTimeout: true },
  });
}
