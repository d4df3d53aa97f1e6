/**
 * 500 jobs while worker processes are SIGKILLed at random and restarted.
 * Asserted: none lost (every job ends succeeded or failed), every stored object's sha256 equals
 * the image the simulator served, nothing stored twice, and paid honestly bounded: each kill can
 * orphan at most one paid call (one slot per process), either before its answer arrived (paid to
 * a caller that gave up, so paidUndelivered ≤ kills) or after it arrived but before it was saved
 * (a job paid twice among delivered answers). So paid ≤ jobs + kills, and every paid call beyond
 * one per job is one of those two.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startRedisServer } from '@darkroom/local-stack';
import { describe, expect, test } from '../test/fixtures.ts';
import type { ChildWorker } from '../test/stack.ts';
import { waitUntil } from '../test/wait.ts';
import { collectFigures, printFigures } from './figures.ts';

const JOBS = 500;
// One Z.AI call in flight per process, so a kill can orphan at most one paid answer.
const WORKERS = 4;

describe('chaos: workers killed at random', () => {
  test(`${JOBS} jobs, workers SIGKILLed and restarted: none lost, paid ≤ jobs + kills, paid to callers that gave up ≤ kills, bytes intact`, async ({ launch, sim }) => {
    const redis = await startRedisServer({ appendonly: true });
    const stack = await launch({
      worker: false,
      env: { REDIS_URL: redis.url, WORKER_CONCURRENCY: '1', ZAI_MAX_CONCURRENCY: '8', LOG_LEVEL: 'warn' },
    });
    try {
      sim.configure({ latencyMs: { standard: [20, 200], hd: [20, 200] } });

      const workers: ChildWorker[] = Array.from({ length: WORKERS }, () => stack.spawnWorker());
      const ids: string[] = [];
      for (let i = 0; i < JOBS; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(50, JOBS - i) }, (_, k) =>
            stack.generate({ model: 'cogview-4-250304', prompt: `chaos ${i + k}`, size: '512x512' }),
          ),
        );
        for (const res of batch) {
          expect(res.status).toBe(202);
          ids.push(String(res.body.id));
        }
      }

      let kills = 0;
      const terminal = async () => {
        let n = 0;
        for (const id of ids) {
          const status = (await stack.generations.get(id))?.status;
          if (status === 'succeeded' || status === 'failed') n++;
        }
        return n;
      };
      let finished = 0;
      while (finished < JOBS) {
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 900));
        const victim = Math.floor(Math.random() * workers.length);
        if (kills < 12) {
          await workers[victim]!.kill('SIGKILL');
          kills++;
          workers[victim] = stack.spawnWorker();
        }
        finished = await terminal();
        if (kills >= 12) {
          await waitUntil(async () => ((await terminal()) === JOBS ? true : undefined), 'every job to finish', 240_000, 500);
          finished = JOBS;
        }
      }

      const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
      const succeeded = records.filter((r) => r?.status === 'succeeded');
      const figures = await collectFigures(stack, sim, ids, kills);
      const bySha = new Map(sim.issuedImages().map((img) => [img.url, img.sha256]));
      let verified = 0;
      for (const record of succeeded) {
        const obj = await stack.s3.send(new GetObjectCommand({ Bucket: record!.result!.bucket, Key: record!.result!.key }));
        const sha = createHash('sha256').update(Buffer.from(await obj.Body!.transformToByteArray())).digest('hex');
        expect(sha).toBe(record!.result!.sha256);
        expect(bySha.get(record!.zai!.url)).toBe(sha);
        verified++;
      }
      printFigures('kill-workers', figures);
      console.log(`chaos kill-workers: calls=${sim.stats().calls} verified=${verified}`);
      expect(figures.lost).toBe(0);
      expect(figures.failed).toBe(0);
      expect(verified).toBe(JOBS);
      expect(figures.storedTwice).toBe(0);
      expect(figures.paidUndelivered).toBeLessThanOrEqual(kills);
      expect(figures.paid).toBeLessThanOrEqual(JOBS + kills);
      expect(figures.paid - figures.paidUndelivered).toBeGreaterThanOrEqual(JOBS);
    } finally {
      // The stack's connections go first, or they would reconnect forever to a stopped server.
      await stack.close();
      await redis.stop();
    }
  });
});
