/**
 * Every error the API answers with: a stable `code`, its HTTP status, and one function that builds
 * the body. A 5xx never carries internals; anything a client sent never produces a 500.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ReplyError } from 'ioredis';
import { z } from 'zod';

export const API_ERRORS = {
  validation_error: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  conflict: 409,
  idempotency_conflict: 422,
  too_many_unfinished: 429,
  quota_exceeded: 429,
  rate_limited: 429,
  service_unavailable: 503,
  queue_full: 503,
  internal_error: 500,
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

export interface FieldProblem {
  /** A batch's request: its 1-based line (JSONL) or position (JSON `requests`). */
  line?: number;
  field: string;
  message: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly details: FieldProblem[] | undefined;
  /** Sent as Retry-After (429, 503). */
  retryAfterSeconds: number | undefined;
  /** More fields of the error object, e.g. `bad_lines` of a refused batch. */
  extra: Record<string, unknown> | undefined;
  constructor(code: ApiErrorCode, message: string, details?: FieldProblem[]) {
    super(message);
    this.code = code;
    this.details = details;
  }
  retryAfter(seconds: number): this {
    this.retryAfterSeconds = seconds;
    return this;
  }
  with(extra: Record<string, unknown>): this {
    this.extra = extra;
    return this;
  }
  get status(): number {
    return API_ERRORS[this.code];
  }
}

/** The body of every error answer: documented once, as the component `Error`. */
export const errorBodySchema = z
  .object({
    // Loose: some errors carry more fields, e.g. `bad_lines` of a refused batch.
    error: z.looseObject({
      code: z.enum(Object.keys(API_ERRORS) as [ApiErrorCode, ...ApiErrorCode[]]).describe('Stable and machine-readable; the HTTP status follows from it'),
      message: z.string(),
      details: z
        .array(
          z.object({
            line: z.number().int().min(1).optional().describe("A batch's request: its 1-based line (JSONL) or position (JSON `requests`)"),
            field: z.string().describe('The offending field, `(body)` for the body as a whole, or a header name'),
            message: z.string(),
          }),
        )
        .optional()
        .describe('For validation_error: every offending field at once'),
      bad_lines: z.number().int().min(1).optional().describe('A refused batch: how many of its requests are invalid'),
      limit: z.enum(['max_waiting', 'daily_images']).optional().describe('For quota_exceeded: the tenant quota that refused'),
      current: z.number().int().min(0).optional().describe('For quota_exceeded: where the tenant stands'),
      max: z.number().int().min(0).optional().describe('For quota_exceeded: the quota'),
    }),
  })
  .meta({
    id: 'Error',
    examples: [
      {
        error: {
          code: 'validation_error',
          message: 'invalid request: size width must be divisible by 16 (got 1000)',
          details: [{ field: 'size', message: 'width must be divisible by 16 (got 1000)' }],
        },
      },
      { error: { code: 'not_found', message: 'no generation gen_00000000000000000000000000000000' } },
    ],
  });

export function errorBody(code: ApiErrorCode, message: string, details?: FieldProblem[], extra?: Record<string, unknown>) {
  return { error: { code, message, ...(details ? { details } : {}), ...extra } };
}

/** What was wrong, one entry per zod issue, each naming its field (dotted path under `where`). */
export function fieldProblems(issues: z.core.$ZodIssue[], where = ''): FieldProblem[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const field = [where, path].filter(Boolean).join('.') || '(body)';
    const message =
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
    return { field: issue.code === 'unrecognized_keys' && !path ? (where || '(body)') : field, message };
  });
}

export function validationError(issues: z.core.$ZodIssue[], where = ''): ApiError {
  const details = fieldProblems(issues, where);
  return new ApiError('validation_error', `invalid request: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`, details);
}

const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_error',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
};

function isRedisUnavailable(err: Error): boolean {
  return /Connection is closed|Stream isn't writeable|ECONNREFUSED|Reached the max retries/.test(err.message);
}

/** Redis refuses writes past `maxmemory` (noeviction) with an error reply whose code is OOM. */
export function isRedisOutOfMemory(err: unknown): boolean {
  // By message: ioredis's ReplyError carries no code, and Redis's OOM reply is a fixed "OOM " prefix.
  return err instanceof (ReplyError as typeof Error) && err.message.startsWith('OOM ');
}

/** Refusing new work because Redis is (nearly) full: the queued work drains, then retry. */
export function queueFull(retryAfterSeconds: number): ApiError {
  return new ApiError('queue_full', 'the queue is full and accepts no new generations for now; retry later').retryAfter(retryAfterSeconds);
}

/** A tenant quota (tenant-limits.ts) refuses the whole request: nothing was written. */
export function quotaExceeded(limit: 'max_waiting' | 'daily_images', message: string, current: number, max: number): ApiError {
  return new ApiError('quota_exceeded', message).with({ limit, current, max });
}

/** handleError for one app: Retry-After of the 503s that Redis's state decides. */
export function errorHandler(retryAfterSeconds: number) {
  return (err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (isRedisOutOfMemory(err)) {
      request.log.error({ err }, 'redis is out of memory: refusing new work');
      return handleError(queueFull(retryAfterSeconds), request, reply);
    }
    if (!(err instanceof ApiError) && isRedisUnavailable(err)) void reply.header('retry-after', String(retryAfterSeconds));
    return handleError(err, request, reply);
  };
}

export function handleError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (err instanceof ApiError) {
    if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(err.retryAfterSeconds));
    return reply.status(err.status).send(errorBody(err.code, err.message, err.details, err.extra));
  }
  const fastifyErr = err as FastifyError;
  const mapped = fastifyErr.code ? FASTIFY_CODES[fastifyErr.code] : undefined;
  if (mapped) return reply.status(API_ERRORS[mapped]).send(errorBody(mapped, fastifyErr.message));
  if (err instanceof SyntaxError || (fastifyErr.statusCode === 400 && /JSON/i.test(err.message))) {
    return reply.status(400).send(errorBody('invalid_json', `body is not valid JSON: ${err.message}`));
  }
  if (fastifyErr.statusCode && fastifyErr.statusCode >= 400 && fastifyErr.statusCode < 500) {
    return reply.status(fastifyErr.statusCode).send(errorBody('validation_error', err.message));
  }
  if (isRedisUnavailable(err)) {
    request.log.error({ err }, 'redis unavailable');
    return reply.status(503).send(errorBody('service_unavailable', 'the queue is unavailable; retry shortly'));
  }
  request.log.error({ err }, 'unhandled error');
  return reply.status(500).send(errorBody('internal_error', 'internal error'));
}
