/**
 * Every Redis key Darkroom writes outside BullMQ's own, in one place. BullMQ's keys are
 * `${prefix}:${queue}:…` for the queue names in queues.ts, which none of these collide with.
 * An operation touches one key, or several under the same prefix (the adaptive limits' scripts,
 * which also write BullMQ's generate meta key), so a `{prefix}` hash tag is all Redis Cluster needs.
 */
export function redisKeys(prefix: string) {
  return {
    generation: (id: string) => `${prefix}:gen:${id}`,
    deliveries: (id: string) => `${prefix}:gen:${id}:deliveries`,
    apiKey: (keyHash: string) => `${prefix}:apikey:${keyHash}`,
    /** Hash: webhook secrets (current, previous and its end of grace), created_at, rate_per_second. */
    tenant: (name: string) => `${prefix}:tenant:${name}`,
    /** Set of every tenant name. */
    tenants: `${prefix}:tenants`,
    /** Hash of the tenant's keys: field = key id, value = JSON metadata (prefix, created_at, hash). */
    tenantKeys: (name: string) => `${prefix}:tenant:${name}:keys`,
    /** Set once the keys issued before key metadata existed have been given some. */
    tenantsBackfilled: `${prefix}:tenants:backfilled`,
    /** Requests of one tenant in one second (fixed window), for its rate limit. */
    rateWindow: (name: string, second: number) => `${prefix}:tenant:${name}:rate:${second}`,
    /** Sorted set (score: created_at) of the tenant's generations not yet succeeded or failed. */
    openGenerations: (tenant: string) => `${prefix}:tenant:${tenant}:open`,
    openRepairLock: (tenant: string) => `${prefix}:tenant:${tenant}:open-repair`,
    /** Sorted sets (score: created_at) of every generation, kept in step with each status change. */
    tenantGenerations: (tenant: string) => `${prefix}:tenant:${tenant}:gens`,
    tenantStatus: (tenant: string, status: string) => `${prefix}:tenant:${tenant}:status:${status}`,
    generations: `${prefix}:gens`,
    statusIndex: (status: string) => `${prefix}:status:${status}`,
    /** Held by the one worker that trims the indexes (fleet-wide and every tenant's) this minute. */
    indexTrimLock: `${prefix}:gens-trim-lock`,
    /** Per-tenant limits (hash: max_waiting, daily_images) and the day's accepted images. */
    tenantLimits: (tenant: string) => `${prefix}:tenant:${tenant}:limits`,
    tenantDailyImages: (tenant: string, day: string) => `${prefix}:tenant:${tenant}:images:${day}`,
    /** A batch (hash), its generation ids in input order (list), and a tenant's batches (zset by created_at). */
    batch: (id: string) => `${prefix}:batch:${id}`,
    batchItems: (id: string) => `${prefix}:batch:${id}:items`,
    tenantBatches: (tenant: string) => `${prefix}:tenant:${tenant}:batches`,
    /** Batches being uploaded (`validating`), zset by created_at: the upkeep discards abandoned ones (batch-discard.ts). */
    validatingBatches: `${prefix}:batch-validating`,
    validatingSweepLock: `${prefix}:batch-validating:lock`,
    /** Batch items waiting for the fair dispatcher (list per tenant), and the ring of tenants that have some. */
    tenantPending: (tenant: string) => `${prefix}:tenant:${tenant}:pending`,
    dispatchRing: `${prefix}:dispatch:ring`,
    dispatchInflight: `${prefix}:dispatch:inflight`,
    dispatchLock: `${prefix}:dispatch:lock`,
    /** Canceled batches whose queued items are still being canceled (zset by canceling_at): batch-cancel.ts. */
    batchesCanceling: `${prefix}:batch-canceling`,
    /** Batches whose every item has ended and that still need their results file and event (zset by time). */
    batchesToFinalize: `${prefix}:batch-finalize`,
    /** Admin bulk retries: one hash each, the ids snapshotted by runners before the paged walk (list, read only), and all of them by creation (zset). */
    retry: (id: string) => `${prefix}:retry:${id}`,
    retryIds: (id: string) => `${prefix}:retry:${id}:ids`,
    retries: `${prefix}:retries`,
    idempotency: (tenant: string, keyHash: string) => `${prefix}:idem:${tenant}:${keyHash}`,
    fleetPause: `${prefix}:fleet:pause`,
    fleetProbeLock: `${prefix}:fleet:probe-lock`,
    fleetCanary: `${prefix}:fleet:canary`,
    /** Set while the fleet drains: every worker stops taking jobs and finishes those it runs. */
    fleetDrain: `${prefix}:fleet:drain`,
    /** Capped list of admin actions, newest first. */
    adminAudit: `${prefix}:admin:audit`,
    zaiCooldown: `${prefix}:zai:cooldown`,
    /** The adaptive limits (adaptive-limits.ts): one hash, plus the logs below. */
    zaiLimits: `${prefix}:zai:limits`,
    /** Calls in flight to Z.AI, fleet-wide: member = call id, score = lease deadline. */
    zaiCalls: `${prefix}:zai:calls`,
    /** Call starts of the last second: member = call id, score = start. */
    zaiStarts: `${prefix}:zai:starts`,
    /** 1302 answers of the last minute, and 1303/1305/429 ones: member = call id, score = time. */
    zaiRefusals: `${prefix}:zai:refusals`,
    zaiThrottles: `${prefix}:zai:throttles`,
    paidGenerations: `${prefix}:count:paid`,
    storedImages: `${prefix}:count:stored`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;
