/**
 * Repair of a tenant's open index when it is full. The index is exact by construction (admission
 * and final status are single scripts), but a record can be open with nothing to move it: the API
 * died between storing the record and enqueueing its job, or an operator removed the job. Such a
 * record would hold one of the tenant's TENANT_MAX_UNFINISHED places forever, so a full tenant's
 * oldest entries are checked, at most once per REPAIR_EVERY_SECONDS per tenant:
 * - an entry whose record is gone or final leaves the index (neither can become open again);
 * - a `queued` record with no generate job gets its job (the job id is fixed, so a race with a
 *   late enqueue adds nothing).
 */
import { TERMINAL, enqueueGenerate } from '@darkroom/shared';
import type { ApiContext } from './context.ts';

/** Only entries at least this old are checked: a younger one may be mid-request. */
export const ORPHAN_AGE_MS = 60_000;
const REPAIR_EVERY_SECONDS = 30;
const REPAIR_BATCH = 100;

export async function repairOpenGenerations(ctx: ApiContext, tenant: string): Promise<number> {
  if ((await ctx.redis.set(ctx.keys.openRepairLock(tenant), '1', 'EX', REPAIR_EVERY_SECONDS, 'NX')) !== 'OK') return 0;
  const index = ctx.keys.openGenerations(tenant);
  const ids = await ctx.redis.zrangebyscore(index, '-inf', Date.now() - ORPHAN_AGE_MS, 'LIMIT', 0, REPAIR_BATCH);
  let repaired = 0;
  for (const id of ids) {
    const record = await ctx.generations.get(id);
    if (!record || TERMINAL.has(record.status)) {
      await ctx.redis.zrem(index, id);
      repaired++;
      continue;
    }
    if (record.status !== 'queued') continue;
    const jobId = record.regenerations === 0 ? id : `${id}-r${record.regenerations}`;
    if (await ctx.queues.generate.getJob(jobId)) continue;
    await enqueueGenerate(ctx.queues, { id, tenant }, record.regenerations);
    repaired++;
  }
  return repaired;
}
