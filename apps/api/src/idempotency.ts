/**
 * Idempotency-Key: a repeat of a request returns the job the first one created, and reusing a key
 * for a different request is refused. The key is claimed with SET NX after the record exists, so
 * a loser of a race always finds the winner's record.
 */
import type { Redis } from 'ioredis';
import { sha256Hex, type RedisKeys } from '@darkroom/shared';

export interface IdempotencyClaim {
  id: string;
  fingerprint: string;
}

export class IdempotencyKeys {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, keys: RedisKeys, ttlSeconds: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlSeconds = ttlSeconds;
  }

  #key(tenant: string, key: string): string {
    return this.#keys.idempotency(tenant, sha256Hex(key));
  }

  async find(tenant: string, key: string): Promise<IdempotencyClaim | undefined> {
    const raw = await this.#redis.get(this.#key(tenant, key));
    return raw ? (JSON.parse(raw) as IdempotencyClaim) : undefined;
  }

  /** True if this call claimed the key for `claim.id`. */
  async claim(tenant: string, key: string, claim: IdempotencyClaim): Promise<boolean> {
    const ok = await this.#redis.set(this.#key(tenant, key), JSON.stringify(claim), 'EX', this.#ttlSeconds, 'NX');
    return ok === 'OK';
  }
}

/** A stable fingerprint of a request body: same fields and values, same fingerprint. */
export function fingerprint(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  return sha256Hex(JSON.stringify(canonical(value)));
}
