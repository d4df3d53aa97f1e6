/**
 * Z.AI's image endpoint. One call is one paid generation when it answers 200; every other answer
 * becomes an error class (zai-codes.ts) that decides retry, backoff, pause or failure.
 */
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import {
  TransientError,
  classifyZaiFailure,
  type Config,
  type ZaiFailure,
  type ZaiRequest,
  type ZaiResult,
} from '@darkroom/shared';

const successSchema = z.object({
  created: z.number(),
  data: z.array(z.object({ url: z.string().url() })).min(1),
  content_filter: z.array(z.object({ role: z.string(), level: z.number().int() })).default([]),
});

/** Both documented error shapes: `{"error":{"code":"1214","message":…}}` and `{"code":1214,"message":…}`. */
/**
 * How long one Z.AI call may be out at the most, as every worker must assume: ZAI_TIMEOUT_MS plus
 * slack for clock skew, a slow event loop and the save after the answer. A call's record mark
 * (`calling_until`), its lease in the adaptive limits and a canary's slot all last this long.
 */
export function callLifetimeMs(timeoutMs: number): number {
  return timeoutMs + 5_000;
}

/**
 * The call's deadline, as an abort signal. Node runs due timers before it reads sockets, so a
 * plain timer that comes due while the event loop was busy aborts a call whose paid answer is
 * already in the socket buffer, and Z.AI bills it all the same. The abort therefore waits one
 * turn of the loop (setImmediate runs after the socket reads): only a call with no answer yet
 * times out.
 */
function answerDeadline(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(() => controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')));
  }, ms);
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}

export function parseZaiError(status: number, body: string): ZaiFailure {
  let code: string | undefined;
  let message = '';
  try {
    const parsed = JSON.parse(body) as unknown;
    const obj = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
    const inner = (obj.error && typeof obj.error === 'object' ? obj.error : obj) as Record<string, unknown>;
    if (typeof inner.code === 'string' || typeof inner.code === 'number') code = String(inner.code);
    if (typeof inner.message === 'string') message = inner.message;
  } catch {
    message = body.slice(0, 200);
  }
  return { status, code, message, body: body.slice(0, 4096) };
}

export interface ZaiClient {
  generate(req: ZaiRequest): Promise<Omit<ZaiResult, 'received_at'>>;
  /**
   * Asks whether the account can generate, without paying: a request with an empty prompt.
   * A parameter error proves auth and account passed; what it throws otherwise says why not.
   */
  probe(): Promise<void>;
}

export function createZaiClient(cfg: Config['zai'] & { apiKey: string }, dispatcher?: Dispatcher): ZaiClient {
  const endpoint = `${cfg.baseUrl}/images/generations`;

  async function post(body: unknown): Promise<{ status: number; text: string }> {
    const deadline = answerDeadline(cfg.timeoutMs);
    try {
      const res = await request(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${cfg.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        // undici's own timers only back up the deadline: they fire in the timers phase too.
        headersTimeout: cfg.timeoutMs + 1_000,
        bodyTimeout: cfg.timeoutMs + 1_000,
        signal: deadline.signal,
        ...(dispatcher ? { dispatcher } : {}),
      });
      return { status: res.statusCode, text: await res.body.text() };
    } catch (err) {
      const name = (err as Error).name;
      const timedOut = name === 'TimeoutError' || name === 'HeadersTimeoutError' || name === 'BodyTimeoutError';
      throw new TransientError(
        timedOut ? 'zai_timeout' : 'zai_unreachable',
        timedOut ? `Z.AI did not answer within ${cfg.timeoutMs} ms` : `Z.AI request failed: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    } finally {
      deadline.clear();
    }
  }

  const classify = (status: number, text: string) =>
    classifyZaiFailure(parseZaiError(status, text), { rateLimitDelayMs: cfg.backoffMs, duplicateDelayMs: cfg.timeoutMs });

  return {
    async generate(req) {
      const { status, text } = await post(req);
      if (status !== 200) throw classify(status, text);
      let parsed: z.infer<typeof successSchema>;
      try {
        parsed = successSchema.parse(JSON.parse(text));
      } catch {
        throw new TransientError('zai_malformed_response', `Z.AI answered 200 with an unreadable body: ${text.slice(0, 120)}`);
      }
      const first = parsed.data[0];
      if (!first) throw new TransientError('zai_malformed_response', 'Z.AI answered 200 without an image');
      return { created: parsed.created, url: first.url, content_filter: parsed.content_filter };
    },

    async probe() {
      const { status, text } = await post({ model: 'cogview-4-250304', prompt: '' });
      if (status === 400) return;
      if (status === 200) return;
      throw classify(status, text);
    },
  };
}
