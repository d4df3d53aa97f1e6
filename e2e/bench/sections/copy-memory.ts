/**
 * Benchmark 5: copy memory. Images padded to 1 MB and to 8 MB (the simulator's imagePadBytes),
 * simulator at 0 ms, WORKER_CONCURRENCY 200: the worker's peak RSS with 8 MB images against
 * its peak with 1 MB images, in the same run. A copy that streams keeps them close.
 */
import { accept, drain } from '../harness/drain.ts';
import { median, progress, row, type Row, type Settings } from '../harness/figures.ts';
import type { Services } from '../harness/services.ts';

const MB = 1024 * 1024;
const CONCURRENCY = 200;

async function peakFor(services: Services, padBytes: number, jobs: number): Promise<number> {
  await services.sim.configure({ latencyMs: { standard: [0, 0], hd: [0, 0] }, imagePadBytes: padBytes });
  const accepted = await accept(services, jobs);
  const drained = await drain(services, accepted, { WORKER_CONCURRENCY: String(CONCURRENCY), ZAI_MAX_CONCURRENCY: String(CONCURRENCY) }, 900_000);
  await drained.worker.stop();
  await accepted.receiver.close();
  return drained.peakRss;
}

export async function copyMemory(services: Services, s: Settings): Promise<Row[]> {
  const jobs = CONCURRENCY;
  const small: number[] = [];
  const large: number[] = [];
  try {
    for (let run = 0; run < s.runs; run++) {
      small.push(await peakFor(services, MB, jobs));
      large.push(await peakFor(services, 8 * MB, jobs));
      progress(`copy: peak RSS ${(small.at(-1)! / MB).toFixed(0)} MB with 1 MB images, ${(large.at(-1)! / MB).toFixed(0)} MB with 8 MB`);
    }
  } finally {
    await services.sim.configure({ imagePadBytes: 0 });
    await services.clean();
  }
  const r = row({
    benchmark: '5 copy memory',
    metric: `worker peak RSS, 8 MB vs 1 MB images, concurrency ${CONCURRENCY}`,
    unit: 'MB',
    darkroom: median(large),
    baseline: median(small),
    baselineName: 'with 1 MB images',
    target: 'growth < 20%',
    runs: { darkroom: large, baseline: small },
  });
  r.met = r.ratio !== null && r.ratio < 1.2;
  return [r];
}
