/**
 * Benchmark 2's batch accept alone, for work on the API's memory: the 100,000-line upload with
 * Node's defaults (and with BATCH_MEMORY_FLAGS as NODE_OPTIONS if set), beside raw addBulk, each
 * BATCH_MEMORY_RUNS times (default 3), alternating. BATCH_MEMORY_MAIN runs another checkout's API
 * (apps/api/src/main.ts of it) in the same sitting; BATCH_MEMORY_NODE_FLAGS passes node flags
 * (e.g. --trace-gc) to the API.
 */
import { BATCH_LINES, batchJsonl } from './harness/batch-lines.ts';
import { median } from './harness/figures.ts';
import { startServices } from './harness/services.ts';
import { bareAddBulk, darkroomAccept, type Accept } from './sections/batch-accept.ts';

const MB = 1024 * 1024;
const runs = Number(process.env.BATCH_MEMORY_RUNS ?? 3);
const mains = (process.env.BATCH_MEMORY_MAIN ?? '').split(',').filter(Boolean);
const variants = mains.length ? mains : [undefined];
const flags = process.env.BATCH_MEMORY_FLAGS;
const nodeFlags = (process.env.BATCH_MEMORY_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const body = batchJsonl();
const services = await startServices();
const got = new Map<string, Accept[]>();
const add = (k: string, a: Accept) => got.set(k, [...(got.get(k) ?? []), a]);
const show = (a: Accept) => `${a.seconds.toFixed(1)} s ${(BATCH_LINES / a.seconds).toFixed(0)}/s, RSS ${(a.idleRss / MB).toFixed(0)} -> ${(a.peakRss / MB).toFixed(0)} MB, cpu api ${a.apiCpu?.toFixed(1)} s redis ${a.redisCpu?.toFixed(1)} s`;
try {
  for (let run = 0; run < runs; run++) {
    for (const main of variants) {
      const label = main ?? 'this checkout';
      const a = await darkroomAccept(services, body, {}, { main, nodeFlags });
      add(`${label} defaults`, a);
      console.log(`run ${run} ${label} defaults: ${show(a)}`);
      if (flags) {
        const c = await darkroomAccept(services, body, { NODE_OPTIONS: flags }, { main, nodeFlags });
        add(`${label} ${flags}`, c);
        console.log(`run ${run} ${label} ${flags}: ${show(c)}`);
      }
    }
    const b = await bareAddBulk(services);
    add('addBulk', b);
    console.log(`run ${run} addBulk: ${show(b)}`);
  }
} finally {
  await services.stop();
}
const bare = median((got.get('addBulk') ?? []).map((a) => BATCH_LINES / a.seconds));
for (const [k, as] of got) {
  const rate = median(as.map((a) => BATCH_LINES / a.seconds));
  const peak = median(as.map((a) => a.peakRss));
  const cpu = median(as.map((a) => (a.apiCpu ?? 0) + (a.redisCpu ?? 0)));
  console.log(`${k}: median ${rate.toFixed(0)} items/s (${((rate / bare) * 100).toFixed(0)}% of addBulk), peak RSS ${(peak / MB).toFixed(0)} MB, API+Redis CPU ${cpu.toFixed(1)} s`);
}
process.exit(0);
