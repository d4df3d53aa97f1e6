/**
 * Tenants and their API keys. Keys are stored only as sha256 (they are 256-bit random, so a fast
 * hash is enough); the webhook secret is stored as is because the worker must sign with it.
 *
 * A key is valid exactly while `apikey:<sha256>` exists: revoking deletes it, so every API replica
 * refuses the key from its next request (nothing caches key lookups). Each key also has metadata
 * (id, a short prefix of the key, creation time) in the tenant's key hash, for listing and
 * revoking; keys issued before that metadata existed get an entry with only an id (backfill).
 *
 * Rotating the webhook secret keeps the previous one for a grace period: deliveries are signed
 * with both until it ends (Standard Webhooks allows several signatures in one header).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';

export const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Characters of a key shown in listings: `dk_` and 8 of its random characters. */
const KEY_PREFIX_CHARS = 11;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export interface NewKey {
  tenant: string;
  api_key: string;
  webhook_secret: string;
  key_id: string;
}

/** What may be shown of a key: never the key or its hash. */
export interface KeyInfo {
  id: string;
  /** Null for a key issued before prefixes were recorded. */
  prefix: string | null;
  created_at: string | null;
}

interface StoredKey extends KeyInfo {
  hash: string;
}

export interface TenantInfo {
  tenant: string;
  created_at: string | null;
  rate_limit: { per_second: number } | null;
  /** While a rotated-out webhook secret still signs deliveries. */
  previous_webhook_secret_valid_until: string | null;
  keys: KeyInfo[];
}

/** More than one key of the tenant matches: the caller must name it by id. */
export class AmbiguousKeyError extends Error {
  override name = 'AmbiguousKeyError';
}

const ROTATE_SECRET = `
local current = redis.call('HGET', KEYS[1], 'webhook_secret')
if not current then return 0 end
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', KEYS[1], 'webhook_secret_previous', current, 'webhook_secret_previous_until', ARGV[2])
else
  redis.call('HDEL', KEYS[1], 'webhook_secret_previous', 'webhook_secret_previous_until')
end
redis.call('HSET', KEYS[1], 'webhook_secret', ARGV[1])
return 1`;

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const iso = (ms: string | undefined) => (ms && Number.isFinite(Number(ms)) ? new Date(Number(ms)).toISOString() : null);

export class TenantStore {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** Issues a new API key; the tenant (and its webhook secret) is created on first use. */
  async createKey(tenant: string): Promise<NewKey> {
    if (!TENANT_NAME.test(tenant)) {
      throw new Error(`tenant must match ${TENANT_NAME.source}`);
    }
    const tenantKey = this.#keys.tenant(tenant);
    await this.#redis.hsetnx(tenantKey, 'webhook_secret', newSecret());
    await this.#redis.hsetnx(tenantKey, 'created_at', String(Date.now()));
    const apiKey = `dk_${randomBytes(32).toString('base64url')}`;
    const hash = sha256Hex(apiKey);
    const key: StoredKey = { id: `key_${randomBytes(6).toString('hex')}`, prefix: apiKey.slice(0, KEY_PREFIX_CHARS), created_at: new Date().toISOString(), hash };
    await this.#redis
      .multi()
      .sadd(this.#keys.tenants, tenant)
      .hset(this.#keys.tenantKeys(tenant), key.id, JSON.stringify(key))
      .set(this.#keys.apiKey(hash), tenant)
      .exec();
    const secret = await this.#redis.hget(tenantKey, 'webhook_secret');
    if (!secret) throw new Error(`tenant ${tenant} has no webhook secret`);
    return { tenant, api_key: apiKey, webhook_secret: secret, key_id: key.id };
  }

  async tenantForKey(apiKey: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#keys.apiKey(sha256Hex(apiKey)))) ?? undefined;
  }

  async exists(tenant: string): Promise<boolean> {
    return TENANT_NAME.test(tenant) && (await this.#redis.exists(this.#keys.tenant(tenant))) === 1;
  }

  /** The secrets that sign a delivery now: the current one, then a rotated-out one still in grace. */
  async webhookSecrets(tenant: string, now = Date.now()): Promise<string[]> {
    const [current, previous, until] = await this.#redis.hmget(this.#keys.tenant(tenant), 'webhook_secret', 'webhook_secret_previous', 'webhook_secret_previous_until');
    if (!current) return [];
    return previous && Number(until) > now ? [current, previous] : [current];
  }

  /**
   * Replaces the webhook secret; the old one keeps signing for `graceMs` (0: not at all). A
   * secret already in grace from an earlier rotation is dropped. Undefined if no such tenant.
   */
  async rotateWebhookSecret(tenant: string, graceMs: number): Promise<{ webhook_secret: string; previous_valid_until: string | null } | undefined> {
    const secret = newSecret();
    const until = Date.now() + graceMs;
    const done = await this.#redis.eval(ROTATE_SECRET, 1, this.#keys.tenant(tenant), secret, String(until), String(graceMs));
    if (done !== 1) return undefined;
    return { webhook_secret: secret, previous_valid_until: graceMs > 0 ? new Date(until).toISOString() : null };
  }

  /** Requests per second allowed to the tenant on every API replica together; null lifts the limit. */
  async setRateLimit(tenant: string, perSecond: number | null): Promise<void> {
    if (perSecond === null) await this.#redis.hdel(this.#keys.tenant(tenant), 'rate_per_second');
    else await this.#redis.hset(this.#keys.tenant(tenant), 'rate_per_second', String(perSecond));
  }

  /** Revokes the key whose id or prefix is `key`; undefined when the tenant has none such. */
  async revokeKey(tenant: string, key: string): Promise<KeyInfo | undefined> {
    await this.#backfill();
    const matches = (await this.#storedKeys(tenant)).filter((k) => k.id === key || k.prefix === key);
    if (matches.length > 1) throw new AmbiguousKeyError(`${matches.length} keys of ${tenant} start with ${key}: revoke by id`);
    const [found] = matches;
    if (!found) return undefined;
    await this.#redis.multi().del(this.#keys.apiKey(found.hash)).hdel(this.#keys.tenantKeys(tenant), found.id).exec();
    return publicKey(found);
  }

  async list(): Promise<TenantInfo[]> {
    await this.#backfill();
    const names = (await this.#redis.smembers(this.#keys.tenants)).sort();
    return Promise.all(
      names.map(async (tenant) => {
        const fields = await this.#redis.hgetall(this.#keys.tenant(tenant));
        const until = Number(fields.webhook_secret_previous_until);
        const keys = (await this.#storedKeys(tenant)).map(publicKey);
        keys.sort((a, b) => (a.created_at ?? '').localeCompare(b.created_at ?? ''));
        return {
          tenant,
          created_at: iso(fields.created_at),
          rate_limit: fields.rate_per_second ? { per_second: Number(fields.rate_per_second) } : null,
          previous_webhook_secret_valid_until: fields.webhook_secret_previous && until > Date.now() ? new Date(until).toISOString() : null,
          keys,
        };
      }),
    );
  }

  async #storedKeys(tenant: string): Promise<StoredKey[]> {
    const raw = await this.#redis.hvals(this.#keys.tenantKeys(tenant));
    return raw.map((json) => JSON.parse(json) as StoredKey);
  }

  /**
   * Keys issued before key metadata existed: one SCAN of the API keys, once per Redis (a marker
   * remembers it). Their ids derive from the key's hash, so replicas racing here write the same.
   */
  async #backfill(): Promise<void> {
    if (await this.#redis.exists(this.#keys.tenantsBackfilled)) return;
    let cursor = '0';
    do {
      const [next, found] = await this.#redis.scan(cursor, 'MATCH', this.#keys.apiKey('*'), 'COUNT', 1000);
      cursor = next;
      for (const redisKey of found) {
        const tenant = await this.#redis.get(redisKey);
        if (!tenant) continue;
        const hash = redisKey.slice(this.#keys.apiKey('').length);
        const known = (await this.#storedKeys(tenant)).some((k) => k.hash === hash);
        if (known) continue;
        const key: StoredKey = { id: `key_${sha256Hex(hash).slice(0, 12)}`, prefix: null, created_at: null, hash };
        await this.#redis.multi().sadd(this.#keys.tenants, tenant).hset(this.#keys.tenantKeys(tenant), key.id, JSON.stringify(key)).exec();
      }
    } while (cursor !== '0');
    await this.#redis.set(this.#keys.tenantsBackfilled, new Date().toISOString());
  }
}

function publicKey(key: StoredKey): KeyInfo {
  return { id: key.id, prefix: key.prefix, created_at: key.created_at };
}
