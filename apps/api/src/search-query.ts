/**
 * The query of a generation search (tenant and admin routes): the filters of the given schema,
 * plus `cursor` (a next_cursor from before) and `limit` (1..100, default 20).
 */
import { z } from 'zod';
import { SEARCH_MAX_LIMIT, decodeCursor, toJobView, type GenerationRecord, type ImageLinker, type SearchPage } from '@darkroom/shared';
import { ApiError, validationError } from './errors.ts';

const paging = z.strictObject({
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(SEARCH_MAX_LIMIT).default(20),
});

export function parseSearchQuery<S extends z.ZodObject>(schema: S, query: unknown) {
  const raw = (query ?? {}) as Record<string, unknown>;
  const { cursor, limit, ...rest } = raw;
  const page = paging.safeParse({ cursor, limit });
  if (!page.success) throw validationError(page.error.issues, 'query');
  const filter = schema.safeParse(rest);
  if (!filter.success) throw validationError(filter.error.issues, 'query');
  const decoded = page.data.cursor === undefined ? undefined : decodeCursor(page.data.cursor);
  if (page.data.cursor !== undefined && !decoded) {
    throw new ApiError('validation_error', 'invalid request: query.cursor is not a cursor this API gave', [{ field: 'query.cursor', message: 'is not a cursor this API gave' }]);
  }
  return { filter: filter.data, cursor: decoded, limit: page.data.limit };
}

/** A page of the list: job views (the same object as GET …/:id), plus `extra` per record. */
export async function listBody(page: SearchPage, links: ImageLinker, extra: (r: GenerationRecord) => Record<string, unknown> = () => ({})) {
  const data = await Promise.all(
    page.items.map(async (r) => ({ ...toJobView(r, r.result ? await links(r.result.bucket, r.result.key) : undefined), ...extra(r) })),
  );
  return { object: 'list' as const, data, next_cursor: page.next_cursor, has_more: page.next_cursor !== null };
}
