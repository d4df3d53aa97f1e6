/**
 * How the fleet reacts to Z.AI's account-wide signals, shared by every worker through Redis:
 * - pause / resume (FleetState). A pause with a known end resumes at its reset time. Any other
 *   automatic pause is probed (a free call) every `probeMs`; a passing probe does not prove the
 *   account works (Z.AI may check parameters before the account), so it releases one canary job:
 *   only the canary may call Z.AI until a call succeeds, which resumes the fleet; a canary that
 *   hits an account error again re-pauses with the probe interval doubled (up to
 *   ZAI_PAUSE_PROBE_MAX_MS). So while the account stays bad, at most one generation call is
 *   attempted per probe interval. A pause an operator set is never lifted here;
 * - a growing cooldown while rate limits keep coming (1303, 1305, 429s).
 * The shared in-flight cap and call rate are adaptive-limit.ts's: a 1302 never cools the queue.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { FleetPauseError, FleetState, type Config, type Logger, type PauseState, type RateLimitedError, type RedisKeys } from '@darkroom/shared';
import { callLifetimeMs, type ZaiClient } from './zai-client.ts';

const COOLDOWN_WINDOW_MS = 60_000;
const MAX_COOLDOWN_MS = 5 * 60_000;
const MAX_COOLDOWN_FACTOR = 64;
/** How long jobs that are not the canary are held back before they look again. */
const CANARY_HOLD_MS = 1_000;

// Gives up the canary slot only if `id` still holds it.
const RELEASE_CANARY = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class Fleet {
  readonly state: FleetState;
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #queue: Queue;
  readonly #config: Config;
  readonly #log: Logger;

  constructor(deps: { redis: Redis; keys: RedisKeys; generateQueue: Queue; config: Config; log: Logger }) {
    this.#redis = deps.redis;
    this.#keys = deps.keys;
    this.#queue = deps.generateQueue;
    this.#config = deps.config;
    this.#log = deps.log;
    this.state = new FleetState(deps.redis, deps.keys, deps.generateQueue);
  }

  async pause(reason: Omit<PauseState, 'since'>): Promise<void> {
    const current = await this.state.read();
    if (current?.canary !== undefined && !current.manual) {
      const probeMs = Math.min(2 * (current.probeMs ?? this.#config.zai.pauseProbeMs), this.#config.zai.pauseProbeMaxMs);
      if (await this.state.replace(current, { ...reason, since: Date.now(), probeMs })) {
        this.#log.error({ alert: 'fleet_paused', ...reason, probeMs }, 'the canary hit an account error again: generation paused, probing less often');
      }
      return;
    }
    if (await this.state.pause(reason)) {
      this.#log.error({ alert: 'fleet_paused', ...reason }, 'generation paused fleet-wide: jobs stay queued');
    }
  }

  /**
   * Whether job `id` may call Z.AI now: 0 if yes, else how long the queue should hold jobs back.
   * While a canary is out, only the one job holding the canary slot may call.
   */
  async admit(id: string): Promise<number> {
    const paused = await this.state.read();
    if (paused?.canary === undefined) return 0;
    const ttl = callLifetimeMs(this.#config.zai.timeoutMs);
    const claimed = await this.#redis.set(this.#keys.fleetCanary, id, 'PX', ttl, 'NX');
    if (claimed === 'OK') {
      this.#log.warn({ id }, 'canary: this job alone calls Z.AI until one call succeeds');
      return 0;
    }
    if ((await this.#redis.get(this.#keys.fleetCanary)) === id) return 0;
    return Math.min(CANARY_HOLD_MS, this.#config.zai.pauseProbeMs);
  }

  /**
   * A call succeeded, whatever became of its answer: the account works, so a canary phase ends
   * with the whole fleet released (and the canary slot with it). Best-effort: it runs after a paid
   * answer, which a Redis error here must not fail; a canary slot left behind expires by itself.
   */
  async answered(): Promise<void> {
    await this.#quietly('answered', async () => {
      const paused = await this.state.read();
      if (paused?.canary === undefined || paused.manual) return;
      await this.#resume(paused, 'canary call succeeded');
    });
  }

  /** A call failed; anything but an account error frees the canary slot for the next job. */
  async callFailed(id: string, err: unknown): Promise<void> {
    if (err instanceof FleetPauseError) return;
    await this.releaseCanary(id);
  }

  /** Frees the canary slot if `id` holds it (a job that did not call after all). */
  async releaseCanary(id: string): Promise<void> {
    await this.#redis.eval(RELEASE_CANARY, 1, this.#keys.fleetCanary, id);
  }

  /** Delay before the queue may call Z.AI again; grows while limits keep coming. */
  async cooldown(err: RateLimitedError): Promise<number> {
    const strikes = await this.#redis.incr(this.#keys.zaiCooldown);
    await this.#redis.pexpire(this.#keys.zaiCooldown, COOLDOWN_WINDOW_MS);
    return Math.min(err.delayMs * 2 ** Math.min(strikes - 1, 16), err.delayMs * MAX_COOLDOWN_FACTOR, MAX_COOLDOWN_MS);
  }

  /** Ends a rate-limit cooldown after a successful call; best-effort, like answered(). */
  async calm(): Promise<void> {
    await this.#quietly('calm', () => this.#redis.del(this.#keys.zaiCooldown));
  }

  async #quietly(step: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.#log.warn({ err, step }, 'fleet bookkeeping after a successful call failed');
    }
  }

  /** Periodic upkeep; safe to run on every worker at once. */
  async tick(zai: ZaiClient): Promise<void> {
    const paused = await this.state.read();
    if (!paused) {
      // A pause that raced a resume can leave BullMQ paused with no reason recorded: undo it.
      if (await this.#queue.isPaused()) {
        await this.#queue.resume();
        this.#log.warn('generation queue was paused without a recorded reason: resumed');
      }
      return;
    }
    // Only an operator lifts an operator's pause; a canary's own call decides its phase.
    if (paused.manual || paused.canary !== undefined) return;
    if (paused.resumeAt !== undefined) {
      if (Date.now() >= paused.resumeAt) await this.#resume(paused, 'reset time passed');
      return;
    }
    const probeMs = paused.probeMs ?? this.#config.zai.pauseProbeMs;
    if (Date.now() - paused.since < probeMs) return;
    const probeLock = await this.#redis.set(this.#keys.fleetProbeLock, '1', 'PX', probeMs, 'NX');
    if (probeLock !== 'OK') return;
    try {
      await zai.probe();
    } catch (err) {
      this.#log.warn({ code: (err as { code?: string }).code, paused }, 'probe: generation still unavailable');
      return;
    }
    if (await this.state.replace(paused, { ...paused, canary: Date.now() })) {
      this.#log.warn({ paused }, 'probe passed: releasing one canary job before the whole fleet');
    }
  }

  async #resume(paused: PauseState, why: string): Promise<void> {
    await this.state.resume();
    this.#log.warn({ paused, why }, 'generation resumed fleet-wide');
  }
}
