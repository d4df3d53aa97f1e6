import { newGenerationId, type GenerationRecord } from '../src/generation-record.ts';

/** A new queued generation of tenant `acme`, created now unless `over` says when, with `over` applied. */
export function queuedRecord(over: Partial<GenerationRecord> = {}): GenerationRecord {
  const created_at = over.created_at ?? Date.now();
  return {
    id: newGenerationId(),
    tenant: 'acme',
    status: 'queued',
    request: { model: 'cogview-4-250304', prompt: 'p', quality: 'standard', size: '1024x1024' },
    created_at,
    updated_at: created_at,
    attempts: 0,
    paid_generations: 0,
    regenerations: 0,
    ...over,
  };
}
