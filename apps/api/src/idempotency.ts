/**
 * Idempotency-Key: a repeat of a request returns the job the first one created, and reusing a key
 * for a different request is refused. The key is claimed in the same atomic step that creates the
 * record (GenerationStore.admit), so of concurrent requests exactly one creates a record and the
 * others find the winner's record.
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
    return raw ? parseClaim(raw) : undefined;
  }

  /** What GenerationStore.admit needs to claim `key` for `claim.id` along with the record. */
  claimFor(tenant: string, key: string, claim: IdempotencyClaim): { key: string; value: string; ttlSeconds: number } {
    return { key: this.#key(tenant, key), value: JSON.stringify(claim), ttlSeconds: this.#ttlSeconds };
  }
}

export function parseClaim(raw: string): IdempotencyClaim {
  return JSON.parse(raw) as IdempotencyClaim;
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
