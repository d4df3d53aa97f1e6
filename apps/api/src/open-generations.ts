/**
 * Repair of a tenant's open index when it is full. The index is exact by construction (admission
 * and final status are single scripts), but a record can be open with nothing to move it: the
 * request that stored it died or failed before its job was enqueued, an operator removed a job, or
 * BullMQ dropped a failed job whose record was never settled. Such a record would hold one of the
 * tenant's TENANT_MAX_UNFINISHED places forever, so a full tenant's oldest entries (up to
 * REPAIR_MAX_ENTRIES, past any number that are legitimately open) are checked, at most once per
 * REPAIR_EVERY_SECONDS per tenant:
 * - an entry whose record is gone or final leaves the index (neither can become open again);
 * - a `queued` record that no worker ever took and that has no generate job was never answered
 *   with a 202 (the API answers only once the job is enqueued), so no client expects it to run
 *   without replaying the request: it fails as `not_enqueued`, with nothing generated or paid.
 *   Enqueueing it would pay for an image whose client was told the request failed and has asked
 *   again. Its `image.generation.failed` event is queued like any other failure's: a client whose
 *   request timed out rather than failed may still be waiting for it. An API that dies between
 *   the failure and that enqueue loses the event (not the failure): the record has left the open
 *   index, and no job re-runs its repair;
 * - a `queued` batch item whose batch exists is left alone: it waits in the tenant's pending list
 *   for the dispatcher, with no job until then (a batch whose upload died, still `validating`, is
 *   discarded by the worker's upkeep: batch-discard.ts); one whose batch is gone is deleted;
 * - any other open record (queued again by a worker, generating, storing) whose stage job is gone
 *   gets that job again: every stage is safe to re-run (generate first checks the saved answer and
 *   `calling_until`), and job ids are fixed, so a race with a late enqueue adds nothing.
 */
import { TERMINAL, announce, enqueueGenerate, enqueueStore, generateJobId, storeJobId, type GenerationRecord } from '@darkroom/shared';
import type { ApiContext } from './context.ts';

/** Only entries at least this old are checked: a younger one may be mid-request. */
export const ORPHAN_AGE_MS = 60_000;
const REPAIR_EVERY_SECONDS = 30;
/** Entries checked at once. */
const REPAIR_PAGE = 100;
/** Entries checked per run, oldest first; bounds the work of one refused request. */
const REPAIR_MAX_ENTRIES = 2_000;

const NOT_ENQUEUED = {
  code: 'not_enqueued',
  message: 'the request that created this generation did not complete; nothing was generated or paid',
} as const;

type Repair = 'dropped' | 'not_enqueued' | 'requeued';
type RepairCounts = Record<Repair, number>;

/** A record no worker has taken: queued for its first round, with no attempt made. */
function neverTaken(record: GenerationRecord): boolean {
  return record.status === 'queued' && record.regenerations === 0 && record.attempts === 0 && (record.retries ?? 0) === 0;
}

async function repairEntry(ctx: ApiContext, index: string, id: string): Promise<Repair | undefined> {
  const record = await ctx.generations.get(id);
  if (!record || TERMINAL.has(record.status)) {
    await ctx.redis.zrem(index, id);
    return 'dropped';
  }
  const round = record.regenerations;
  const retry = record.retries ?? 0;
  const storing = record.status === 'storing';
  const job = storing ? await ctx.queues.store.getJob(storeJobId(id, round, retry)) : await ctx.queues.generate.getJob(generateJobId(id, round, retry));
  if (job) return undefined;
  // A batch item waits for the fair dispatcher with no job (its tenant's pending list or the
  // dispatcher's in-flight hash hold it): it was accepted, and the dispatcher adds its job. One of a
  // batch still `validating` is the worker's upkeep's to discard (batch-discard.ts); one whose batch
  // is gone was never accepted.
  if (record.batch_id && neverTaken(record)) {
    if (await ctx.redis.exists(ctx.keys.batch(record.batch_id))) return undefined;
    await ctx.generations.deleteUnaccepted(record.tenant, [id]);
    return 'dropped';
  }
  if (neverTaken(record)) {
    // Leaves the open index in the same step; false if the record finished meanwhile.
    const failed = await ctx.generations.update(
      id,
      { status: 'failed', error: NOT_ENQUEUED, completed_at: Date.now(), failed_stage: 'admit' },
      ctx.config.retention.failedSeconds,
    );
    if (!failed) return undefined;
    const settled = await ctx.generations.get(id);
    if (settled) await announce(ctx, settled);
    return 'not_enqueued';
  }
  if (storing) await enqueueStore(ctx.queues, { id, tenant: record.tenant }, round, retry);
  else await enqueueGenerate(ctx.queues, { id, tenant: record.tenant }, round, retry);
  return 'requeued';
}

export async function repairOpenGenerations(ctx: ApiContext, tenant: string): Promise<RepairCounts> {
  const counts: RepairCounts = { dropped: 0, not_enqueued: 0, requeued: 0 };
  if ((await ctx.redis.set(ctx.keys.openRepairLock(tenant), '1', 'EX', REPAIR_EVERY_SECONDS, 'NX')) !== 'OK') return counts;
  const index = ctx.keys.openGenerations(tenant);
  // Read once: repairs remove entries, which would shift offsets between pages.
  const ids = await ctx.redis.zrangebyscore(index, '-inf', Date.now() - ORPHAN_AGE_MS, 'LIMIT', 0, REPAIR_MAX_ENTRIES);
  for (let at = 0; at < ids.length; at += REPAIR_PAGE) {
    const done = await Promise.all(ids.slice(at, at + REPAIR_PAGE).map((id) => repairEntry(ctx, index, id)));
    for (const repair of done) if (repair) counts[repair]++;
  }
  return counts;
}
