/**
 * Fleet-wide pause of generation. Account failures (bad key, arrears, locked account, quotas) are
 * not any one job's fault: the generate queue is paused for every worker (BullMQ's pause is
 * global), jobs stay queued, and the reason is kept in Redis for /readyz, logs and admins.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RedisKeys } from './keys.ts';

export const pauseStateSchema = z.object({
  code: z.string(),
  message: z.string(),
  since: z.number(),
  resumeAt: z.number().optional(),
});
export type PauseState = z.infer<typeof pauseStateSchema>;

export class FleetState {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #queue: Queue;

  constructor(redis: Redis, keys: RedisKeys, generateQueue: Queue) {
    this.#redis = redis;
    this.#keys = keys;
    this.#queue = generateQueue;
  }

  /** Pauses generation; the first reason is kept while paused. Returns true if this call paused. */
  async pause(reason: Omit<PauseState, 'since'>): Promise<boolean> {
    const state: PauseState = { ...reason, since: Date.now() };
    const set = await this.#redis.set(this.#keys.fleetPause, JSON.stringify(state), 'NX');
    await this.#queue.pause();
    return set === 'OK';
  }

  async resume(): Promise<PauseState | undefined> {
    const state = await this.read();
    await this.#redis.del(this.#keys.fleetPause);
    await this.#queue.resume();
    return state;
  }

  async read(): Promise<PauseState | undefined> {
    const raw = await this.#redis.get(this.#keys.fleetPause);
    if (!raw) return undefined;
    const parsed = pauseStateSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : { code: 'unknown', message: raw, since: 0 };
  }
}
