/**
 * Tenants and their API keys. Keys are stored only as sha256 (they are 256-bit random, so a fast
 * hash is enough); the webhook secret is stored as is because the worker must sign with it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';

export const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export interface NewKey {
  tenant: string;
  api_key: string;
  webhook_secret: string;
}

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
    await this.#redis.hsetnx(tenantKey, 'webhook_secret', `whsec_${randomBytes(32).toString('base64')}`);
    await this.#redis.hsetnx(tenantKey, 'created_at', String(Date.now()));
    const apiKey = `dk_${randomBytes(32).toString('base64url')}`;
    await this.#redis.set(this.#keys.apiKey(sha256Hex(apiKey)), tenant);
    const secret = await this.#redis.hget(tenantKey, 'webhook_secret');
    if (!secret) throw new Error(`tenant ${tenant} has no webhook secret`);
    return { tenant, api_key: apiKey, webhook_secret: secret };
  }

  async tenantForKey(apiKey: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#keys.apiKey(sha256Hex(apiKey)))) ?? undefined;
  }

  async webhookSecret(tenant: string): Promise<string | undefined> {
    return (await this.#redis.hget(this.#keys.tenant(tenant), 'webhook_secret')) ?? undefined;
  }
}
