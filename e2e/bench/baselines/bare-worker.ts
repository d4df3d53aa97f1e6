/**
 * Baselines of benchmarks 3 and 4: a bare BullMQ worker on the same Redis with the same bullmq.
 * Without CALL_URL its processor does nothing (benchmark 3's no-op worker); with it, each job
 * POSTs one image generation to CALL_URL (the simulator) and reads the answer, nothing more
 * (benchmark 4's raw BullMQ holding calls in flight). Processes JOBS jobs already waiting in
 * QUEUE, prints {"event":"done","ms":...} (first poll to last completion) and exits.
 * Env: REDIS_URL, QUEUE_PREFIX, QUEUE, JOBS, CONCURRENCY, CALL_URL, CALL_KEY.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const jobs = Number(process.env.JOBS);
const callUrl = process.env.CALL_URL;
const headers = { authorization: `Bearer ${process.env.CALL_KEY ?? ''}`, 'content-type': 'application/json' };
const body = JSON.stringify({ model: 'cogview-4-250304', prompt: 'a lighthouse at dusk', size: '1024x1024' });

async function call(): Promise<void> {
  if (!callUrl) return;
  const res = await fetch(callUrl, { method: 'POST', headers, body });
  const answer = (await res.json()) as { data?: Array<{ url?: string }> };
  if (!res.ok || !answer.data?.[0]?.url) throw new Error(`call failed: ${res.status}`);
}

const connection = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: null });
const worker = new Worker(process.env.QUEUE ?? 'noop', call, {
  connection,
  prefix: process.env.QUEUE_PREFIX ?? 'bare',
  concurrency: Number(process.env.CONCURRENCY ?? 8),
  autorun: false,
  removeOnComplete: { age: 3600 },
});
await worker.waitUntilReady();
let completed = 0;
const started = Date.now();
const done = new Promise<void>((resolve, reject) => {
  worker.on('completed', () => {
    completed++;
    if (completed === jobs) resolve();
  });
  worker.on('failed', (_job, err) => reject(err));
});
void worker.run();
await done;
console.log(JSON.stringify({ event: 'done', ms: Date.now() - started }));
await worker.close();
await connection.quit();
