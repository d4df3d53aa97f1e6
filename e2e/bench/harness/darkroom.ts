/**
 * Darkroom as it runs in production, as child processes: the API (apps/api/src/main.ts) and
 * workers (apps/worker/src/main.ts), configured only through their environment, plus what a
 * client needs around them: a tenant key, a submitter and a webhook receiver.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '@darkroom/local-stack';
import { TenantStore, redisKeys } from '@darkroom/shared';
import { spawnNode, type Child } from './processes.ts';
import type { Services } from './services.ts';

const API_MAIN = fileURLToPath(new URL('../../../apps/api/src/main.ts', import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL('../../../apps/worker/src/main.ts', import.meta.url));
export const PREFIX = 'bench';

/**
 * The benchmarks measure capacity, not the adaptive limit's discovery (issue 11's bench does):
 * the cap starts at the ceiling, as ZAI_START_CONCURRENCY lets an operator who knows the limit do.
 */
export function darkroomEnv(services: Services, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...(overrides.ZAI_MAX_CONCURRENCY ? { ZAI_START_CONCURRENCY: overrides.ZAI_MAX_CONCURRENCY } : {}),
    REDIS_URL: services.redisUrl,
    QUEUE_PREFIX: PREFIX,
    ZAI_BASE_URL: services.sim.url,
    ZAI_API_KEY: 'sim-key',
    S3_ENDPOINT: services.s3.endpoint,
    S3_BUCKET: services.s3.bucket,
    S3_REGION: services.s3.region,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: services.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    TENANT_MAX_UNFINISHED: '10000000',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...overrides,
  };
}

/** The API on a free port; ready once /healthz answers. LOG_LEVEL is the production default (info) unless `env` says otherwise. */
export async function startApi(services: Services, env: Record<string, string> = {}, opts: { main?: string; nodeFlags?: string[] } = {}): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const child = spawnNode({ name: 'api', args: [opts.main ?? API_MAIN], env: darkroomEnv(services, { LOG_LEVEL: 'info', ...env, PORT: String(port) }), nodeFlags: opts.nodeFlags ?? [] });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, child);
  return { child, url };
}

/** Polls `url` until it answers 200; throws if `child` exits first or 30 s pass. */
export async function waitForHttp(url: string, child: Child): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) throw new Error(`${child.name} exited:\n${child.output()}`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${child.name}: ${url} did not answer within 30 s:\n${child.output()}`);
    await sleep(50);
  }
}

/** BENCH_CPU_PROF=DIR: every worker writes a V8 CPU profile there when it exits (open it in Chrome DevTools). */
const PROFILE_DIR = process.env.BENCH_CPU_PROF;

export function spawnWorker(services: Services, env: Record<string, string> = {}): Child {
  return spawnNode({
    name: 'worker',
    args: [WORKER_MAIN],
    env: darkroomEnv(services, { LOG_LEVEL: 'info', ...env }),
    readyWhen: /"msg":"worker ready"/,
    nodeFlags: PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [],
  });
}

export async function createTenant(services: Services): Promise<{ apiKey: string; secret: string }> {
  const created = await new TenantStore(services.redis, redisKeys(PREFIX)).createKey('bench');
  return { apiKey: created.api_key, secret: created.webhook_secret };
}

export const generationBody = (webhookUrl: string, size = '512x512') =>
  JSON.stringify({ model: 'cogview-4-250304', prompt: 'a lighthouse at dusk', size, webhook_url: webhookUrl });

/** POSTs `count` generations, `parallel` at a time; resolves with their ids. Any non-202 throws. */
export async function submit(apiUrl: string, apiKey: string, body: string, count: number, parallel = 32): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < count) {
      next++;
      const res = await fetch(`${apiUrl}/v1/images/generations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body,
      });
      const json = (await res.json()) as { id?: string };
      if (res.status !== 202 || !json.id) throw new Error(`submit: ${res.status} ${JSON.stringify(json)}`);
      ids.push(json.id);
    }
  };
  await Promise.all(Array.from({ length: parallel }, one));
  return ids;
}

export interface Receiver {
  url: string;
  /** Receive time (epoch ms) of the first delivery of each generation id. */
  readonly received: Map<string, number>;
  /** Resolves once `count` distinct generations have been delivered. */
  waitFor(count: number, timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

/** Counts deliveries by generation id; the signatures are the webhook tests' business, not a benchmark's. */
export async function startReceiver(): Promise<Receiver> {
  const received = new Map<string, number>();
  let waiter: { count: number; resolve: (at: number) => void } | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      res.writeHead(204).end();
      const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { id?: string } }).data?.id;
      if (id && !received.has(id)) received.set(id, at);
      if (waiter && received.size >= waiter.count) waiter.resolve(at);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    waitFor(count, timeoutMs) {
      if (received.size >= count) return Promise.resolve(Date.now());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver: ${received.size} of ${count} webhooks within ${timeoutMs} ms`)), timeoutMs);
        waiter = {
          count,
          resolve: (at) => {
            clearTimeout(timer);
            waiter = undefined;
            resolve(at);
          },
        };
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
