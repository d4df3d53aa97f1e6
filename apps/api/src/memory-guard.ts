/**
 * Refuses new work while Redis is nearly full. With `maxmemory-policy noeviction`, Redis refuses
 * every write past `maxmemory`, including the BullMQ scripts that move jobs along: if the API
 * filled Redis, the workers could no longer drain it. So new generations stop at a high-water
 * mark (REDIS_MEMORY_HIGH_WATER of maxmemory), which leaves the rest for the work in flight.
 * INFO memory is read at most once per REDIS_MEMORY_CHECK_MS, shared by concurrent requests.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '@darkroom/shared';

export interface MemoryReading {
  used: number;
  max: number;
}

export function parseMemoryInfo(info: string): MemoryReading | undefined {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:(\\d+)\\r?$`, 'm').exec(info);
    return m ? Number(m[1]) : undefined;
  };
  const used = field('used_memory');
  const max = field('maxmemory');
  return used === undefined || max === undefined ? undefined : { used, max };
}

export class MemoryGuard {
  readonly #redis: Redis;
  readonly #highWater: number;
  readonly #everyMs: number;
  readonly #log: Logger;
  #reading: Promise<MemoryReading | undefined> | undefined;
  #readAt = 0;
  #full = false;

  constructor(redis: Redis, opts: { highWater: number; everyMs: number; log: Logger }) {
    this.#redis = redis;
    this.#highWater = opts.highWater;
    this.#everyMs = opts.everyMs;
    this.#log = opts.log;
  }

  async #read(): Promise<MemoryReading | undefined> {
    const now = Date.now();
    if (!this.#reading || now - this.#readAt >= this.#everyMs) {
      this.#readAt = now;
      // A Redis that forbids INFO is not refused here: its OOM error still answers 503.
      this.#reading = this.#redis.info('memory').then(parseMemoryInfo, () => undefined);
    }
    return this.#reading;
  }

  /** True when new work may be accepted. */
  async hasRoom(): Promise<boolean> {
    if (this.#highWater >= 1) return true;
    const reading = await this.#read();
    if (!reading || reading.max === 0) return true;
    const full = reading.used >= reading.max * this.#highWater;
    if (full !== this.#full) {
      this.#full = full;
      const fields = { used: reading.used, max: reading.max, highWater: this.#highWater };
      if (full) this.#log.error({ ...fields, alert: 'redis_memory' }, 'redis memory above the high-water mark: refusing new generations');
      else this.#log.warn(fields, 'redis memory back under the high-water mark: accepting generations');
    }
    return !full;
  }
}
