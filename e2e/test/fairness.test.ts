/**
 * Fair share of the Z.AI capacity (docs/fairness.md), at Z.AI concurrency 2: single generations
 * go before every batch item (BullMQ's wait list before its prioritized set), and two tenants'
 * batches are dispatched round-robin, not first come, first served. Measured on the records'
 * completed_at, so the assertions do not depend on when the test happens to look.
 */
import { getBatch, submitBatch, uniquePrompt, waitForBatch } from './batch-client.ts';
import { describe, expect, test } from './fixtures.ts';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const CAP = '2';
const env = { ZAI_MAX_CONCURRENCY: CAP, WORKER_CONCURRENCY: '4' };

async function completedAt(stack: Stack, ids: string[]): Promise<number[]> {
  const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
  return records.flatMap((r) => (r?.completed_at === undefined ? [] : [r.completed_at]));
}

async function ended(stack: Stack, batchId: string): Promise<number> {
  const { succeeded, failed, canceled } = (await getBatch(stack, batchId)).request_counts;
  return succeeded + failed + canceled;
}

describe('fairness', () => {
  test("tenant B's 10 single jobs all finish before tenant A's 300-item batch is a fifth done", async ({ launch, sim }) => {
    const stack = await launch({ env });
    sim.configure({ maxConcurrency: 2, latencyMs: { standard: [30, 50], hd: [30, 50] } });
    const a = await submitBatch(stack, Array.from({ length: 300 }, (_, i) => ({ prompt: uniquePrompt('A', i) })));
    await waitUntil(async () => ((await ended(stack, a.id)) >= 5 ? true : undefined), "A's batch to be under way");

    const b = await stack.newTenant();
    const singles = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stack.generate({ model: 'cogview-4-250304', prompt: uniquePrompt('B', i), size: '512x512' }, { authorization: `Bearer ${b.api_key}` }),
      ),
    );
    const bIds = singles.map((res) => {
      expect(res.status).toBe(202);
      return String(res.body.id);
    });
    await waitUntil(async () => ((await completedAt(stack, bIds)).length === 10 ? true : undefined), "B's jobs to finish", 60_000);
    const bDone = Math.max(...(await completedAt(stack, bIds)));
    const aBefore = (await completedAt(stack, a.ids)).filter((t) => t <= bDone).length;
    expect(aBefore).toBeLessThan(60);

    const batch = await waitForBatch(stack, a.id, ['completed'], 120_000);
    expect(batch.request_counts.succeeded).toBe(300);
  }, 180_000);

  test("two tenants' batches share Z.AI round-robin: B's 30 items all finish before A's 300 are a quarter done", async ({ launch, sim }) => {
    const stack = await launch({ env });
    sim.configure({ maxConcurrency: 2, latencyMs: { standard: [30, 50], hd: [30, 50] } });
    const a = await submitBatch(stack, Array.from({ length: 300 }, (_, i) => ({ prompt: uniquePrompt('A', i) })));
    await waitUntil(async () => ((await ended(stack, a.id)) >= 5 ? true : undefined), "A's batch to be under way");

    const other = await stack.newTenant();
    const b = await submitBatch(stack, Array.from({ length: 30 }, (_, i) => ({ prompt: uniquePrompt('B', i) })), { apiKey: other.api_key });
    const bBatch = await waitForBatch(stack, b.id, ['completed'], 60_000, other.api_key);
    expect(bBatch.request_counts.succeeded).toBe(30);
    const bDone = Math.max(...(await completedAt(stack, b.ids)));
    const aBefore = (await completedAt(stack, a.ids)).filter((t) => t <= bDone).length;
    expect(aBefore).toBeLessThan(75);

    const aBatch = await waitForBatch(stack, a.id, ['completed'], 120_000);
    expect(aBatch.request_counts.succeeded).toBe(300);
  }, 180_000);
});
