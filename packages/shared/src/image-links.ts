import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from './config.ts';

/** A stored image's link: under S3_PUBLIC_BASE_URL when set, else a presigned GET. */
export function imageLinker(s3: S3Client, cfg: Config['s3']) {
  return async (bucket: string, key: string): Promise<string> => {
    if (cfg.publicBaseUrl) return `${cfg.publicBaseUrl}/${key.split('/').map(encodeURIComponent).join('/')}`;
    return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: cfg.presignTtlSeconds });
  };
}
export type ImageLinker = ReturnType<typeof imageLinker>;
