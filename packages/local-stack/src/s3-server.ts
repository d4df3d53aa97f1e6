// The reference carries the ambient types for s3rver (it ships none) into every program that imports this file.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./s3rver.d.ts" />
import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';
import { makeTempDir, removeDir } from './temp-dir.ts';

export interface S3ServerOptions {
  port?: number;
  /** Where objects are stored; default: a new temp dir, removed by stop(). */
  directory?: string;
  /** Created at start; default 'darkroom'. */
  bucket?: string;
}

export interface S3ServerHandle {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: true;
  directory: string;
  stop(): Promise<void>;
}

// s3rver accepts only these credentials and verifies SigV4 signatures made with them.
const S3RVER_KEY = 'S3RVER';
const HOST = '127.0.0.1';

/**
 * An in-process s3rver on 127.0.0.1 with `bucket` created. Clients must use path-style URLs and
 * `requestChecksumCalculation: 'WHEN_REQUIRED'` (s3rver stores aws-chunked bodies verbatim).
 */
export async function startS3Server(opts: S3ServerOptions = {}): Promise<S3ServerHandle> {
  const bucket = opts.bucket ?? 'darkroom';
  const ownsDirectory = opts.directory === undefined;
  const directory = opts.directory ?? (await makeTempDir('s3'));
  if (!ownsDirectory) await mkdir(directory, { recursive: true });

  const server = new S3rver({
    port: opts.port ?? 0,
    address: HOST,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });

  let port: number;
  try {
    port = (await server.run()).port;
  } catch (err) {
    if (ownsDirectory) await removeDir(directory);
    throw new Error(`s3rver could not listen on ${HOST}:${opts.port ?? 0}: ${String(err)}`, { cause: err });
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const http = server.httpServer;
      const closed = server.close();
      // Keep-alive sockets from SDK clients would otherwise hold close() open.
      http?.closeIdleConnections();
      const force = setTimeout(() => http?.closeAllConnections(), 1_000);
      try {
        await closed;
      } finally {
        clearTimeout(force);
      }
      if (ownsDirectory) await removeDir(directory);
    })();
    return stopping;
  };

  return {
    endpoint: `http://${HOST}:${port}`,
    bucket,
    region: 'us-east-1',
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    forcePathStyle: true,
    directory,
    stop,
  };
}
