/**
 * The figures every chaos scenario prints and docs/failures.md records. `paid` is Z.AI's bill as
 * the simulator keeps it (every generation, answered or not); `stored` is Darkroom's own counter
 * of verified copies. Duplicates are objects or jobs stored more than once, and jobs paid twice
 * among the answers that reached Darkroom (so not counting calls billed to a caller that gave up).
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { readFleetCounts, redisKeys } from '@darkroom/shared';
import type { Simulator } from '@darkroom/zai-sim';
import type { Stack } from '../test/stack.ts';
import { waitUntil } from '../test/wait.ts';

export interface ChaosFigures {
  jobs: number;
  kills: number;
  succeeded: number;
  failed: number;
  lost: number;
  paid: number;
  paidUndelivered: number;
  stored: number;
  /** Jobs whose verified copy was counted more than once, plus objects beyond one per job. */
  storedTwice: number;
  /** Jobs with more than one paid answer delivered (prompts are unique per job). */
  paidTwice: number;
  duplicates: number;
  paidPerStored: number;
  recoverP99Ms?: number;
}

async function countObjects(stack: Stack): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await stack.s3.send(
      new ListObjectsV2Command({ Bucket: stack.config.s3.bucket, Prefix: `images/${stack.tenant}/`, ContinuationToken: token }),
    );
    count += page.KeyCount ?? 0;
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return count;
}

/** Reads the figures once every Z.AI call has settled. `ids` are every acknowledged job. */
export async function collectFigures(stack: Stack, sim: Simulator, ids: readonly string[], kills: number): Promise<ChaosFigures> {
  await waitUntil(() => sim.stats().inFlight === 0 || undefined, 'every Z.AI call to settle', 30_000);
  const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
  const succeeded = records.filter((r) => r?.status === 'succeeded').length;
  const failed = records.filter((r) => r?.status === 'failed').length;
  const stats = sim.stats();
  const { stored } = await readFleetCounts(stack.redis, redisKeys(stack.prefix));
  const objects = await countObjects(stack);
  const delivered = new Map<string, number>();
  for (const image of sim.issuedImages()) {
    if (image.delivered) delivered.set(image.prompt, (delivered.get(image.prompt) ?? 0) + 1);
  }
  const paidTwice = [...delivered.values()].filter((n) => n > 1).length;
  const storedTwice = Math.max(0, stored - succeeded) + Math.max(0, objects - succeeded);
  return {
    jobs: ids.length,
    kills,
    succeeded,
    failed,
    lost: ids.length - succeeded - failed,
    paid: stats.paid,
    paidUndelivered: stats.paidUndelivered,
    stored,
    storedTwice,
    paidTwice,
    duplicates: storedTwice + paidTwice,
    paidPerStored: stored === 0 ? Number.NaN : stats.paid / stored,
  };
}

export function printFigures(scenario: string, f: ChaosFigures): void {
  const recover = f.recoverP99Ms === undefined ? '' : ` recover_p99_ms=${f.recoverP99Ms}`;
  console.log(
    `chaos figures ${scenario}: jobs=${f.jobs} kills=${f.kills} paid=${f.paid} paid_undelivered=${f.paidUndelivered} ` +
      `stored=${f.stored} lost=${f.lost} duplicates=${f.duplicates} (stored_twice=${f.storedTwice} paid_twice=${f.paidTwice}) ` +
      `paid_per_stored=${f.paidPerStored.toFixed(3)}${recover}`,
  );
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
