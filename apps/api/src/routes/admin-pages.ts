/**
 * The admin's batch pages (server-rendered HTML, for a browser): GET /admin/batches/:id and
 * GET /admin/tenants/:tenant/batches. They only read Redis (the batch hash, its item list and the
 * item records, the tenant's batch index) and sign image links; the retry button calls the bulk
 * retry API from the browser. `guard` is the admin hook the caller chooses for browser pages.
 */
import type { FastifyInstance, RouteShorthandOptions } from 'fastify';
import { z } from 'zod';
import { BATCH_ID, BatchStore, STATUSES, TENANT_NAME, toBatchView, type BatchView } from '@darkroom/shared';
import { readIndexedBatches } from '../batch-index.ts';
import type { ApiContext } from '../context.ts';
import { loadItemPage } from '../pages/batch-items.ts';
import { batchPage } from '../pages/batch-page.ts';
import { messagePage, sendPage } from '../pages/layout.ts';
import { tenantBatchesPage } from '../pages/tenant-batches-page.ts';

export type AdminGuard = NonNullable<RouteShorthandOptions['onRequest']>;

const BATCHES_PER_PAGE = 50;

const itemQuery = z.object({
  cursor: z.coerce.number().int().nonnegative().max(1e9).default(0),
  status: z.enum(STATUSES).optional(),
});
const batchCursor = /^(\d{1,16})\.(batch_[0-9a-f]{32})$/;
const tenantQuery = z.object({ cursor: z.string().regex(batchCursor).optional() });

/**
 * Ids of the tenant's batches, newest first, after `cursor` (`<created_at>.<id>` of the last one
 * shown). Batches created meanwhile sort above it, so pages never repeat or skip one; ties on
 * created_at are ordered by id, as ZREVRANGEBYSCORE orders them.
 */
async function tenantBatchIds(ctx: ApiContext, tenant: string, cursor: string | undefined) {
  const key = ctx.keys.tenantBatches(tenant);
  const m = cursor ? batchCursor.exec(cursor) : null;
  const [score, after] = m ? [m[1] ?? '', m[2] ?? ''] : ['+inf', ''];
  const ties = m ? await ctx.redis.zcount(key, score, score) : 0;
  const flat = await ctx.redis.zrevrangebyscore(key, score, '-inf', 'WITHSCORES', 'LIMIT', 0, BATCHES_PER_PAGE + 1 + ties);
  const entries: { id: string; score: string }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [id, s] = [flat[i] ?? '', flat[i + 1] ?? ''];
    if (m && s === score && id >= after) continue;
    entries.push({ id, score: s });
  }
  const page = entries.slice(0, BATCHES_PER_PAGE);
  const last = page.at(-1);
  return { ids: page.map((e) => e.id), next: entries.length > BATCHES_PER_PAGE && last ? `${last.score}.${last.id}` : null };
}

export function adminPageRoutes(app: FastifyInstance, ctx: ApiContext, guard: AdminGuard): void {
  const batches = new BatchStore(ctx.redis, ctx.keys);

  app.get<{ Params: { id: string } }>('/admin/batches/:id', { onRequest: guard }, async (request, reply) => {
    const query = itemQuery.safeParse(request.query);
    if (!query.success) return sendPage(reply, messagePage('Bad request', 'cursor must be an item index and status one of ' + STATUSES.join(', ')), 400);
    const { id } = request.params;
    const batch = BATCH_ID.test(id) ? await batches.get(id) : undefined;
    if (!batch) return sendPage(reply, messagePage('No such batch', `no batch ${id}`), 404);
    const now = Date.now();
    const resultsUrl = batch.results_key ? await ctx.links(batch.results_bucket ?? ctx.bucket, batch.results_key) : undefined;
    const view = toBatchView(batch, { resultsUrl, now });
    const items = await loadItemPage(ctx, batch.id, batch.total, query.data);
    return sendPage(reply, batchPage({ batch, view, items, status: query.data.status, resultsUrl, now }));
  });

  app.get<{ Params: { tenant: string } }>('/admin/tenants/:tenant/batches', { onRequest: guard }, async (request, reply) => {
    const query = tenantQuery.safeParse(request.query);
    if (!query.success) return sendPage(reply, messagePage('Bad request', 'cursor must be a "next" link of this page'), 400);
    const { tenant } = request.params;
    if (!TENANT_NAME.test(tenant)) return sendPage(reply, messagePage('No such tenant', `no tenant ${tenant}`), 404);
    const { records, next } = await readIndexedBatches(ctx, tenant, () => tenantBatchIds(ctx, tenant, query.data.cursor));
    const now = Date.now();
    const views: BatchView[] = records.map((b) => toBatchView(b, { now }));
    return sendPage(reply, tenantBatchesPage({ tenant, batches: views, next, first: query.data.cursor === undefined }));
  });
}
