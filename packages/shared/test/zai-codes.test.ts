import { describe, expect, it } from 'vitest';
import { FleetPauseError, PermanentError, RateLimitedError, TransientError } from '../src/errors.ts';
import { classifyZaiFailure, nextDailyReset, resetTimeFromMessage } from '../src/zai-codes.ts';

const classify = (status: number, code: string | undefined, message = 'm') =>
  classifyZaiFailure({ status, code, message, body: '' }, { rateLimitDelayMs: 100, duplicateDelayMs: 30_000, now: Date.parse('2026-11-24T10:00:00Z') });

describe('Z.AI failure classes', () => {
  it.each([
    [500, '500', TransientError],
    [500, '1234', TransientError],
    [429, '1312', TransientError],
    [401, '1000', FleetPauseError],
    [401, '1002', FleetPauseError],
    [429, '1113', FleetPauseError],
    [429, '1112', FleetPauseError],
    [429, '1121', FleetPauseError],
    [400, '1214', PermanentError],
    [400, '1261', PermanentError],
    [400, '1301', PermanentError],
    [400, '1211', PermanentError],
    [429, '1302', RateLimitedError],
    [429, '1303', RateLimitedError],
    [429, '1305', RateLimitedError],
    [429, '1304', FleetPauseError],
  ] as const)('HTTP %i code %s', (status, code, cls) => {
    expect(classify(status, code)).toBeInstanceOf(cls);
  });

  it('only 1302 lowers the shared concurrency cap', () => {
    expect((classify(429, '1302') as RateLimitedError).lowerConcurrency).toBe(true);
    expect((classify(429, '1305') as RateLimitedError).lowerConcurrency).toBe(false);
  });

  it('waits out our earlier call before resubmitting after 1231; other transients wait only the backoff', () => {
    expect(classify(400, '1231')).toMatchObject({ name: 'TransientError', retryAfterMs: 30_000 });
    expect(classify(500, '500')).toMatchObject({ retryAfterMs: 0 });
  });

  it('raises an alert for configuration codes and for codes not in the table', () => {
    for (const code of ['1211', '1212', '1220', '1221', '1222']) expect(classify(400, code).alert).toBe('zai_configuration');
    expect(classify(400, '9999').alert).toBe('zai_unknown_code');
    expect(classify(503, undefined).alert).toBeUndefined();
    expect(classify(400, '1214').alert).toBeUndefined();
  });

  it('falls back to the HTTP status for unknown codes', () => {
    expect(classify(503, '9999')).toBeInstanceOf(TransientError);
    expect(classify(429, undefined)).toBeInstanceOf(RateLimitedError);
    expect(classify(401, undefined)).toBeInstanceOf(FleetPauseError);
    expect(classify(400, '9999')).toBeInstanceOf(PermanentError);
    expect(classify(502, undefined).code).toBe('http_502');
  });

  it('pauses a daily quota until midnight China time, a usage cap until the time it names', () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    expect(new Date(nextDailyReset(now)).toISOString()).toBe('2026-11-24T16:00:00.000Z');
    expect((classify(429, '1304') as FleetPauseError).resumeAt).toBe(Date.parse('2026-11-24T16:00:00Z'));
    expect(resetTimeFromMessage('limit reached, resets at 2026-11-25 08:00:00', now)).toBe(Date.parse('2026-11-25T00:00:00Z'));
    expect((classify(429, '1308', 'no time given') as FleetPauseError).resumeAt).toBe(now + 3600_000);
  });
});
