/**
 * Job errors say whether a retry can help. Processors throw these; one function in the worker
 * (`settle` in apps/worker/src/outcome.ts) turns them into BullMQ's moves. Test with instanceof,
 * never by message text.
 */

/** What Z.AI said, kept on the job as evidence. */
export interface ZaiFailure {
  status: number;
  code: string | undefined;
  message: string;
  body: string;
}

export interface ErrorDetail {
  /** Stable, machine-readable: a Z.AI business code like "1301", or one of ours like "content_filtered". */
  code: string;
  message: string;
}

/** Base of every job error; `code` is what the job record keeps. */
export abstract class JobError extends Error {
  readonly code: string;
  readonly zai: ZaiFailure | undefined;
  /** Set when an operator must look (configuration, unknown Z.AI code); logged at error level. */
  alert: string | undefined;
  constructor(code: string, message: string, zai?: ZaiFailure, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.zai = zai;
  }
  withAlert(alert: string): this {
    this.alert = alert;
    return this;
  }
  detail(): ErrorDetail {
    return { code: this.code, message: this.message };
  }
}

/** Retrying cannot help: fail the job now, keep the code and message. */
export class PermanentError extends JobError {
  override name = 'PermanentError';
}

/**
 * May succeed later: retry with exponential backoff and jitter, spending an attempt, and not
 * sooner than `retryAfterMs` when the cause has a known minimum wait.
 */
export class TransientError extends JobError {
  override name = 'TransientError';
  readonly retryAfterMs: number;
  constructor(code: string, message: string, zai?: ZaiFailure, options: ErrorOptions & { retryAfterMs?: number } = {}) {
    super(code, message, zai, options);
    this.retryAfterMs = options.retryAfterMs ?? 0;
  }
}

/**
 * The image body itself was wrong (a type that is not an image, fewer bytes than announced): a
 * flaky host may serve it right on a retry, but a URL that keeps doing so never will, so the copy
 * is retried only a few times in a row (IMAGE_CONTENT_ATTEMPTS, default 5), not for the URL's life.
 */
export class ImageContentError extends TransientError {
  override name = 'ImageContentError';
}

/**
 * The account, not the job, is throttled: slow the whole queue for `delayMs` and put the job back
 * without spending an attempt. `lowerConcurrency` asks to cut the fleet's shared in-flight cap (1302).
 */
export class RateLimitedError extends JobError {
  override name = 'RateLimitedError';
  readonly delayMs: number;
  readonly lowerConcurrency: boolean;
  constructor(code: string, message: string, delayMs: number, opts: { zai?: ZaiFailure; lowerConcurrency?: boolean } = {}) {
    super(code, message, opts.zai);
    this.delayMs = delayMs;
    this.lowerConcurrency = opts.lowerConcurrency ?? false;
  }
}

/**
 * The account cannot generate at all (bad key, arrears, locked, quota): pause generation for the
 * whole fleet, keep every job queued, alert. `resumeAt` (epoch ms) when the cause has a known end.
 */
export class FleetPauseError extends JobError {
  override name = 'FleetPauseError';
  readonly resumeAt: number | undefined;
  constructor(code: string, message: string, opts: { zai?: ZaiFailure; resumeAt?: number } = {}) {
    super(code, message, opts.zai);
    this.resumeAt = opts.resumeAt;
  }
}

/** The temporary image URL is gone (403/404/expired): the only cure is a new, paid generation. */
export class ImageExpiredError extends JobError {
  override name = 'ImageExpiredError';
}
