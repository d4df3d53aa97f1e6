/**
 * `pnpm dev`: the whole system on one machine. Uses what the environment names and fills the gaps:
 * Redis at REDIS_URL (or a private redis-server when nothing answers), an S3-compatible store on
 * local disk when S3_ENDPOINT/S3_BUCKET are unset, and the Z.AI simulator when ZAI_API_KEY is
 * unset. Then runs the API and a worker as child processes, prints the URL and an API key, and
 * stops everything it started on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedisServer, startS3Server } from '@darkroom/local-stack';
import { TenantStore, loadConfig, redisKeys, type NewKey } from '@darkroom/shared';
import { startSimulator } from '@darkroom/zai-sim';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const stateDir = process.env.DARKROOM_DEV_DIR ?? `${root}.darkroom`;
const say = (line: string) => console.log(`[dev] ${line}`);

async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1500 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** The "dev" tenant's key, kept in .darkroom so curl commands keep working across restarts. */
async function devKey(tenants: TenantStore): Promise<NewKey> {
  const file = `${stateDir}/dev-key.json`;
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as NewKey;
    if ((await tenants.tenantForKey(saved.api_key)) === saved.tenant) return saved;
  } catch {
    // no saved key yet, or one this Redis does not know
  }
  const key = await tenants.createKey('dev');
  writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  return key;
}

async function waitForApi(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (child.exitCode === null && Date.now() < deadline) {
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the API did not become ready at ${url}`);
}

function run(name: string, script: string, env: Record<string, string | undefined>): ChildProcess {
  const child = spawn(process.execPath, [`${root}${script}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter(Boolean)
      .forEach((line) => console.log(`[${name}] ${line}`));
  child.stdout?.on('data', prefix);
  child.stderr?.on('data', prefix);
  return child;
}

async function main(): Promise<void> {
  mkdirSync(stateDir, { recursive: true });
  const env: Record<string, string | undefined> = { ...process.env };

  env.REDIS_URL ??= 'redis://127.0.0.1:6379';
  if (!(await redisAnswers(env.REDIS_URL))) {
    say(`nothing answers at ${env.REDIS_URL}: starting a private redis-server (data in ${stateDir}/redis)`);
    mkdirSync(`${stateDir}/redis`, { recursive: true });
    const redis = await startRedisServer({ dir: `${stateDir}/redis` });
    env.REDIS_URL = redis.url;
    say(`private redis-server at ${redis.url}`);
    stops.push(() => redis.stop());
  }

  if (!env.S3_ENDPOINT && !env.S3_BUCKET) {
    const s3 = await startS3Server({ directory: `${stateDir}/s3`, bucket: 'darkroom' });
    Object.assign(env, {
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_REGION: s3.region,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    });
    say(`embedded S3-compatible store at ${s3.endpoint}, bucket "${s3.bucket}", files in ${stateDir}/s3`);
    stops.push(() => s3.stop());
  }

  if (!env.ZAI_API_KEY) {
    const sim = await startSimulator({ apiKeys: ['sim-key'], latencyMs: { standard: [1500, 3000], hd: [3000, 6000] } });
    env.ZAI_API_KEY = 'sim-key';
    env.ZAI_BASE_URL = sim.url;
    console.warn(`\n[dev] !!! ZAI_API_KEY is not set: using the Z.AI SIMULATOR at ${sim.url} — images are generated locally, not by Z.AI !!!\n`);
    stops.push(() => sim.close());
  }

  env.HOST ??= '127.0.0.1';
  env.WEBHOOK_ALLOWED_HOSTS ??= '127.0.0.1,localhost,::1';
  const config = loadConfig(env);

  const redis = new Redis(config.redis.url);
  const key = await devKey(new TenantStore(redis, redisKeys(config.redis.prefix)));
  redis.disconnect();

  const children = [run('api', 'apps/api/src/main.ts', env), run('worker', 'apps/worker/src/main.ts', env)];
  stops.push(() => Promise.all(children.map(terminate)).then(() => undefined));
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping');
    await stopAll();
    process.exit(code);
  };
  for (const child of children) {
    child.once('exit', (code) => {
      if (!stopping) {
        say(`a process exited (code ${code}); stopping the rest`);
        void stop(1);
      }
    });
  }
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const apiUrl = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${config.http.port}`;
  await waitForApi(apiUrl, children[0]!);
  say(`API:            ${apiUrl}`);
  say(`API key:        ${key.api_key}   (tenant "dev", kept in ${stateDir}/dev-key.json)`);
  say(`webhook secret: ${key.webhook_secret}`);
  say(`try: curl -s ${apiUrl}/v1/images/generations -H "Authorization: Bearer ${key.api_key}" -H "content-type: application/json" -d '{"model":"cogview-4-250304","prompt":"a red bicycle"}'`);
  say('Ctrl-C stops everything.');
}

function terminate(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Everything main() started, stopped in reverse order of starting. */
const stops: Array<() => Promise<void>> = [];
async function stopAll(): Promise<void> {
  for (const fn of stops.splice(0).reverse()) await fn().catch(() => undefined);
}

main().catch(async (err: unknown) => {
  console.error('[dev]', err instanceof Error ? err.message : err);
  await stopAll();
  process.exit(1);
});
