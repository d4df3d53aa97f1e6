/**
 * The shape most benchmarks share: N generations accepted by the real API while no worker runs,
 * then one worker process started; timed from its 'worker ready' line to the N-th webhook.
 */
import { Queue } from 'bullmq';
import { PREFIX, createTenant, generationBody, spawnWorker, startApi, startReceiver, submit, type Receiver } from './darkroom.ts';
import type { Child } from './processes.ts';
import type { Services } from './services.ts';

export interface Accepted {
  ids: string[];
  receiver: Receiver;
}

/** Cleans, then accepts `count` generations through the API (stopped again afterwards). */
export async function accept(services: Services, count: number, size = '512x512'): Promise<Accepted> {
  await services.clean();
  const receiver = await startReceiver();
  const { apiKey } = await createTenant(services);
  const api = await startApi(services, { LOG_LEVEL: 'warn' });
  try {
    const ids = await submit(api.url, apiKey, generationBody(receiver.url, size), count);
    return { ids, receiver };
  } finally {
    await api.child.stop();
  }
}

export interface Drained {
  ms: number;
  peakRss: number;
  worker: Child;
}

/** Starts a worker and waits for `count` webhooks; the worker is left running for the caller to stop. */
export async function drain(services: Services, accepted: Accepted, env: Record<string, string>, timeoutMs: number): Promise<Drained> {
  const worker = spawnWorker(services, env);
  await worker.ready;
  const started = Date.now();
  const last = await accepted.receiver.waitFor(accepted.ids.length, timeoutMs);
  return { ms: last - started, peakRss: await worker.peakRss(), worker };
}

/** Resolves once `count` jobs of `queue` have completed, polling BullMQ's counts. */
export async function completed(services: Services, queue: string, count: number, timeoutMs: number): Promise<number> {
  const q = new Queue(queue, { connection: services.redis, prefix: PREFIX });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const counts = await q.getJobCounts('completed');
      if ((counts.completed ?? 0) >= count) return Date.now();
      if (Date.now() > deadline) throw new Error(`${queue}: ${counts.completed ?? 0} of ${count} completed within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await q.close();
  }
}

export async function setPaused(services: Services, queue: string, paused: boolean): Promise<void> {
  const q = new Queue(queue, { connection: services.redis, prefix: PREFIX });
  if (paused) await q.pause();
  else await q.resume();
  await q.close();
}
