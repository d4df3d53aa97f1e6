/**
 * How the fleet reacts to Z.AI's account-wide signals, shared by every worker through Redis:
 * - pause / resume (FleetState) with a periodic check that resumes when the cause has ended:
 *   its known reset time has passed, or a free probe shows the account can generate again;
 * - a growing cooldown while rate limits keep coming (1303, 1305, 429s).
 * The shared in-flight cap and call rate are adaptive-limit.ts's: a 1302 never cools the queue.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { FleetState, type Config, type Logger, type PauseState, type RateLimitedError, type RedisKeys } from '@darkroom/shared';
import type { ZaiClient } from './zai-client.ts';

const COOLDOWN_WINDOW_MS = 60_000;
const MAX_COOLDOWN_MS = 5 * 60_000;
const MAX_COOLDOWN_FACTOR = 64;

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
    if (await this.state.pause(reason)) {
      this.#log.error({ alert: 'fleet_paused', ...reason }, 'generation paused fleet-wide: jobs stay queued');
    }
  }

  /** Delay before the queue may call Z.AI again; grows while limits keep coming. */
  async cooldown(err: RateLimitedError): Promise<number> {
    const strikes = await this.#redis.incr(this.#keys.zaiCooldown);
    await this.#redis.pexpire(this.#keys.zaiCooldown, COOLDOWN_WINDOW_MS);
    return Math.min(err.delayMs * 2 ** Math.min(strikes - 1, 16), err.delayMs * MAX_COOLDOWN_FACTOR, MAX_COOLDOWN_MS);
  }

  async calm(): Promise<void> {
    await this.#redis.del(this.#keys.zaiCooldown);
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
    if (paused.resumeAt !== undefined) {
      if (Date.now() >= paused.resumeAt) await this.#resume(paused, 'reset time passed');
      return;
    }
    if (Date.now() - paused.since < this.#config.zai.pauseProbeMs) return;
    const probeLock = await this.#redis.set(this.#keys.fleetProbeLock, '1', 'PX', this.#config.zai.pauseProbeMs, 'NX');
    if (probeLock !== 'OK') return;
    try {
      await zai.probe();
      await this.#resume(paused, 'probe succeeded');
    } catch (err) {
      this.#log.warn({ code: (err as { code?: string }).code, paused }, 'probe: generation still unavailable');
    }
  }

  async #resume(paused: PauseState, why: string): Promise<void> {
    await this.state.resume();
    this.#log.warn({ paused, why }, 'generation resumed fleet-wide');
  }
}
