import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  it('fills production defaults from an empty environment', () => {
    const config = loadConfig({});
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'darkroom' });
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

  it('refuses a malformed retry schedule', () => {
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '1,,2' })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
  });
});
