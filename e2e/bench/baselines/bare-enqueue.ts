/**
 * Baseline of benchmark 1: a bare Fastify route doing one BullMQ Queue.add on the same Redis, with
 * the same bullmq and ioredis as Darkroom. No auth, validation, record or logging: the floor
 * Darkroom's POST /v1/images/generations is measured against.
 * Env: REDIS_URL, QUEUE_PREFIX, PORT. Prints {"event":"listening","url":...} once ready.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: 2 });
const queue = new Queue('generate', { connection: redis, prefix: process.env.QUEUE_PREFIX ?? 'bare' });
const app = Fastify({ logger: false });
app.post('/v1/images/generations', async (_request, reply) => {
  const id = `gen_${randomUUID()}`;
  await queue.add('generate', { v: 1, id, tenant: 'bench' }, { jobId: id });
  return reply.status(202).send({ id, status: 'queued' });
});
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => queue.close())
    .then(() => redis.quit())
    .finally(() => process.exit(0));
});
console.log(JSON.stringify({ event: 'listening', url }));
