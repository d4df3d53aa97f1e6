/**
 * The servers one benchmark run owns: a private redis-server, s3rver and the Z.AI simulator, the
 * last two as child processes so their CPU and memory are not the harness's. Nothing here talks
 * to anything but loopback.
 */
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '@darkroom/local-stack';
import { progress } from './figures.ts';
import { spawnNode, type Child } from './processes.ts';

const LOCAL_STACK_MAIN = fileURLToPath(new URL('../../../packages/local-stack/src/main.ts', import.meta.url));
const SIM_MAIN = fileURLToPath(new URL('../../../packages/zai-sim/src/main.ts', import.meta.url));

export interface S3Target {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Simulator {
  url: string;
  origin: string;
  child: Child;
  configure(patch: Record<string, unknown>): Promise<void>;
  reset(): Promise<void>;
  stats(): Promise<{ calls: number; maxInFlight: number; outcomes: Record<string, number> }>;
}

export interface Services {
  redisUrl: string;
  redis: Redis;
  s3: S3Target;
  s3Client: S3Client;
  sim: Simulator;
  /** Empties Redis and the bucket between runs, so every run starts from the same state. */
  clean(): Promise<void>;
  stop(): Promise<void>;
}

async function startS3(): Promise<{ child: Child; target: S3Target }> {
  const child = spawnNode({ name: 's3rver', args: [LOCAL_STACK_MAIN, 's3'], env: {}, readyWhen: /"event":"listening"/ });
  const line = await child.ready;
  const info = JSON.parse(line) as S3Target;
  return { child, target: { endpoint: info.endpoint, bucket: info.bucket, region: info.region, accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey } };
}

async function startSim(): Promise<Simulator> {
  const child = spawnNode({ name: 'zai-sim', args: [SIM_MAIN], env: { ZAI_SIM_PORT: '0' }, readyWhen: /"event":"listening"/ });
  const { url, origin } = JSON.parse(await child.ready) as { url: string; origin: string };
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${origin}/_sim/${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (!res.ok) throw new Error(`zai-sim ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    url,
    origin,
    child,
    configure: async (patch) => void (await control('POST', 'config', patch)),
    reset: async () => void (await control('POST', 'reset')),
    stats: async () => (await control('GET', 'stats')) as Awaited<ReturnType<Simulator['stats']>>,
  };
}

export function s3ClientFor(target: S3Target): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: true,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Deletes every object, one request each: s3rver answers a 1000-key DeleteObjects with a 500 now and then. */
async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
    const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
    if (keys.length === 0) return;
    let next = 0;
    const one = async (): Promise<void> => {
      while (next < keys.length) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keys[next++] }));
    };
    await Promise.all(Array.from({ length: 16 }, one));
  }
}

export async function startServices(): Promise<Services> {
  let redisServer: RedisServerHandle | undefined;
  let s3: Awaited<ReturnType<typeof startS3>> | undefined;
  let sim: Simulator | undefined;
  try {
    redisServer = await startRedisServer();
    s3 = await startS3();
    sim = await startSim();
  } catch (err) {
    await sim?.child.stop();
    await s3?.child.stop();
    await redisServer?.stop();
    throw err;
  }
  const redis = new Redis(redisServer.url, { lazyConnect: false });
  const s3Client = s3ClientFor(s3.target);
  const owned = { redisServer, s3, sim };
  return {
    redisUrl: redisServer.url,
    redis,
    s3: s3.target,
    s3Client,
    sim,
    async clean() {
      await redis.flushall();
      // Best effort: left objects only cost disk (the temp dir goes at stop()), and s3rver
      // sometimes answers a listing or delete with a 500 InternalError under this churn.
      await emptyBucket(s3Client, owned.s3.target.bucket).catch((err: unknown) => progress(`bucket not emptied: ${String(err)}`));
      await owned.sim.reset();
    },
    async stop() {
      s3Client.destroy();
      redis.disconnect();
      await owned.sim.child.stop();
      await owned.s3.child.stop();
      await owned.redisServer.stop();
    },
  };
}
