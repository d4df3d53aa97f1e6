/**
 * Kill every worker process at once and start as many again, measuring how long the backlog
 * takes to move after the first new worker is ready. Jobs that were active at the kill hold the
 * generate queue's global concurrency until their locks lapse and a stalled-job check returns them.
 */
import type { Simulator } from '@darkroom/zai-sim';
import type { ChildWorker, Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

export interface Restart {
  workers: ChildWorker[];
  /** When the first new worker logged `worker ready` (its own pino timestamp). */
  readyAt: number;
  /** Arrival at Z.AI of the first call made after every old worker had died. */
  resumedAt: number;
  recoveryMs: number;
}

/** The pino `time` of the worker's `worker ready` line, once it has logged it. */
function readyTime(worker: ChildWorker): number | undefined {
  for (const line of worker.output().split('\n')) {
    if (!line.includes('"msg":"worker ready"')) continue;
    const time = (JSON.parse(line) as { time?: unknown }).time;
    if (typeof time === 'number') return time;
  }
  return undefined;
}

export async function killAllAndRestart(stack: Stack, sim: Simulator, workers: readonly ChildWorker[], timeoutMs = 60_000): Promise<Restart> {
  await Promise.all(workers.map((worker) => worker.kill('SIGKILL')));
  const deadAt = Date.now();
  const fresh = workers.map(() => stack.spawnWorker({ LOG_LEVEL: 'info' }));
  const readyAt = await waitUntil(
    () => {
      const times = fresh.map(readyTime).filter((t): t is number => t !== undefined);
      return times.length > 0 ? Math.min(...times) : undefined;
    },
    'a restarted worker to be ready',
    timeoutMs,
  );
  const resumedAt = await waitUntil(() => sim.callTimes().find((t) => t > deadAt), 'the backlog to move again', timeoutMs);
  // A worker takes jobs just before it logs `worker ready`, so its first call may precede the line by a few ms.
  return { workers: fresh, readyAt, resumedAt, recoveryMs: Math.max(0, resumedAt - readyAt) };
}
