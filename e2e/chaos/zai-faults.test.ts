/**
 * The simulator answering 20% 429, 10% 500, 5% timeouts and some malformed JSON: every job still
 * succeeds, every answer that reached Darkroom belongs to a distinct job (paid = jobs + calls billed
 * to a caller that gave up: timeouts and malformed bodies), and every call Z.AI saw is one the job
 * records explain.
 * A content-security refusal costs one call and fails the job with Z.AI's code.
 */
import { expectPaid } from '../test/billing.ts';
import { describe, expect, test } from '../test/fixtures.ts';
import { collectFigures, printFigures } from './figures.ts';

const JOBS = 150;

describe('chaos: Z.AI misbehaving', () => {
  test(`${JOBS} jobs through 429s, 500s, timeouts and malformed bodies all succeed`, async ({ launch, sim }) => {
    const stack = await launch({
      worker: false,
      env: { ZAI_TIMEOUT_MS: '1000', ZAI_MAX_ATTEMPTS: '12', ZAI_BACKOFF_MS: '20', WORKER_CONCURRENCY: '8', LOG_LEVEL: 'warn' },
    });
    sim.configure({ latencyMs: { standard: [5, 50], hd: [5, 50] }, faults: { rate429: 0.2, rate500: 0.1, rateTimeout: 0.05, rateMalformed: 0.02 } });
    const workers = [stack.spawnWorker(), stack.spawnWorker()];
    const ids = await Promise.all(
      Array.from({ length: JOBS }, async (_, i) => String((await stack.generate({ model: 'cogview-4-250304', prompt: `fault ${i}`, size: '512x512' })).body.id)),
    );
    const done = await Promise.all(ids.map((id) => stack.waitForStatus(id, ['succeeded', 'failed'], 240_000)));
    const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
    const stats = await expectPaid(sim, { jobs: JOBS });
    const figures = await collectFigures(stack, sim, ids, 0);
    const attempts = records.reduce((sum, r) => sum + (r?.attempts ?? 0), 0);
    printFigures('zai-faults', figures);
    console.log(`chaos zai-faults: calls=${stats.calls} recorded attempts=${attempts} outcomes=${JSON.stringify(stats.outcomes)}`);
    expect(done.filter((d) => d.status === 'succeeded')).toHaveLength(JOBS);
    // Calls that timed out or got a malformed body were billed; none of their jobs was paid twice otherwise.
    expect(stats.paidUndelivered).toBeGreaterThanOrEqual((stats.outcomes['timeout'] ?? 0) + (stats.outcomes['malformed'] ?? 0));
    expect(figures).toMatchObject({ lost: 0, duplicates: 0, stored: JOBS });
    expect(stats.calls).toBe(attempts);
    expect(stats.calls - stats.generations).toBe(Object.entries(stats.outcomes).filter(([k]) => k !== 'ok').reduce((s, [, n]) => s + n, 0));
    for (const worker of workers) expect(worker.process.exitCode).toBeNull();
  });

  test('a content-security refusal (1301) costs one call and fails with the code and a failed webhook', async ({ launch, sim }) => {
    const stack = await launch();
    sim.failNext('sensitive_content_1301');
    const res = await stack.generate({ model: 'cogview-4-250304', prompt: 'something unsafe', webhook_url: stack.receiver.url });
    const id = String(res.body.id);
    const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
    expect(done.status).toBe('failed');
    expect((done.error as { code: string }).code).toBe('1301');
    expect(sim.stats().calls).toBe(1);
    const [delivery] = await stack.receiver.waitFor((d) => d.length >= 1);
    expect(delivery!.verified).toBe(true);
    expect(delivery!.payload!.type).toBe('image.generation.failed');
    expect(delivery!.payload!.data).toMatchObject({ id, status: 'failed', error: { code: '1301' } });
  });
});
