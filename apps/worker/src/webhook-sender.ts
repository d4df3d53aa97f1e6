/**
 * Delivers one webhook attempt per the Standard Webhooks spec: `webhook-id` stays the same for
 * every attempt of an event, `webhook-timestamp` is the attempt's, `webhook-signature` is
 * `v1,` + base64 HMAC-SHA256 over `${id}.${timestamp}.${body}` with the tenant's whsec_ secret;
 * during a secret rotation's grace, one such entry per secret, space-separated (the spec's form).
 * Redirects are not followed (a 3xx is a failed attempt); connections go through the SSRF
 * guard's lookup. A 410 ends the delivery; a 429's or 503's Retry-After is returned for the
 * scheduler. `error` is shown to the tenant, so it never names a resolved address; `detail`
 * (for logs only) may.
 */
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import { ForbiddenAddressError, assertAddressAllowed, guardedLookup, type AddressPolicy, type LookupAll } from '@darkroom/shared';

export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` header: one signature per secret, space-separated. */
export function signatureHeader(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets.map((secret) => signWebhook(secret, id, timestamp, body)).join(' ');
}

export interface DeliveryAttempt {
  at: string;
  status_code: number | null;
  ms: number;
  /** Safe to show the tenant: no resolved address. */
  error: string | null;
  ok: boolean;
  /** The SSRF guard refused the address: retrying cannot help. */
  forbidden: boolean;
  /** The receiver answered 410 Gone: it wants no more attempts of this delivery. */
  gone: boolean;
  /** From the receiver's Retry-After (429, 503), in ms; undefined when it sent none. */
  retryAfterMs: number | undefined;
  /** The full error, for operator logs only. */
  detail: string | null;
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(raw)) return Number(raw) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connect timeout',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout waiting for the response',
  UND_ERR_BODY_TIMEOUT: 'timeout reading the response',
  UND_ERR_SOCKET: 'connection closed',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host',
};

/** What a tenant may see of a failed attempt: a fixed phrase per cause, never an address. */
function publicError(err: Error & { cause?: unknown }): string {
  if (err instanceof ForbiddenAddressError || err.cause instanceof ForbiddenAddressError) {
    return 'the webhook host resolves to an address webhooks may not reach';
  }
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout';
  const code = [err.cause, err].map((e) => (e as { code?: unknown } | undefined)?.code).find((c) => typeof c === 'string');
  return (typeof code === 'string' && NETWORK_ERRORS[code]) || 'request failed';
}

export function createWebhookDispatcher(policy: AddressPolicy, timeoutMs: number, lookupAll?: LookupAll): Agent {
  return new Agent({
    connect: { lookup: guardedLookup(policy, lookupAll), timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}

export async function sendWebhook(
  target: { url: string; id: string; body: string; secrets: readonly string[] },
  opts: { dispatcher: Dispatcher; policy: AddressPolicy; timeoutMs: number; now?: () => number },
): Promise<DeliveryAttempt> {
  const started = Date.now();
  const timestamp = Math.floor((opts.now?.() ?? started) / 1000);
  const at = new Date(started).toISOString();
  const host = new URL(target.url).hostname.replace(/^\[|\]$/g, '');
  try {
    // Literal IPs never reach the lookup, so they are checked here.
    if (isIP(host)) assertAddressAllowed(host, host, opts.policy);
    const res = await request(target.url, {
      method: 'POST',
      dispatcher: opts.dispatcher,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Darkroom-Webhooks/1',
        'webhook-id': target.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(target.secrets, target.id, timestamp, target.body),
      },
      body: target.body,
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    await res.body.dump();
    const code = res.statusCode;
    const ok = code >= 200 && code < 300;
    const error = ok ? null : code >= 300 && code < 400 ? `HTTP ${code}: redirects are not followed` : `HTTP ${code}`;
    return {
      at,
      status_code: code,
      ms: Date.now() - started,
      error,
      ok,
      forbidden: false,
      gone: code === 410,
      retryAfterMs: code === 429 || code === 503 ? parseRetryAfter(res.headers['retry-after']) : undefined,
      detail: error,
    };
  } catch (err) {
    const e = err as Error & { cause?: unknown };
    const forbidden = e instanceof ForbiddenAddressError || e.cause instanceof ForbiddenAddressError;
    const detail = e.cause instanceof Error ? e.cause.message : e.message;
    return {
      at,
      status_code: null,
      ms: Date.now() - started,
      error: publicError(e),
      ok: false,
      forbidden,
      gone: false,
      retryAfterMs: undefined,
      detail,
    };
  }
}
