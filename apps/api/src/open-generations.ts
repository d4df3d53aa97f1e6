/**
 * Repair of a tenant's open index when it is full. The index is exact by construction (admission
 * and final status are single scripts), but a record can be open with nothing to move it: the
 * request that stored it died or failed before its job was enqueued, or an operator removed the
 * job. Such a record would hold one of the tenant's TENANT_MAX_UNFINISHED places forever, so a
 * full tenant's oldest entries are checked, at most once per REPAIR_EVERY_SECONDS per tenant:
 * - an entry whose record is gone or final leaves the index (neither can become open again);
 * - a `queued` record that no worker ever took and that has no generate job was never answered
 *   with a 202 (the API answers only once the job is enqueued), so no client expects it to run
 *   without replaying the request: it fails as `not_enqueued`, with nothing generated or paid.
 *   Enqueueing it would pay for an image whose client was told the request failed and has asked
 *   again;
 * - a `queued` record of a later round with no generate job gets its job (the job id is fixed, so
 *   a race with a late enqueue adds nothing).
 */
import { TERMINAL, enqueueGenerate, generateJobId, type GenerationRecord } from '@darkroom/shared';
import type { ApiContext } from './context.ts';

/** Only entries at least this old are checked: a younger one may be mid-request. */
export const ORPHAN_AGE_MS = 60_000;
const REPAIR_EVERY_SECONDS = 30;
const REPAIR_BATCH = 100;

const NOT_ENQUEUED = {
  code: 'not_enqueued',
  message: 'the request that created this generation did not complete; nothing was generated or paid',
} as const;

type Repair = 'dropped' | 'not_enqueued' | 'requeued';
type RepairCounts = Record<Repair, number>;

/** A record no worker has taken: queued for its first round, with no attempt made. */
function neverTaken(record: GenerationRecord): boolean {
  return record.status === 'queued' && record.regenerations === 0 && record.attempts === 0;
}

async function repairEntry(ctx: ApiContext, index: string, id: string): Promise<Repair | undefined> {
  const record = await ctx.generations.get(id);
  if (!record || TERMINAL.has(record.status)) {
    await ctx.redis.zrem(index, id);
    return 'dropped';
  }
  if (record.status !== 'queued') return undefined;
  const round = record.regenerations;
  if (await ctx.queues.generate.getJob(generateJobId(id, round))) return undefined;
  if (neverTaken(record)) {
    // Leaves the open index in the same step; false if the record finished meanwhile.
    const failed = await ctx.generations.update(
      id,
      { status: 'failed', error: NOT_ENQUEUED, completed_at: Date.now() },
      ctx.config.retention.failedSeconds,
    );
    return failed ? 'not_enqueued' : undefined;
  }
  await enqueueGenerate(ctx.queues, { id, tenant: record.tenant }, round);
  return 'requeued';
}

export async function repairOpenGenerations(ctx: ApiContext, tenant: string): Promise<RepairCounts> {
  const counts: RepairCounts = { dropped: 0, not_enqueued: 0, requeued: 0 };
  if ((await ctx.redis.set(ctx.keys.openRepairLock(tenant), '1', 'EX', REPAIR_EVERY_SECONDS, 'NX')) !== 'OK') return counts;
  const index = ctx.keys.openGenerations(tenant);
  const ids = await ctx.redis.zrangebyscore(index, '-inf', Date.now() - ORPHAN_AGE_MS, 'LIMIT', 0, REPAIR_BATCH);
  for (const id of ids) {
    const repair = await repairEntry(ctx, index, id);
    if (repair) counts[repair]++;
  }
  return counts;
}
