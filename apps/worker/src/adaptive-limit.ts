/**
 * Finds the Z.AI account's concurrency limit (and a sustainable call rate) below the configured
 * ceilings, fleet-wide, with AIMD; the algorithm and its constants are in docs/failures.md.
 *
 * Guarantees:
 * - every Z.AI generation call holds a lease in Redis while it is out, so the fleet knows how many
 *   calls were really in flight when a 1302 came; a lease ends with its call, or expires after
 *   the call's timeout plus a margin when its worker died;
 * - the state and BullMQ's enforcement of it change together, in one Lua script;
 * - bookkeeping after a call never throws: a paid answer must reach the job whatever Redis does.
 */
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RateLimitedError, type Config, type Logger, type RedisKeys } from '@darkroom/shared';
import { ENTER, INIT, REFUSED, STEP, SUCCEEDED, THROTTLED } from './adaptive-scripts.ts';
import { callLifetimeMs, type ZaiClient } from './zai-client.ts';


interface Call {
  id: string;
  /** Our calls in flight when this one was sent. */
  ahead: number;
  /** Our calls started in the second before this one. */
  sent: number;
  /** Redis time at the start. */
  started: number;
  /** Local clock at the start, for the round trip. */
  t0: number;
}

/**
 * A 1302 while none of our calls was out says nothing about our concurrency: the account is busy
 * elsewhere (another client, or Z.AI throttling to zero). Put back at once, the job would be
 * refused again at network speed; as a rate limit, the whole queue cools down instead.
 */
function busyElsewhere(err: RateLimitedError): RateLimitedError {
  return new RateLimitedError(err.code, err.message, err.delayMs, err.zai ? { zai: err.zai } : {});
}

export class AdaptiveLimit {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  /** BullMQ's generate meta hash (global concurrency and rate) and its wake-up marker. */
  readonly #meta: string;
  readonly #marker: string;
  readonly #zai: Config['zai'];
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: { redis: Redis; keys: RedisKeys; generateQueue: Queue; config: Config; log: Logger }) {
    this.#redis = deps.redis;
    this.#keys = deps.keys;
    this.#meta = deps.generateQueue.toKey('meta');
    this.#marker = deps.generateQueue.toKey('marker');
    this.#zai = deps.config.zai;
    this.#log = deps.log;
  }

  /** Creates the state on first use, clamps it to this process's ceilings, and starts the steps. */
  async start(): Promise<void> {
    const cap = await this.#redis.eval(INIT, 2, this.#keys.zaiLimits, this.#meta, this.#zai.maxConcurrency, this.#zai.maxRps ?? 0, this.#zai.startConcurrency);
    this.#log.info({ cap, ceiling: this.#zai.maxConcurrency }, 'adaptive Z.AI limits ready');
    this.#timer = setInterval(() => {
      this.step().catch((err: unknown) => this.#log.warn({ err }, 'adaptive limit step failed'));
    }, Math.max(10, Math.floor(this.#zai.limitStepMs / 2)));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async step(): Promise<void> {
    const raised = await this.#redis.eval(
      STEP, 5, this.#keys.zaiLimits, this.#keys.zaiCalls, this.#keys.zaiStarts, this.#meta, this.#marker,
      this.#zai.maxConcurrency, this.#zai.limitStepMs, this.#zai.maxRps ?? 0,
    );
    if (raised) this.#log.debug({ cap: raised }, 'Z.AI concurrency cap raised one step');
  }

  /** The same client, with every generation call leased and its outcome fed to the limits. */
  wrap(zai: ZaiClient): ZaiClient {
    return {
      probe: () => zai.probe(),
      generate: async (req) => {
        const call = await this.#enter();
        let answer;
        try {
          answer = await zai.generate(req);
        } catch (err) {
          await this.#settle(call, err);
          throw err instanceof RateLimitedError && err.lowerConcurrency && call.ahead === 0 ? busyElsewhere(err) : err;
        }
        await this.#quietly(() => this.#redis.eval(SUCCEEDED, 2, this.#keys.zaiLimits, this.#keys.zaiCalls, call.id, call.ahead, call.started));
        return answer;
      },
    };
  }

  async #enter(): Promise<Call> {
    const id = randomUUID();
    const t0 = Date.now();
    const lease = callLifetimeMs(this.#zai.timeoutMs);
    const [ahead, sent, started] = (await this.#redis.eval(ENTER, 3, this.#keys.zaiLimits, this.#keys.zaiCalls, this.#keys.zaiStarts, id, lease)) as number[];
    return { id, ahead: ahead ?? 0, sent: sent ?? 0, started: started ?? 0, t0 };
  }

  async #settle(call: Call, err: unknown): Promise<void> {
    const meta = this.#meta;
    if (err instanceof RateLimitedError && err.lowerConcurrency) {
      await this.#quietly(async () => {
        const [from, to] = (await this.#redis.eval(
          REFUSED, 4, this.#keys.zaiLimits, this.#keys.zaiCalls, this.#keys.zaiRefusals, meta,
          call.id, call.ahead, Date.now() - call.t0, this.#zai.limitProbeMs,
        )) as number[];
        if (from !== to) this.#log.warn({ from, to, inFlight: call.ahead }, 'Z.AI concurrency limit (1302): cap lowered to the calls in flight');
      });
    } else if (err instanceof RateLimitedError) {
      await this.#quietly(async () => {
        const [from, to] = (await this.#redis.eval(
          THROTTLED, 4, this.#keys.zaiLimits, this.#keys.zaiCalls, this.#keys.zaiThrottles, meta,
          call.id, call.sent, call.started, this.#zai.limitProbeMs,
        )) as number[];
        if (from !== to) this.#log.warn({ from, to, code: err.code }, 'Z.AI rate limit: calls per second lowered');
      });
    } else {
      await this.#quietly(() => this.#redis.zrem(this.#keys.zaiCalls, call.id));
    }
  }

  async #quietly(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.#log.warn({ err }, 'adaptive limit bookkeeping failed; the lease expires by itself');
    }
  }
}
