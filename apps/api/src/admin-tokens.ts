/**
 * Which admin token a bearer is, in constant time: both sides are hashed to 32 bytes and compared
 * with timingSafeEqual against every configured token, without stopping at a match, so neither
 * the length of a token nor which one matched shows in the timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AdminToken } from '@darkroom/shared';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The name of the admin token `given`, or undefined. Checks every token, whatever matches. */
export function adminTokenName(tokens: readonly AdminToken[], given: string | undefined): string | undefined {
  if (given === undefined) return undefined;
  const mine = digest(given);
  let name: string | undefined;
  for (const token of tokens) {
    const same = timingSafeEqual(mine, digest(token.token));
    if (same && name === undefined) name = token.name;
  }
  return name;
}

