/**
 * Fleet-wide totals kept in Redis, so every API replica reports the same numbers: Z.AI answers
 * received (each one a paid generation, counted by GenerationStore.saveAnswer in the same script
 * that saves it) and images stored and verified (an INCR after the record is marked succeeded, so
 * a crash in between undercounts by one; nothing counts twice, since a finished job never stores
 * again).
 * Calls billed by Z.AI whose answer never arrived (timeouts, broken connections, killed workers)
 * are not counted: Darkroom cannot see them.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';

export interface FleetCounts {
  paid: number;
  stored: number;
}

export async function countStoredImage(redis: Redis, keys: RedisKeys): Promise<void> {
  await redis.incr(keys.storedImages);
}

export async function readFleetCounts(redis: Redis, keys: RedisKeys): Promise<FleetCounts> {
  const [paid, stored] = await redis.mget(keys.paidGenerations, keys.storedImages);
  return { paid: Number(paid ?? 0), stored: Number(stored ?? 0) };
}
