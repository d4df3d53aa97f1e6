/**
 * The 100,000 requests of benchmark 2, as JSONL: each a full generation request with its own
 * custom_id, prompt and metadata, so neither side can share one parsed object across items.
 */
export const BATCH_LINES = 100_000;

export function batchLine(i: number): string {
  return JSON.stringify({
    custom_id: `sku-${String(i).padStart(6, '0')}`,
    model: 'cogview-4-250304',
    prompt: `product photo of catalog item ${i}: a ceramic mug on a white table, soft daylight, 45 degree angle`,
    size: '1024x1024',
    metadata: { sku: `SKU${i}`, line: i },
  });
}

/** The upload's bytes: `count` lines, each ending in \n. */
export function batchJsonl(count = BATCH_LINES): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(batchLine(i));
  return Buffer.from(`${parts.join('\n')}\n`);
}
