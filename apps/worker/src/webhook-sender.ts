/**
 * Delivers one webhook attempt per the Standard Webhooks spec: `webhook-id` stays the same for
 * every attempt of an event, `webhook-timestamp` is the attempt's, `webhook-signature` is
 * `v1,` + base64 HMAC-SHA256 over `${id}.${timestamp}.${body}` with the tenant's whsec_ secret.
 * Redirects are not followed; connections go through the SSRF guard's lookup.
 */
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import { ForbiddenAddressError, assertAddressAllowed, guardedLookup, type AddressPolicy } from '@darkroom/shared';

export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export interface DeliveryAttempt {
  at: string;
  status_code: number | null;
  ms: number;
  error: string | null;
  ok: boolean;
  /** The SSRF guard refused the address: retrying cannot help. */
  forbidden: boolean;
}

export function createWebhookDispatcher(policy: AddressPolicy, timeoutMs: number): Agent {
  return new Agent({
    connect: { lookup: guardedLookup(policy), timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}

export async function sendWebhook(
  target: { url: string; id: string; body: string; secret: string },
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
        'webhook-signature': signWebhook(target.secret, target.id, timestamp, target.body),
      },
      body: target.body,
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    await res.body.dump();
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return { at, status_code: res.statusCode, ms: Date.now() - started, error: ok ? null : `HTTP ${res.statusCode}`, ok, forbidden: false };
  } catch (err) {
    const e = err as Error & { cause?: unknown };
    const forbidden = e instanceof ForbiddenAddressError || e.cause instanceof ForbiddenAddressError;
    const message = e.cause instanceof Error ? e.cause.message : e.message;
    return { at, status_code: null, ms: Date.now() - started, error: message, ok: false, forbidden };
  }
}
