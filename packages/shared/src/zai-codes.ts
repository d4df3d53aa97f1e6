/**
 * Z.AI business codes → what we do about them. The one table (see ZAI-API.md); a code that is not
 * here is treated by its HTTP status by `classifyZaiFailure` and logged by the caller.
 */
import { FleetPauseError, PermanentError, RateLimitedError, TransientError, type JobError, type ZaiFailure } from './errors.ts';

export type ZaiCodeClass =
  | 'retry' // transient: backoff, attempt spent
  | 'pause' // account-wide: pause the fleet, keep jobs queued, alert
  | 'permanent' // this request can never succeed
  | 'misconfigured' // permanent for the job, and an operator must look (model/permission)
  | 'duplicate' // "you already have a request": back off, do not hammer
  | 'concurrency' // 1302: lower our shared in-flight cap, requeue free
  | 'frequency' // 1303: fleet-wide backoff, requeue free
  | 'overloaded' // 1305: fleet-wide cooldown, growing
  | 'daily-quota' // 1304: pause until the daily reset
  | 'usage-cap'; // 1308/1310: pause until the time in the message

const table: Record<string, ZaiCodeClass> = {
  '500': 'retry',
  '1000': 'pause', '1001': 'pause', '1002': 'pause', '1003': 'pause', '1004': 'pause',
  '1100': 'retry', '1120': 'retry',
  '1110': 'pause', '1111': 'pause', '1112': 'pause', '1113': 'pause', '1121': 'pause',
  '1200': 'permanent', '1210': 'permanent', '1213': 'permanent', '1214': 'permanent', '1215': 'permanent',
  '1211': 'misconfigured', '1212': 'misconfigured', '1220': 'misconfigured', '1221': 'misconfigured', '1222': 'misconfigured',
  '1230': 'retry', '1234': 'retry',
  '1231': 'duplicate',
  '1261': 'permanent',
  '1300': 'permanent', '1301': 'permanent',
  '1302': 'concurrency',
  '1303': 'frequency',
  '1304': 'daily-quota',
  '1305': 'overloaded',
  '1308': 'usage-cap', '1310': 'usage-cap',
  '1312': 'retry',
};

export function zaiCodeClass(code: string | undefined): ZaiCodeClass | undefined {
  return code === undefined ? undefined : table[code];
}

function byStatus(status: number): ZaiCodeClass {
  if (status === 401 || status === 403) return 'pause';
  if (status === 429) return 'frequency';
  if (status >= 400 && status < 500 && status !== 408) return 'permanent';
  return 'retry';
}

/** Z.AI's daily quotas reset at midnight China Standard Time (UTC+8). */
export function nextDailyReset(now: number): number {
  const cst = 8 * 3600_000;
  const day = 24 * 3600_000;
  return Math.floor((now + cst) / day) * day + day - cst;
}

/** 1308/1310 messages carry the reset time, e.g. "... will reset at 2025-10-14 00:00:00". */
export function resetTimeFromMessage(message: string, now: number): number | undefined {
  const m = /(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)/.exec(message);
  if (!m) return undefined;
  const at = Date.parse(`${m[1]}T${m[2]}+08:00`);
  return Number.isFinite(at) && at > now ? at : undefined;
}

export interface ClassifyOptions {
  /** Base delay for fleet-wide backoff after a rate limit. */
  rateLimitDelayMs: number;
  /**
   * Least wait before resubmitting after 1231 ("you already have a request"): our earlier call is
   * still running at Z.AI, so resubmitting at once would only be refused again (or pay twice).
   */
  duplicateDelayMs: number;
  now?: number;
}

/** Turns one failed Z.AI answer into the error class that decides its fate. */
export function classifyZaiFailure(failure: ZaiFailure, opts: ClassifyOptions): JobError {
  const known = zaiCodeClass(failure.code);
  const error = classify(known ?? byStatus(failure.status), failure, opts);
  return known === undefined && failure.code !== undefined ? error.withAlert('zai_unknown_code') : error;
}

function classify(cls: ZaiCodeClass, failure: ZaiFailure, opts: ClassifyOptions): JobError {
  const now = opts.now ?? Date.now();
  const code = failure.code ?? `http_${failure.status}`;
  const message = failure.message || `Z.AI answered HTTP ${failure.status}`;
  switch (cls) {
    case 'retry':
      return new TransientError(code, message, failure);
    case 'duplicate':
      return new TransientError(code, message, failure, { retryAfterMs: opts.duplicateDelayMs });
    case 'permanent':
      return new PermanentError(code, message, failure);
    case 'misconfigured':
      return new PermanentError(code, message, failure).withAlert('zai_configuration');
    case 'pause':
      return new FleetPauseError(code, message, { zai: failure });
    case 'daily-quota':
      return new FleetPauseError(code, message, { zai: failure, resumeAt: nextDailyReset(now) });
    case 'usage-cap':
      return new FleetPauseError(code, message, {
        zai: failure,
        resumeAt: resetTimeFromMessage(message, now) ?? now + 3600_000,
      });
    case 'concurrency':
      return new RateLimitedError(code, message, opts.rateLimitDelayMs, { zai: failure, lowerConcurrency: true });
    case 'frequency':
    case 'overloaded':
      return new RateLimitedError(code, message, opts.rateLimitDelayMs, { zai: failure });
  }
}
