import type { S3Client } from '@aws-sdk/client-s3';
import type { Dispatcher } from 'undici';
import type { Config, GenerationStore, ImageLinker, Logger, Queues, RedisKeys, TenantStore } from '@darkroom/shared';
import type { Redis } from 'ioredis';
import type { Fleet } from './fleet.ts';
import type { PendingAnswers } from './pending-answers.ts';
import type { WorkerMetrics } from './worker-metrics.ts';
import type { ZaiClient } from './zai-client.ts';

/** Everything a processor needs, built once by createWorker and passed in. */
export interface WorkerContext {
  config: Config;
  log: Logger;
  redis: Redis;
  keys: RedisKeys;
  generations: GenerationStore;
  tenants: TenantStore;
  queues: Queues;
  zai: ZaiClient;
  s3: S3Client;
  bucket: string;
  links: ImageLinker;
  fleet: Fleet;
  pending: PendingAnswers;
  imageDispatcher: Dispatcher;
  webhookDispatcher: Dispatcher;
  metrics: WorkerMetrics;
}
