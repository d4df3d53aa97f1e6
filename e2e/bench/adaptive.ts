/**
 * `pnpm bench`: issue 11's scenario. A stand-in account allows 8 calls at once (1 s each) and
 * answers 1302 above that; 160 jobs wait; one worker; ZAI_MAX_CONCURRENCY (the ceiling) is 8, 16,
 * 32 and 64. Prints, per ceiling, the wall time against the ideal, the utilisation of the 8 slots
 * (busy slot-time / (8 x wall time), see e2e/test/slot-use.ts) and the 1302 answers.
 * ZAI_LIMIT_STEP_MS is 20 here (the default, 500, suits calls of 5-20 s, not of 1 s).
 */
import { test } from '../test/fixtures.ts';
import { allSucceeded, slotUse, submit } from '../test/slot-use.ts';

const LIMIT = 8;
const CALL_MS = 1_000;
const JOBS = 160;

test('adaptive concurrency: utilisation and 1302s by ceiling', async ({ launch, sim }) => {
  const rows: string[] = [];
  for (const ceiling of [8, 16, 32, 64]) {
    sim.reset();
    sim.configure({ maxConcurrency: LIMIT, latencyMs: { standard: [CALL_MS, CALL_MS], hd: [CALL_MS, CALL_MS] } });
    const stack = await launch({
      worker: false,
      env: { ZAI_MAX_CONCURRENCY: String(ceiling), WORKER_CONCURRENCY: String(ceiling), ZAI_LIMIT_STEP_MS: '20', ZAI_LIMIT_PROBE_MS: '60000', ZAI_TIMEOUT_MS: '10000' },
    });
    const ids = await submit(stack, JOBS, `bench ${ceiling}`);
    const worker = stack.spawnWorker();
    if (!(await allSucceeded(stack, ids, 300_000))) throw new Error(`ceiling ${ceiling}: a job failed`);
    await worker.kill('SIGTERM');
    const use = slotUse(sim.calls(), LIMIT);
    rows.push(
      `${String(ceiling).padStart(7)}  ${(use.wallMs / 1000).toFixed(1).padStart(6)} s  ${((JOBS * CALL_MS) / LIMIT / 1000).toFixed(1).padStart(6)} s  ${(use.utilisation * 100).toFixed(1).padStart(9)}%  ${String(use.refusals).padStart(5)}`,
    );
  }
  console.log(['', `limit ${LIMIT}, ${JOBS} jobs of ${CALL_MS} ms, one worker`, 'ceiling    wall     ideal   utilisation   1302s', ...rows, ''].join('\n'));
});
