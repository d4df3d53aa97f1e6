import { pino, type DestinationStream, type Logger } from 'pino';

/** Paths never written to logs: credentials of callers, of Z.AI, of tenants' webhooks. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  'authorization',
  'apiKey',
  'api_key',
  'webhook_secret',
  'secret',
  '*.apiKey',
  '*.api_key',
  '*.webhook_secret',
  '*.secret',
  'config.zai.apiKey',
  'config.s3.credentials',
];

export function createLogger(opts: { level: string; name: string }, destination?: DestinationStream): Logger {
  return pino(
    { name: opts.name, level: opts.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination,
  );
}
export type { Logger };
