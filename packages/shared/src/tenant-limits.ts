/**
 * Per-tenant quotas, set by an operator (`darkroom tenants limits set`) and read by the admission
 * scripts (generation-record.ts ADMIT, the API's batch activation):
 * - `max_waiting`: unfinished generations (single or batch items) the tenant may have at once;
 *   unset, TENANT_MAX_UNFINISHED applies;
 * - `daily_images`: images accepted per UTC day. Counted when accepted (a canceled one is not given
 *   back), so no Z.AI call is ever made past the budget.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';

/** A day's counter outlives its day, so a request at 23:59:59 and its replay agree. */
export const DAILY_COUNTER_TTL_SECONDS = 2 * 86_400;

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface TenantLimits {
  max_waiting: number | null;
  daily_images: number | null;
}

export class TenantLimitStore {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async get(tenant: string): Promise<TenantLimits> {
    const [maxWaiting, dailyImages] = await this.#redis.hmget(this.#keys.tenantLimits(tenant), 'max_waiting', 'daily_images');
    return { max_waiting: maxWaiting === null ? null : Number(maxWaiting), daily_images: dailyImages === null ? null : Number(dailyImages) };
  }

  /** Sets the given limits; null removes one (back to the default: TENANT_MAX_UNFINISHED, no budget). */
  async set(tenant: string, limits: Partial<TenantLimits>): Promise<TenantLimits> {
    const key = this.#keys.tenantLimits(tenant);
    const tx = this.#redis.multi();
    for (const [field, value] of Object.entries(limits)) {
      if (value === undefined) continue;
      if (value === null) tx.hdel(key, field);
      else tx.hset(key, field, String(value));
    }
    await tx.exec();
    return this.get(tenant);
  }

  /** Images accepted for `tenant` on the UTC day of `ms`. */
  async imagesOn(tenant: string, ms: number): Promise<number> {
    return Number((await this.#redis.get(this.#keys.tenantDailyImages(tenant, utcDay(ms)))) ?? 0);
  }
}
