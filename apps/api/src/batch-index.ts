/**
 * A tenant's batch index (keys.tenantBatches) outlives the batches it lists: an ended batch's hash
 * expires with retention (the worker's finalize), its index entry does not. Readers of the index
 * page through it with readIndexedBatches: an entry whose hash is gone is removed from the index
 * and the page is read again, so every id on a page has its record (the page's cursor is a batch
 * shown) and a page is full whenever older batches remain. Each pass removes at least one entry.
 */
import { BatchStore, type BatchRecord } from '@darkroom/shared';
import type { ApiContext } from './context.ts';

export async function readIndexedBatches<P extends { ids: string[] }>(
  ctx: ApiContext,
  tenant: string,
  readPage: () => Promise<P>,
): Promise<P & { records: BatchRecord[] }> {
  const batches = new BatchStore(ctx.redis, ctx.keys);
  for (;;) {
    const page = await readPage();
    const found = await Promise.all(page.ids.map((id) => batches.get(id)));
    const records = found.filter((b): b is BatchRecord => b !== undefined);
    if (records.length === page.ids.length) return { ...page, records };
    const gone = page.ids.filter((_, i) => found[i] === undefined);
    await ctx.redis.zrem(ctx.keys.tenantBatches(tenant), ...gone);
  }
}
