/**
 * One page of a batch's items, in input order, read from its item list (keys.batchItems): never a
 * SCAN. `cursor` is an item index; without a status filter a page is the next `pageSize` items.
 * With one, at most `maxExamined` statuses are read per request (one HMGET each, pipelined), so a
 * page may hold fewer matches and still a next cursor.
 */
import type { GenerationRecord, GenerationStore, ImageLinker, RedisKeys, Status } from '@darkroom/shared';
import type { Redis } from 'ioredis';

export const ITEMS_PER_PAGE = 200;
const MAX_EXAMINED = 2_000;

export interface ItemRow {
  index: number;
  id: string;
  /** Undefined when the record has expired (retention) while the batch is still listed. */
  record: GenerationRecord | undefined;
  /** The stored image's link, for succeeded items. */
  imageUrl: string | undefined;
}

export interface ItemPage {
  rows: ItemRow[];
  cursor: number;
  /** Where the next page starts; null at the end of the list. */
  next: number | null;
}

interface Deps {
  redis: Redis;
  keys: RedisKeys;
  generations: GenerationStore;
  links: ImageLinker;
}

async function indexesWithStatus(deps: Deps, batchId: string, cursor: number, status: Status) {
  const ids = await deps.redis.lrange(deps.keys.batchItems(batchId), cursor, cursor + MAX_EXAMINED - 1);
  const pipeline = deps.redis.pipeline();
  for (const id of ids) pipeline.hget(deps.keys.generation(id), 'status');
  const statuses = (await pipeline.exec()) ?? [];
  const found: { index: number; id: string }[] = [];
  let examined = 0;
  for (const [i, id] of ids.entries()) {
    if (found.length === ITEMS_PER_PAGE) break;
    examined = i + 1;
    if (statuses[i]?.[1] === status) found.push({ index: cursor + i, id });
  }
  const end = ids.length < MAX_EXAMINED && examined === ids.length;
  return { found, next: end ? null : cursor + examined };
}

export async function loadItemPage(deps: Deps, batchId: string, total: number, opts: { cursor: number; status?: Status | undefined }): Promise<ItemPage> {
  let listed: { index: number; id: string }[];
  let next: number | null;
  if (opts.status) {
    ({ found: listed, next } = await indexesWithStatus(deps, batchId, opts.cursor, opts.status));
  } else {
    const ids = await deps.redis.lrange(deps.keys.batchItems(batchId), opts.cursor, opts.cursor + ITEMS_PER_PAGE - 1);
    listed = ids.map((id, i) => ({ index: opts.cursor + i, id }));
    next = opts.cursor + ITEMS_PER_PAGE < total ? opts.cursor + ITEMS_PER_PAGE : null;
  }
  const rows = await Promise.all(
    listed.map(async ({ index, id }): Promise<ItemRow> => {
      const record = await deps.generations.get(id);
      const stored = record?.status === 'succeeded' ? record.result : undefined;
      const imageUrl = stored ? await deps.links(stored.bucket, stored.key) : undefined;
      return { index, id, record, imageUrl };
    }),
  );
  return { rows, cursor: opts.cursor, next };
}
