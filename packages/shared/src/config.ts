/**
 * The whole configuration: one zod schema over the environment, parsed once by each process's
 * main() with loadConfig(env), frozen, and passed down. Nothing else reads process.env.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { PROMPT_MAX_CHARS } from './generation-request.ts';

/** Z.AI's temporary image URLs expire 30 days after the answer's `created`. */
export const ZAI_URL_TTL_HOURS = 24 * 30;

const whole = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const hours = (max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'expected a number of hours, e.g. "720" or "0.5"')
    .transform(Number)
    .pipe(z.number().gt(0, 'must be more than 0').max(max));

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const httpUrl = z
  .string()
  .trim()
  .url('expected a URL')
  .refine((u) => /^https?:\/\//i.test(u), 'expected an http(s) URL');

const secondsList = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*$/, 'expected comma-separated delays in seconds, e.g. "0,5,300"')
  .transform((s) => s.split(',').map((part) => Math.round(Number(part) * 1000)));

/** `name:token` pairs, comma-separated; each token at least 16 characters, names unique. */
const ADMIN_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const adminTokenList = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const tokens: AdminToken[] = [];
    for (const entry of s.split(',').map((e) => e.trim()).filter(Boolean)) {
      const at = entry.indexOf(':');
      const name = at > 0 ? entry.slice(0, at) : '';
      const token = entry.slice(at + 1).trim();
      if (!ADMIN_NAME.test(name)) ctx.addIssue({ code: 'custom', message: `each entry must be name:token, the name matching ${ADMIN_NAME.source}` });
      else if (token.length < 16) ctx.addIssue({ code: 'custom', message: `the token named "${name}" must be at least 16 characters` });
      else if (tokens.some((t) => t.name === name)) ctx.addIssue({ code: 'custom', message: `the name "${name}" is used twice` });
      else tokens.push({ name, token });
    }
    return tokens;
  });

export interface AdminToken {
  /** Shown in logs and the audit trail; never the token. */
  name: string;
  token: string;
}

const fraction = z
  .string()
  .trim()
  .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'expected a fraction between 0 and 1, e.g. 0.9')
  .transform(Number);

const hostList = z
  .string()
  .trim()
  .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean));

/** proxy-addr's named ranges, which Fastify's trustProxy accepts among addresses. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGES.has(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * Fastify's trustProxy: false (default), true (trust every peer), or the proxies' addresses,
 * CIDR ranges or named ranges, comma-separated. A hop count is refused: Fastify 5 ignores the
 * X-Forwarded-* headers under one (it cannot tell the proxy from a client).
 */
const trustProxy = z
  .string()
  .trim()
  .transform((s, ctx): boolean | string[] => {
    const lower = s.toLowerCase();
    if (lower === 'false' || lower === '0' || lower === 'no') return false;
    if (lower === 'true' || lower === 'yes') return true;
    if (/^\d+$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: 'a hop count is not accepted (Fastify 5 trusts no X-Forwarded-* header under one): name the proxies\' addresses or CIDR ranges' });
      return z.NEVER;
    }
    const entries = s.split(',').map((e) => e.trim()).filter(Boolean);
    const bad = entries.filter((e) => !isProxyAddress(e));
    if (bad.length > 0 || entries.length === 0) {
      ctx.addIssue({ code: 'custom', message: `expected true, false or comma-separated IP addresses / CIDR ranges (or loopback, linklocal, uniquelocal); not understood: ${bad.join(', ') || '(empty)'}` });
      return z.NEVER;
    }
    return entries;
  });

/** SigV4 presigned URLs live at most 7 days. */
export const PRESIGN_MAX_SECONDS = 604_800;
/** Time a receiver has, after a webhook's last attempt, to fetch the image it names. */
export const PRESIGN_MARGIN_SECONDS = 3_600;

/**
 * Seconds from queueing a webhook event to the end of its last attempt, at the latest: a 429's
 * Retry-After may stretch each retry up to the longest delay of the schedule (webhookRetryDelay).
 */
export function webhookSpanSeconds(scheduleMs: readonly number[], timeoutMs: number): number {
  const [first = 0, ...rest] = scheduleMs;
  const longest = Math.max(0, ...scheduleMs);
  return Math.ceil((first + rest.length * longest + scheduleMs.length * timeoutMs) / 1000);
}

/**
 * Variables whose value is never echoed in a configuration error: secrets, and URLs that may
 * carry credentials (user:password@, tokens in the query).
 */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL)|(_URL|_ENDPOINT)$/;
export function isSecretVariable(name: string): boolean {
  return SECRET_NAME.test(name);
}

export const envSchema = z
  .object({
    REDIS_URL: z.string().trim().regex(/^rediss?:\/\//, 'expected redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
    REDIS_CLUSTER: bool.default(false),
    QUEUE_PREFIX: z.string().trim().regex(/^[\w{}.-]+$/, 'letters, digits, _ . - and {} only').default('darkroom'),

    ZAI_BASE_URL: httpUrl.default('https://api.z.ai/api/paas/v4'),
    ZAI_API_KEY: z.string().trim().min(1).optional(),
    ZAI_TIMEOUT_MS: whole(100).default(60_000),
    ZAI_MAX_ATTEMPTS: whole(1, 100).default(5),
    ZAI_BACKOFF_MS: whole(1).default(2_000),
    ZAI_MAX_CONCURRENCY: whole(1).default(8),
    ZAI_START_CONCURRENCY: whole(1).default(1),
    ZAI_MAX_RPS: whole(1).optional(),
    ZAI_PAUSE_PROBE_MS: whole(100).default(60_000),
    ZAI_PAUSE_PROBE_MAX_MS: whole(100).default(30 * 60_000),
    ZAI_LIMIT_PROBE_MS: whole(100).default(60_000),
    ZAI_LIMIT_STEP_MS: whole(10).default(500),
    CONTENT_FILTER_MIN_LEVEL: whole(0, 3).optional(),

    S3_BUCKET: z.string().trim().min(3).max(63).optional(),
    S3_REGION: z.string().trim().min(1).default('us-east-1'),
    S3_ENDPOINT: httpUrl.optional(),
    S3_FORCE_PATH_STYLE: bool.default(false),
    S3_ACCESS_KEY_ID: z.string().trim().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().trim().min(1).optional(),
    S3_PUBLIC_BASE_URL: httpUrl.optional(),
    S3_PRESIGN_TTL_SECONDS: whole(1, PRESIGN_MAX_SECONDS).default(PRESIGN_MAX_SECONDS),
    S3_TIMEOUT_MS: whole(100).default(30_000),
    STORE_MAX_ATTEMPTS: z
      .never({ message: 'was replaced by STORE_RETRY_HOURS: a copy is retried for as long as the image URL is valid' })
      .optional(),
    STORE_BACKOFF_MS: whole(1).default(1_000),
    STORE_BACKOFF_MAX_MS: whole(1).default(300_000),
    STORE_RETRY_HOURS: hours(ZAI_URL_TTL_HOURS).prefault(String(ZAI_URL_TTL_HOURS)),
    IMAGE_DOWNLOAD_TIMEOUT_MS: whole(100).default(120_000),
    IMAGE_MAX_BYTES: whole(1024).default(50 * 1024 * 1024),
    IMAGE_CONTENT_ATTEMPTS: whole(1, 100).default(5),

    PORT: whole(0, 65_535).default(3000),
    HOST: z.string().trim().min(1).default('0.0.0.0'),
    TRUST_PROXY: trustProxy.prefault('false'),
    API_BODY_LIMIT_BYTES: whole(1024).default(1_048_576),
    PROMPT_MAX_CHARS: whole(1).default(PROMPT_MAX_CHARS),
    TENANT_MAX_UNFINISHED: whole(1).default(1_000),
    REDIS_MEMORY_HIGH_WATER: fraction.default(0.9),
    REDIS_MEMORY_CHECK_MS: whole(0).default(1_000),
    API_RETRY_AFTER_SECONDS: whole(1).default(5),
    BATCH_MAX_BYTES: whole(1024).default(256 * 1024 * 1024),
    BATCH_JSON_MAX_BYTES: whole(1024).default(32 * 1024 * 1024),
    PRICE_PER_IMAGE: z
      .string()
      .trim()
      .regex(/^\d+(\.\d+)?$/, 'expected a decimal price, e.g. "0.01"')
      .transform(Number)
      .optional(),
    ADMIN_TOKEN: z.string().trim().min(16, 'must be at least 16 characters').optional(),
    ADMIN_TOKENS: adminTokenList.prefault(''),

    WORKER_CONCURRENCY: whole(1, 10_000).default(8),
    WORKER_LOCK_DURATION_MS: whole(1000).default(30_000),
    WORKER_STALLED_INTERVAL_MS: whole(500).default(30_000),
    WORKER_SHUTDOWN_TIMEOUT_MS: whole(0).default(60_000),
    WORKER_MAX_STALLS: whole(0, 1000).default(3),
    RETRY_PAGE_SIZE: whole(1, 100).default(100),
    DISPATCH_TICK_MS: whole(10).default(200),
    DISPATCH_WINDOW: whole(1, 100_000).default(16),

    WEBHOOK_TIMEOUT_MS: whole(100).default(10_000),
    WEBHOOK_RETRY_SCHEDULE: secondsList.prefault('0,5,300,1800,7200,18000,36000,36000'),
    WEBHOOK_ALLOWED_HOSTS: hostList.prefault(''),

    JOB_RETENTION_HOURS: whole(1).default(24 * 7),
    FAILED_RETENTION_HOURS: whole(1).default(24 * 30),
    IDEMPOTENCY_TTL_HOURS: whole(1).default(24),

    METRICS_PORT: whole(0, 65_535).default(0),
    METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
    OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),

    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    // Redis Cluster runs a Lua script or MULTI only on keys of one slot; BullMQ's and ours span
    // many keys under the prefix, so the prefix must pin them to one slot with a hash tag.
    if (env.REDIS_CLUSTER && !/\{[^{}]+\}/.test(env.QUEUE_PREFIX)) {
      ctx.addIssue({ code: 'custom', path: ['QUEUE_PREFIX'], message: 'with REDIS_CLUSTER=true it must hold a hash tag, e.g. {darkroom}' });
    }
    if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'],
        message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together',
      });
    }
    // The image URL in a webhook body is signed when the event is queued; the last attempt must
    // still carry a working URL, with time left for the receiver to fetch it.
    if (!env.S3_PUBLIC_BASE_URL) {
      const needed = webhookSpanSeconds(env.WEBHOOK_RETRY_SCHEDULE, env.WEBHOOK_TIMEOUT_MS) + PRESIGN_MARGIN_SECONDS;
      if (env.S3_PRESIGN_TTL_SECONDS < needed) {
        ctx.addIssue({
          code: 'custom',
          path: ['S3_PRESIGN_TTL_SECONDS'],
          message:
            `must be at least ${needed} s: the longest span of WEBHOOK_RETRY_SCHEDULE (with WEBHOOK_TIMEOUT_MS per attempt) plus ` +
            `${PRESIGN_MARGIN_SECONDS} s, so a webhook's last attempt carries a working image URL; ` +
            `shorten WEBHOOK_RETRY_SCHEDULE or set S3_PUBLIC_BASE_URL`,
        });
      }
    }
    if (env.ADMIN_TOKEN && env.ADMIN_TOKENS.some((t) => t.name === 'admin')) {
      ctx.addIssue({ code: 'custom', path: ['ADMIN_TOKENS'], message: 'the name "admin" is ADMIN_TOKEN\'s: choose another name' });
    }
    if (env.ZAI_PAUSE_PROBE_MAX_MS < env.ZAI_PAUSE_PROBE_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['ZAI_PAUSE_PROBE_MAX_MS'],
        message: `must be at least ZAI_PAUSE_PROBE_MS (${env.ZAI_PAUSE_PROBE_MS})`,
      });
    }
    if (env.STORE_BACKOFF_MAX_MS < env.STORE_BACKOFF_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['STORE_BACKOFF_MAX_MS'],
        message: `must be at least STORE_BACKOFF_MS (${env.STORE_BACKOFF_MS})`,
      });
    }
    // A key outliving its job's record would answer every retry with a conflict.
    if (env.IDEMPOTENCY_TTL_HOURS > env.JOB_RETENTION_HOURS) {
      ctx.addIssue({
        code: 'custom',
        path: ['IDEMPOTENCY_TTL_HOURS'],
        message: `must not exceed JOB_RETENTION_HOURS (${env.JOB_RETENTION_HOURS})`,
      });
    }
  });

function shape(env: z.output<typeof envSchema>) {
  return {
    redis: { url: env.REDIS_URL, prefix: env.QUEUE_PREFIX, cluster: env.REDIS_CLUSTER },
    zai: {
      baseUrl: env.ZAI_BASE_URL.replace(/\/+$/, ''),
      apiKey: env.ZAI_API_KEY,
      timeoutMs: env.ZAI_TIMEOUT_MS,
      maxAttempts: env.ZAI_MAX_ATTEMPTS,
      backoffMs: env.ZAI_BACKOFF_MS,
      maxConcurrency: env.ZAI_MAX_CONCURRENCY,
      startConcurrency: Math.min(env.ZAI_START_CONCURRENCY, env.ZAI_MAX_CONCURRENCY),
      maxRps: env.ZAI_MAX_RPS,
      pauseProbeMs: env.ZAI_PAUSE_PROBE_MS,
      pauseProbeMaxMs: env.ZAI_PAUSE_PROBE_MAX_MS,
      limitProbeMs: env.ZAI_LIMIT_PROBE_MS,
      limitStepMs: env.ZAI_LIMIT_STEP_MS,
      contentFilterMinLevel: env.CONTENT_FILTER_MIN_LEVEL,
    },
    s3: {
      bucket: env.S3_BUCKET,
      region: env.S3_REGION,
      endpoint: env.S3_ENDPOINT,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      credentials:
        env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
          ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY }
          : undefined,
      publicBaseUrl: env.S3_PUBLIC_BASE_URL?.replace(/\/+$/, ''),
      presignTtlSeconds: env.S3_PRESIGN_TTL_SECONDS,
      timeoutMs: env.S3_TIMEOUT_MS,
    },
    store: {
      backoffMs: env.STORE_BACKOFF_MS,
      backoffMaxMs: env.STORE_BACKOFF_MAX_MS,
      retryMs: Math.round(env.STORE_RETRY_HOURS * 3_600_000),
      downloadTimeoutMs: env.IMAGE_DOWNLOAD_TIMEOUT_MS,
      maxBytes: env.IMAGE_MAX_BYTES,
      /** Consecutive attempts failing with the same error of the image itself before the copy fails. */
      imageContentAttempts: env.IMAGE_CONTENT_ATTEMPTS,
    },
    http: {
      port: env.PORT,
      host: env.HOST,
      /** Fastify's trustProxy: which peers' X-Forwarded-* headers (proto, host, for) are believed. */
      trustProxy: env.TRUST_PROXY,
      bodyLimit: env.API_BODY_LIMIT_BYTES,
      /** ADMIN_TOKEN (named "admin") and ADMIN_TOKENS; empty: no admin endpoints. */
      adminTokens: [...(env.ADMIN_TOKEN ? [{ name: 'admin', token: env.ADMIN_TOKEN }] : []), ...env.ADMIN_TOKENS],
      retryAfterSeconds: env.API_RETRY_AFTER_SECONDS,
    },
    limits: {
      promptMaxChars: env.PROMPT_MAX_CHARS,
      tenantMaxUnfinished: env.TENANT_MAX_UNFINISHED,
      redisMemoryHighWater: env.REDIS_MEMORY_HIGH_WATER,
      redisMemoryCheckMs: env.REDIS_MEMORY_CHECK_MS,
    },
    batches: {
      /** Largest JSONL upload (POST /v1/batches, application/x-ndjson). */
      maxBytes: env.BATCH_MAX_BYTES,
      /** Largest JSON body of POST /v1/batches (it is parsed whole). */
      jsonMaxBytes: env.BATCH_JSON_MAX_BYTES,
      pricePerImage: env.PRICE_PER_IMAGE,
    },
    worker: {
      concurrency: env.WORKER_CONCURRENCY,
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
      shutdownTimeoutMs: env.WORKER_SHUTDOWN_TIMEOUT_MS,
      maxStalls: env.WORKER_MAX_STALLS,
      /** Generations a bulk retry reads per page of its walk (and holds in memory, at most). */
      retryPageSize: env.RETRY_PAGE_SIZE,
    },
    dispatch: {
      tickMs: env.DISPATCH_TICK_MS,
      window: env.DISPATCH_WINDOW,
    },
    webhooks: {
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: env.WEBHOOK_RETRY_SCHEDULE,
      allowedHosts: env.WEBHOOK_ALLOWED_HOSTS,
    },
    retention: {
      succeededSeconds: env.JOB_RETENTION_HOURS * 3600,
      failedSeconds: env.FAILED_RETENTION_HOURS * 3600,
      idempotencySeconds: env.IDEMPOTENCY_TTL_HOURS * 3600,
    },
    observability: {
      /** 0 = no metrics server. */
      metricsPort: env.METRICS_PORT,
      metricsHost: env.METRICS_HOST,
      /** Unset = no tracing SDK is started. */
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, ''),
    },
    logLevel: env.LOG_LEVEL,
  };
}

export type Config = ReturnType<typeof shape>;

/**
 * The environment of `darkroom retry`, an HTTP client of the API run from an operator's shell:
 * where the API is and the admin token to send. Apart from the services' settings above.
 */
export const adminCliEnvSchema = z.object({
  DARKROOM_API_URL: z.url().default('http://127.0.0.1:3000'),
  DARKROOM_ADMIN_TOKEN: z.string().trim().min(1, 'is required: the admin token to send'),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Parses the environment once; empty strings count as unset. Throws ConfigError naming each bad
 * variable; the value is quoted only when the variable is not a secret (isSecretVariable).
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const value = env[name];
        const got = value === undefined ? '' : isSecretVariable(name) ? ' (value not shown)' : ` (got ${JSON.stringify(value)})`;
        return `${name}: ${issue.message}${got}`;
      }),
    );
  }
  return deepFreeze(shape(parsed.data));
}
