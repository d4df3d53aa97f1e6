/**
 * The worker's /healthz and /readyz on its metrics port. Live: the process answers. Ready: its
 * BullMQ workers are running and Redis answers a PING within `timeoutMs` (the worker connection
 * retries forever, so an unanswered PING would otherwise hang the probe).
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { HealthCheck } from '@darkroom/shared';

export function workerReadiness(redis: Redis, workers: Worker[], timeoutMs = 2_000): HealthCheck {
  return async () => {
    if (!workers.every((w) => w.isRunning())) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, false);
    });
    try {
      return await Promise.race([redis.ping().then((pong) => pong === 'PONG'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}
