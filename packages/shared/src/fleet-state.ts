/**
 * Fleet-wide pause of generation. Account failures (bad key, arrears, locked account, quotas) are
 * not any one job's fault: the generate queue is paused for every worker (BullMQ's pause is
 * global), jobs stay queued, and the reason is kept in Redis for /readyz, logs and admins.
 *
 * A pause an operator set (`manual`) is lifted only by an operator; automatic pauses never replace
 * it. An automatic pause ends through a canary: once a probe passes, the queue runs again but only
 * one job may call Z.AI (`canary` set) until one call succeeds.
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
  /** Set by an operator (admin route or CLI): the automatic upkeep never lifts it. */
  manual: z.boolean().optional(),
  /** Interval between probes of this pause; doubles each time a canary hits the account error. */
  probeMs: z.number().optional(),
  /** When a probe passed and the queue was released to one canary call (epoch ms). */
  canary: z.number().optional(),
});
export type PauseState = z.infer<typeof pauseStateSchema>;

/**
 * A drain: every worker stops taking jobs of any stage and finishes the ones it runs (for a
 * deploy or a Redis move). Unlike a pause it is local to each worker's BullMQ loop, and the
 * automatic upkeep never sets or lifts it: only an operator does.
 */
export const drainStateSchema = z.object({ since: z.number(), reason: z.string().optional(), by: z.string().optional() });
export type DrainState = z.infer<typeof drainStateSchema>;

/** Why an operator paused generation: required, shown in /readyz, /admin/fleet and logs. */
export const pauseReasonSchema = z.string().trim().min(1, 'is required').max(500);

// Replaces the pause only if it is still the one the caller read (a concurrent change wins).
const REPLACE_IF_SAME = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

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

  /** An operator's pause: replaces any automatic one, and only `resume` lifts it. */
  async pauseManually(reason: string): Promise<PauseState> {
    const state: PauseState = { code: 'manual', message: reason, since: Date.now(), manual: true };
    await this.#redis.set(this.#keys.fleetPause, JSON.stringify(state));
    await this.#redis.del(this.#keys.fleetCanary);
    await this.#queue.pause();
    return state;
  }

  /**
   * Moves from the pause `from` (as read) to `to`, pausing or releasing the queue to match; false
   * if the pause changed in between (another worker, or an operator, got there first).
   */
  async replace(from: PauseState, to: PauseState): Promise<boolean> {
    const raw = await this.#redis.get(this.#keys.fleetPause);
    if (!raw || !sameState(parse(raw), from)) return false;
    const done = await this.#redis.eval(REPLACE_IF_SAME, 1, this.#keys.fleetPause, raw, JSON.stringify(to));
    if (done !== 1) return false;
    await this.#redis.del(this.#keys.fleetCanary);
    if (to.canary === undefined) await this.#queue.pause();
    else await this.#queue.resume();
    return true;
  }

  async resume(): Promise<PauseState | undefined> {
    const state = await this.read();
    await this.#redis.del(this.#keys.fleetPause, this.#keys.fleetCanary);
    await this.#queue.resume();
    return state;
  }

  /** Starts a drain (or keeps the one under way). Returns the drain in force. */
  async drain(reason: string | undefined, by: string | undefined): Promise<DrainState> {
    const state: DrainState = { since: Date.now(), ...(reason ? { reason } : {}), ...(by ? { by } : {}) };
    await this.#redis.set(this.#keys.fleetDrain, JSON.stringify(state), 'NX');
    return (await this.readDrain()) ?? state;
  }

  /** Ends a drain; the workers take jobs again at their next look. Returns the drain it ended. */
  async undrain(): Promise<DrainState | undefined> {
    const state = await this.readDrain();
    await this.#redis.del(this.#keys.fleetDrain);
    return state;
  }

  async readDrain(): Promise<DrainState | undefined> {
    const raw = await this.#redis.get(this.#keys.fleetDrain);
    if (!raw) return undefined;
    const parsed = drainStateSchema.safeParse(safeJson(raw));
    return parsed.success ? parsed.data : { since: 0 };
  }

  async read(): Promise<PauseState | undefined> {
    const raw = await this.#redis.get(this.#keys.fleetPause);
    return raw ? parse(raw) : undefined;
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function parse(raw: string): PauseState {
  const parsed = pauseStateSchema.safeParse(safeJson(raw));
  return parsed.success ? parsed.data : { code: 'unknown', message: raw, since: 0 };
}

function sameState(a: PauseState, b: PauseState): boolean {
  return a.since === b.since && a.code === b.code && a.canary === b.canary && a.manual === b.manual;
}
