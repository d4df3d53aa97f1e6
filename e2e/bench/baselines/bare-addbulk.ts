/**
 * Baseline of benchmark 2: the same 100,000 requests (JSON-parsed from the same lines) added with
 * raw BullMQ Queue.addBulk, 1,000 jobs a call, on the same Redis. No validation, record or index:
 * the floor Darkroom's batch accept is measured against.
 * Env: REDIS_URL, QUEUE_PREFIX, LINES. Prints {"event":"done","seconds":...} and exits.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { batchLine } from '../harness/batch-lines.ts';

const CHUNK = 1000;
const lines = Number(process.env.LINES ?? 100_000);
const redis = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: 2 });
const queue = new Queue('generate', { connection: redis, prefix: process.env.QUEUE_PREFIX ?? 'bare' });
await queue.waitUntilReady();
const text = Array.from({ length: lines }, (_, i) => batchLine(i));
const started = performance.now();
for (let i = 0; i < lines; i += CHUNK) {
  const jobs = [];
  for (let j = i; j < Math.min(i + CHUNK, lines); j++) {
    const id = `gen_${randomUUID()}`;
    jobs.push({ name: 'generate', data: { v: 1, id, tenant: 'bench', request: JSON.parse(text[j] ?? '') as unknown }, opts: { jobId: id } });
  }
  await queue.addBulk(jobs);
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ event: 'done', seconds, jobs: await queue.count() }));
await queue.close();
await redis.quit();
