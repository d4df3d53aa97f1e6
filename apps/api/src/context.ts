import type { S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import type { Config, FleetState, GenerationStore, ImageLinker, Queues, RedisKeys, TenantStore } from '@darkroom/shared';
import type { IdempotencyKeys } from './idempotency.ts';
import type { MemoryGuard } from './memory-guard.ts';
import type { RateLimiter } from './rate-limit.ts';

/** What the routes share, built once by buildApp. */
export interface ApiContext {
  config: Config;
  redis: Redis;
  keys: RedisKeys;
  queues: Queues;
  generations: GenerationStore;
  tenants: TenantStore;
  idempotency: IdempotencyKeys;
  fleet: FleetState;
  s3: S3Client;
  bucket: string;
  links: ImageLinker;
  memory: MemoryGuard;
  rateLimiter: RateLimiter;
}
