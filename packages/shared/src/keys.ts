/**
 * Every Redis key Darkroom writes outside BullMQ's own, in one place. BullMQ's keys are
 * `${prefix}:${queue}:…` for the queue names in queues.ts, which none of these collide with.
 * Each operation touches one key, so a `{prefix}` hash tag is all Redis Cluster needs.
 */
export function redisKeys(prefix: string) {
  return {
    generation: (id: string) => `${prefix}:gen:${id}`,
    deliveries: (id: string) => `${prefix}:gen:${id}:deliveries`,
    apiKey: (keyHash: string) => `${prefix}:apikey:${keyHash}`,
    tenant: (name: string) => `${prefix}:tenant:${name}`,
    /** Sorted set (score: created_at) of the tenant's generations not yet succeeded or failed. */
    openGenerations: (tenant: string) => `${prefix}:tenant:${tenant}:open`,
    openRepairLock: (tenant: string) => `${prefix}:tenant:${tenant}:open-repair`,
    idempotency: (tenant: string, keyHash: string) => `${prefix}:idem:${tenant}:${keyHash}`,
    fleetPause: `${prefix}:fleet:pause`,
    fleetProbeLock: `${prefix}:fleet:probe-lock`,
    fleetCanary: `${prefix}:fleet:canary`,
    zaiCooldown: `${prefix}:zai:cooldown`,
    zaiCapLowered: `${prefix}:zai:cap-lowered`,
    paidGenerations: `${prefix}:count:paid`,
    storedImages: `${prefix}:count:stored`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;
