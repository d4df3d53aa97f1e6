import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, webhookSpanSeconds } from '../src/config.ts';

describe('loadConfig', () => {
  it('fills production defaults from an empty environment', () => {
    const config = loadConfig({});
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'darkroom', cluster: false });
    expect(config.zai.baseUrl).toBe('https://api.z.ai/api/paas/v4');
    expect(config.http.port).toBe(3000);
    expect(config.webhooks.retryScheduleMs).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(config.webhooks.allowedHosts).toEqual([]);
    expect(config.retention.failedSeconds).toBeGreaterThan(config.retention.succeededSeconds);
    expect(config.zai).toMatchObject({ maxConcurrency: 8, maxRps: undefined, limitStepMs: 500, limitProbeMs: 60_000 });
  });

  it('parses every kind of value and freezes the result', () => {
    const config = loadConfig({
      WEBHOOK_RETRY_SCHEDULE: '0, 0.5,2',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1, LocalHost ,',
      S3_FORCE_PATH_STYLE: 'true',
      ZAI_BASE_URL: 'http://127.0.0.1:4010/api/paas/v4/',
      S3_ACCESS_KEY_ID: 'a',
      S3_SECRET_ACCESS_KEY: 'b',
      CONTENT_FILTER_MIN_LEVEL: '2',
      PORT: '',
    });
    expect(config.webhooks.retryScheduleMs).toEqual([0, 500, 2000]);
    expect(config.webhooks.allowedHosts).toEqual(['127.0.0.1', 'localhost']);
    expect(config.s3.forcePathStyle).toBe(true);
    expect(config.s3.credentials).toEqual({ accessKeyId: 'a', secretAccessKey: 'b' });
    expect(config.zai.baseUrl).toBe('http://127.0.0.1:4010/api/paas/v4');
    expect(config.zai.contentFilterMinLevel).toBe(2);
    expect(config.http.port).toBe(3000);
    expect(Object.isFrozen(config.webhooks.retryScheduleMs)).toBe(true);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ ZAI_MAX_ATTEMPTS: 'five', REDIS_URL: 'http://x', CONTENT_FILTER_MIN_LEVEL: '4', S3_ACCESS_KEY_ID: 'only-one' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^ZAI_MAX_ATTEMPTS: .*"five"/m);
    expect(problems).toMatch(/^REDIS_URL: /m);
    expect(problems).toMatch(/^CONTENT_FILTER_MIN_LEVEL: /m);
    expect(problems).toMatch(/^S3_SECRET_ACCESS_KEY: .*go together/m);
  });

  it('refuses idempotency keys that would outlive the records they point to', () => {
    expect(() => loadConfig({ IDEMPOTENCY_TTL_HOURS: '48', JOB_RETENTION_HOURS: '24' })).toThrow(/IDEMPOTENCY_TTL_HOURS: must not exceed JOB_RETENTION_HOURS \(24\)/);
    expect(loadConfig({ IDEMPOTENCY_TTL_HOURS: '24', JOB_RETENTION_HOURS: '24' }).retention.idempotencySeconds).toBe(86_400);
  });

  it('defaults a poison job to three stalls and a pause probe to back off up to 30 minutes, never below the first interval', () => {
    const config = loadConfig({});
    expect(config.worker.maxStalls).toBe(3);
    expect(config.zai.pauseProbeMaxMs).toBe(30 * 60_000);
    expect(loadConfig({ WORKER_MAX_STALLS: '0' }).worker.maxStalls).toBe(0);
    expect(() => loadConfig({ ZAI_PAUSE_PROBE_MS: '60000', ZAI_PAUSE_PROBE_MAX_MS: '1000' })).toThrow(
      /ZAI_PAUSE_PROBE_MAX_MS: must be at least ZAI_PAUSE_PROBE_MS \(60000\)/,
    );
  });

  it('reads TRUST_PROXY as Fastify takes it: false by default, true, or proxy addresses and ranges; never a hop count', () => {
    expect(loadConfig({}).http.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).http.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'TRUE' }).http.trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: ' 10.0.0.0/8, 127.0.0.1 ,::1, fd00::/8,loopback' }).http.trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'fd00::/8',
      'loopback',
    ]);
    expect(() => loadConfig({ TRUST_PROXY: '1' })).toThrow(/TRUST_PROXY: a hop count is not accepted/);
    for (const bad of ['10.0.0.0/33', 'proxy.internal', '::1/129', '10.0.0.1/8/2']) {
      expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(new RegExp(`TRUST_PROXY: .*not understood: ${bad.replaceAll('.', '\\.')}`));
    }
  });

  it('reads IMAGE_CONTENT_ATTEMPTS, 5 by default', () => {
    expect(loadConfig({}).store.imageContentAttempts).toBe(5);
    expect(loadConfig({ IMAGE_CONTENT_ATTEMPTS: '2' }).store.imageContentAttempts).toBe(2);
    expect(() => loadConfig({ IMAGE_CONTENT_ATTEMPTS: '0' })).toThrow(/IMAGE_CONTENT_ATTEMPTS/);
  });

  it('reads named admin tokens, with ADMIN_TOKEN as the one named "admin"', () => {
    const config = loadConfig({ ADMIN_TOKEN: 'legacy-token-0123456789', ADMIN_TOKENS: 'ops:ops-token-0123456789, ci:ci-token-0123456789' });
    expect(config.http.adminTokens).toEqual([
      { name: 'admin', token: 'legacy-token-0123456789' },
      { name: 'ops', token: 'ops-token-0123456789' },
      { name: 'ci', token: 'ci-token-0123456789' },
    ]);
    expect(loadConfig({}).http.adminTokens).toEqual([]);
  });

  it('refuses a short, unnamed or twice-named admin token without echoing it', () => {
    for (const [value, message] of [
      ['ops:short-hunter2', /ADMIN_TOKENS: the token named "ops" must be at least 16 characters/],
      ['hunter2-no-name-0123456789', /ADMIN_TOKENS: each entry must be name:token/],
      ['ops:hunter2-0123456789abc,ops:hunter2-0123456789xyz', /ADMIN_TOKENS: the name "ops" is used twice/],
    ] as const) {
      expect(() => loadConfig({ ADMIN_TOKENS: value })).toThrow(message);
      expect(() => loadConfig({ ADMIN_TOKENS: value })).not.toThrow(/hunter2/);
    }
    expect(() => loadConfig({ ADMIN_TOKEN: 'legacy-token-0123456789', ADMIN_TOKENS: 'admin:other-token-0123456789' })).toThrow(/ADMIN_TOKENS: the name "admin" is ADMIN_TOKEN's/);
  });

  it('refuses a malformed retry schedule', () => {
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '1,,2' })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
  });

  it('names a bad secret or credential-bearing URL without echoing its value', () => {
    const secrets = {
      REDIS_URL: 'http://user:hunter2-redis@redis.internal:6379',
      ZAI_BASE_URL: 'ftp://hunter2-zai@z.ai',
      S3_ENDPOINT: 'hunter2-s3-endpoint',
      S3_PUBLIC_BASE_URL: 'gopher://hunter2-public',
      ADMIN_TOKEN: 'hunter2-short',
      S3_ACCESS_KEY_ID: 'hunter2-key-id',
    };
    let error: unknown;
    try {
      loadConfig({ ...secrets, PORT: 'abc' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of [...Object.keys(secrets).filter((n) => n !== 'S3_ACCESS_KEY_ID'), 'S3_SECRET_ACCESS_KEY']) {
      expect(message).toMatch(new RegExp(`^\\s*${name}: `, 'm'));
    }
    expect(message).not.toContain('hunter2');
    expect(message).toMatch(/^\s*PORT: .*"abc"/m);
  });

  it('refuses a presign lifetime shorter than the webhook retry span, unless images have public URLs', () => {
    expect(() => loadConfig({ S3_PRESIGN_TTL_SECONDS: '3600' })).toThrow(
      /S3_PRESIGN_TTL_SECONDS: must be at least \d+ s: .*WEBHOOK_RETRY_SCHEDULE/,
    );
    // The defaults are consistent: 7 days covers the default schedule stretched by Retry-After.
    const defaults = loadConfig({});
    expect(defaults.s3.presignTtlSeconds).toBe(604_800);
    expect(webhookSpanSeconds(defaults.webhooks.retryScheduleMs, defaults.webhooks.timeoutMs)).toBeLessThan(604_800 - 3_600);
    expect(loadConfig({ S3_PRESIGN_TTL_SECONDS: '3600', S3_PUBLIC_BASE_URL: 'https://img.example.com' }).s3.presignTtlSeconds).toBe(3600);
    expect(loadConfig({ S3_PRESIGN_TTL_SECONDS: '7200', WEBHOOK_RETRY_SCHEDULE: '0,5,60', WEBHOOK_TIMEOUT_MS: '1000' }).s3.presignTtlSeconds).toBe(7200);
    expect(() => loadConfig({ S3_PRESIGN_TTL_SECONDS: '604801' })).toThrow(/S3_PRESIGN_TTL_SECONDS/);
  });

  it('starts no metrics listener and no tracing unless told to', () => {
    expect(loadConfig({}).observability).toEqual({ metricsPort: 0, metricsHost: '127.0.0.1', otlpEndpoint: undefined });
    const on = loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' });
    expect(on.observability).toEqual({ metricsPort: 9464, metricsHost: '0.0.0.0', otlpEndpoint: 'http://127.0.0.1:4318' });
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://user:pw@collector:4317' })).toThrow(
      'OTEL_EXPORTER_OTLP_ENDPOINT: expected an http(s) URL (value not shown)',
    );
  });

  it('defaults the fair dispatcher to a 200 ms tick and a window of 16, and refuses an empty window', () => {
    expect(loadConfig({}).dispatch).toEqual({ tickMs: 200, window: 16 });
    expect(loadConfig({ DISPATCH_TICK_MS: '50', DISPATCH_WINDOW: '4' }).dispatch).toEqual({ tickMs: 50, window: 4 });
    expect(() => loadConfig({ DISPATCH_WINDOW: '0' })).toThrow(/DISPATCH_WINDOW/);
  });

  it('reads the API limits', () => {
    const config = loadConfig({ PROMPT_MAX_CHARS: '100', TENANT_MAX_UNFINISHED: '3', REDIS_MEMORY_HIGH_WATER: '0.75' });
    expect(config.limits).toMatchObject({ promptMaxChars: 100, tenantMaxUnfinished: 3, redisMemoryHighWater: 0.75 });
    expect(() => loadConfig({ REDIS_MEMORY_HIGH_WATER: '1.5' })).toThrow(/REDIS_MEMORY_HIGH_WATER: .*"1.5"/);
  });

  it('retries image copies for the life of the image URL by default, and never past it', () => {
    const store = loadConfig({}).store;
    expect(store).toEqual({ backoffMs: 1_000, backoffMaxMs: 300_000, retryMs: 720 * 3_600_000, downloadTimeoutMs: 120_000, maxBytes: 50 * 1024 * 1024, imageContentAttempts: 5 });
    expect(loadConfig({ STORE_RETRY_HOURS: '0.5' }).store.retryMs).toBe(1_800_000);
    expect(() => loadConfig({ STORE_RETRY_HOURS: '721' })).toThrow(/^ {2}STORE_RETRY_HOURS: /m);
    expect(() => loadConfig({ STORE_RETRY_HOURS: '0' })).toThrow(/STORE_RETRY_HOURS: must be more than 0/);
    expect(() => loadConfig({ STORE_BACKOFF_MS: '5000', STORE_BACKOFF_MAX_MS: '1000' })).toThrow(/STORE_BACKOFF_MAX_MS: must be at least STORE_BACKOFF_MS/);
  });

  it('with REDIS_CLUSTER, insists on a hash-tagged QUEUE_PREFIX so all keys share one slot', () => {
    expect(() => loadConfig({ REDIS_CLUSTER: 'true' })).toThrow(/QUEUE_PREFIX: with REDIS_CLUSTER=true it must hold a hash tag/);
    expect(loadConfig({ REDIS_CLUSTER: 'true', QUEUE_PREFIX: '{darkroom}' }).redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: '{darkroom}', cluster: true });
  });

  it('refuses the removed STORE_MAX_ATTEMPTS instead of ignoring it', () => {
    expect(() => loadConfig({ STORE_MAX_ATTEMPTS: '8' })).toThrow(/STORE_MAX_ATTEMPTS: was replaced by STORE_RETRY_HOURS/);
  });
});
