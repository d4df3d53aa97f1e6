/**
 * The adaptive Z.AI limits as every process can read them: the fleet-wide in-flight cap the
 * workers enforce right now, the concurrency known to work, and how often Z.AI refused us lately.
 * The workers write this state (apps/worker/src/adaptive-limit.ts); the API only reads it for
 * /metrics and /readyz. Times are Redis server time, so every process sees the same minute.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';

export interface ZaiLimits {
  /** Z.AI calls the fleet may have in flight now (BullMQ's global concurrency on generate). */
  cap: number;
  /** The highest concurrency known to work: in flight at the last 1302, or proven by a success since. 0 = none yet. */
  limit: number;
  /** Calls in flight to Z.AI right now, fleet-wide. */
  inFlight: number;
  /** 1302 answers in the last 60 s, and since the state was created. */
  refusalsPerMinute: number;
  refusalsTotal: number;
  /** Calls per second the fleet may start now; 0 = no limit (ZAI_MAX_RPS unset and no 1303/1305/429 yet). */
  rps: number;
  /** 1303, 1305 and 429 answers in the last 60 s, and since the state was created. */
  throttlesPerMinute: number;
  throttlesTotal: number;
}

const READ = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'cap', 'limit', 'refusals', 'rps', 'throttles')
if not s[1] then return false end
return {s[1], s[2] or 0, redis.call('ZCOUNT', KEYS[2], now, '+inf'), redis.call('ZCOUNT', KEYS[3], now - 60000, '+inf'),
  s[3] or 0, s[4] or 0, redis.call('ZCOUNT', KEYS[4], now - 60000, '+inf'), s[5] or 0}`;

/** The current limits, or undefined before any worker has started. */
export async function readZaiLimits(redis: Redis, keys: RedisKeys): Promise<ZaiLimits | undefined> {
  const raw = (await redis.eval(READ, 4, keys.zaiLimits, keys.zaiCalls, keys.zaiRefusals, keys.zaiThrottles)) as unknown[] | null;
  if (!raw) return undefined;
  const [cap, limit, inFlight, refusalsPerMinute, refusalsTotal, rps, throttlesPerMinute, throttlesTotal] = raw.map(Number);
  return {
    cap: cap ?? 0,
    limit: limit ?? 0,
    inFlight: inFlight ?? 0,
    refusalsPerMinute: refusalsPerMinute ?? 0,
    refusalsTotal: refusalsTotal ?? 0,
    rps: rps ?? 0,
    throttlesPerMinute: throttlesPerMinute ?? 0,
    throttlesTotal: throttlesTotal ?? 0,
  };
}
