/**
 * The whole configuration: one zod schema over the environment, parsed once by each process's
 * main() with loadConfig(env), frozen, and passed down. Nothing else reads process.env.
 */
import { z } from 'zod';

const whole = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

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

const hostList = z
  .string()
  .trim()
  .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean));

export const envSchema = z
  .object({
    REDIS_URL: z.string().trim().regex(/^rediss?:\/\//, 'expected redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
    QUEUE_PREFIX: z.string().trim().regex(/^[\w{}.-]+$/, 'letters, digits, _ . - and {} only').default('darkroom'),

    ZAI_BASE_URL: httpUrl.default('https://api.z.ai/api/paas/v4'),
    ZAI_API_KEY: z.string().trim().min(1).optional(),
    ZAI_TIMEOUT_MS: whole(100).default(60_000),
    ZAI_MAX_ATTEMPTS: whole(1, 100).default(5),
    ZAI_BACKOFF_MS: whole(1).default(2_000),
    ZAI_MAX_CONCURRENCY: whole(1).default(8),
    ZAI_MAX_RPS: whole(1).optional(),
    ZAI_PAUSE_PROBE_MS: whole(100).default(60_000),
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
    S3_PRESIGN_TTL_SECONDS: whole(1, 604_800).default(3_600),
    STORE_MAX_ATTEMPTS: whole(1, 100).default(8),
    STORE_BACKOFF_MS: whole(1).default(1_000),

    PORT: whole(0, 65_535).default(3000),
    HOST: z.string().trim().min(1).default('0.0.0.0'),
    API_BODY_LIMIT_BYTES: whole(1024).default(1_048_576),
    ADMIN_TOKEN: z.string().trim().min(16, 'must be at least 16 characters').optional(),

    WORKER_CONCURRENCY: whole(1, 1000).default(8),
    WORKER_LOCK_DURATION_MS: whole(1000).default(30_000),
    WORKER_STALLED_INTERVAL_MS: whole(500).default(30_000),
    WORKER_SHUTDOWN_TIMEOUT_MS: whole(0).default(60_000),

    WEBHOOK_TIMEOUT_MS: whole(100).default(10_000),
    WEBHOOK_RETRY_SCHEDULE: secondsList.prefault('0,5,300,1800,7200,18000,36000,36000'),
    WEBHOOK_ALLOWED_HOSTS: hostList.prefault(''),

    JOB_RETENTION_HOURS: whole(1).default(24 * 7),
    FAILED_RETENTION_HOURS: whole(1).default(24 * 30),
    IDEMPOTENCY_TTL_HOURS: whole(1).default(24),

    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'],
        message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together',
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
    redis: { url: env.REDIS_URL, prefix: env.QUEUE_PREFIX },
    zai: {
      baseUrl: env.ZAI_BASE_URL.replace(/\/+$/, ''),
      apiKey: env.ZAI_API_KEY,
      timeoutMs: env.ZAI_TIMEOUT_MS,
      maxAttempts: env.ZAI_MAX_ATTEMPTS,
      backoffMs: env.ZAI_BACKOFF_MS,
      maxConcurrency: env.ZAI_MAX_CONCURRENCY,
      maxRps: env.ZAI_MAX_RPS,
      pauseProbeMs: env.ZAI_PAUSE_PROBE_MS,
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
      maxAttempts: env.STORE_MAX_ATTEMPTS,
      backoffMs: env.STORE_BACKOFF_MS,
    },
    http: { port: env.PORT, host: env.HOST, bodyLimit: env.API_BODY_LIMIT_BYTES, adminToken: env.ADMIN_TOKEN },
    worker: {
      concurrency: env.WORKER_CONCURRENCY,
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
      shutdownTimeoutMs: env.WORKER_SHUTDOWN_TIMEOUT_MS,
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
    logLevel: env.LOG_LEVEL,
  };
}

export type Config = ReturnType<typeof shape>;

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

/** Parses the environment once; empty strings count as unset. Throws ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const got = env[name] === undefined ? '' : ` (got ${JSON.stringify(env[name])})`;
        return `${name}: ${issue.message}${got}`;
      }),
    );
  }
  return deepFreeze(shape(parsed.data));
}
