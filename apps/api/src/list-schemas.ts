/**
 * The documented shapes of the list answers (search-query.ts listBody and the batch lists): the
 * response schemas of GET /v1/images/generations, /admin/v1/generations and /v1/batches[/:id/items].
 */
import { z } from 'zod';
import { SEARCH_MAX_LIMIT, jobViewSchema } from '@darkroom/shared';

/** A page of `item`, newest first; `next_cursor` asks for the next one. */
export const listOf = (item: z.ZodType, id: string) =>
  z
    .object({
      object: z.literal('list'),
      data: z.array(item),
      has_more: z.boolean(),
      next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
    })
    .meta({ id });

/** The query of a generation search, beside its filters. */
export const pagingQuery = z.object({
  cursor: z.string().max(500).optional().describe('A next_cursor from an earlier page'),
  limit: z.number().int().min(1).max(SEARCH_MAX_LIMIT).default(20).optional(),
});

export const generationListSchema = listOf(jobViewSchema, 'GenerationList');

/** What an admin sees of a generation, beside its job view. */
export const adminGenerationSchema = jobViewSchema
  .extend({
    tenant: z.string(),
    failed_stage: z.string().nullable().describe('Where it failed: generate, store, …'),
    paid_generations: z.number().int().min(0).describe('Z.AI answers paid for, over every round'),
    retries: z.number().int().min(0),
  })
  .meta({ id: 'AdminGeneration' });
