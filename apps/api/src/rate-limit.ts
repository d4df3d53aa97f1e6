/**
 * Per-tenant request-rate limits, shared by every API replica through Redis: a fixed window of one
 * second per tenant, counted by one script that also reads the tenant's limit (set by an admin),
 * so an unlimited tenant costs one round trip and no write.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '@darkroom/shared';

// Returns 0 when the request may go on, else the ms left in the current window.
const TAKE = `
local limit = tonumber(redis.call('HGET', KEYS[1], 'rate_per_second'))
if not limit then return 0 end
local used = redis.call('INCR', KEYS[2])
if used == 1 then redis.call('PEXPIRE', KEYS[2], 2000) end
if used <= limit then return 0 end
return tonumber(ARGV[1])`;

export class RateLimiter {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** 0 if the tenant may make this request now, else how many ms until its next window. */
  async take(tenant: string, now = Date.now()): Promise<number> {
    const second = Math.floor(now / 1000);
    const left = 1000 - (now % 1000);
    return Number(await this.#redis.eval(TAKE, 2, this.#keys.tenant(tenant), this.#keys.rateWindow(tenant, second), String(left)));
  }
}
