/**
 * Fleet-wide totals kept in Redis, so every API replica reports the same numbers: Z.AI answers
 * received (each one a paid generation) and images stored and verified. Each is an INCR made
 * after the fact it counts is saved, so a crash between the save and the INCR undercounts by one;
 * nothing counts twice, because a job whose answer or result is saved never redoes that step.
 * Calls billed by Z.AI whose answer never arrived (timeouts, broken connections, killed workers)
 * are not counted: Darkroom cannot see them.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';

export interface FleetCounts {
  paid: number;
  stored: number;
}

export async function countPaidGeneration(redis: Redis, keys: RedisKeys): Promise<void> {
  await redis.incr(keys.paidGenerations);
}

export async function countStoredImage(redis: Redis, keys: RedisKeys): Promise<void> {
  await redis.incr(keys.storedImages);
}

export async function readFleetCounts(redis: Redis, keys: RedisKeys): Promise<FleetCounts> {
  const [paid, stored] = await redis.mget(keys.paidGenerations, keys.storedImages);
  return { paid: Number(paid ?? 0), stored: Number(stored ?? 0) };
}
