/**
 * How well a run used the account's concurrency limit, computed from the simulator's call log:
 *
 * - wall time: from the first call's arrival at the simulator to the end of the last admitted one;
 * - busy slot-time: the sum, over admitted calls, of the time each held a slot (admission to end);
 * - utilisation = busy slot-time / (limit × wall time): 1.0 means every slot was busy all the time;
 * - refusals: calls answered 1302. A call is refused exactly when it arrives with the limit's worth
 *   of calls in flight, so this counts the moments our calls together went over the limit.
 */
import type { CallRecord } from '@darkroom/zai-sim';
import type { Stack } from './stack.ts';

export interface SlotUse {
  calls: number;
  admitted: number;
  wallMs: number;
  busyMs: number;
  utilisation: number;
  refusals: number;
}

export function slotUse(calls: readonly CallRecord[], limit: number): SlotUse {
  const admitted = calls.filter((c) => c.admittedAt !== undefined && c.endedAt !== undefined);
  const start = Math.min(...calls.map((c) => c.arrivedAt));
  const end = Math.max(...admitted.map((c) => c.endedAt!));
  const busyMs = admitted.reduce((sum, c) => sum + (c.endedAt! - c.admittedAt!), 0);
  const wallMs = end - start;
  return {
    calls: calls.length,
    admitted: admitted.length,
    wallMs,
    busyMs,
    utilisation: busyMs / (limit * wallMs),
    refusals: calls.filter((c) => c.outcome === '429:1302').length,
  };
}

/** Queues `count` small generations through the API and returns their ids. */
export async function submit(stack: Stack, count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await stack.generate({ model: 'cogview-4-250304', prompt: `${label} ${i}`, size: '512x512' });
    if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${JSON.stringify(res.body)}`);
    ids.push(String(res.body.id));
  }
  return ids;
}

export async function allSucceeded(stack: Stack, ids: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (const id of ids) {
    const done = await stack.waitForStatus(id, ['succeeded', 'failed'], Math.max(1, deadline - Date.now()));
    if (done.status !== 'succeeded') return false;
  }
  return true;
}
