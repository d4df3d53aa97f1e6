/**
 * `pnpm bench`: starts a private redis-server, s3rver and the Z.AI simulator, runs the benchmarks
 * of issue 10 (each figure the median of several runs, beside a baseline measured in the same run
 * on the same Redis), prints a table and writes bench/results/<YYYY-MM-DD>.json.
 *   BENCH_QUICK=1        one short run per figure, for development
 *   BENCH_SECTIONS=a,b   only these: enqueue, batch, pipeline, inflight, copy, latency, scaleout, adaptive
 *                        (results then go to <date>-<sections>.json)
 *   BENCH_CPU_PROF=DIR   every worker writes a V8 CPU profile into DIR
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { row, settings, table, type Row, type Settings } from './harness/figures.ts';
import { startServices, type Services } from './harness/services.ts';
import { adaptive } from './sections/adaptive.ts';
import { copyMemory } from './sections/copy-memory.ts';
import { enqueue } from './sections/enqueue.ts';
import { inflight } from './sections/inflight.ts';
import { latency } from './sections/latency.ts';
import { pipeline } from './sections/pipeline.ts';
import { scaleout } from './sections/scaleout.ts';

const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));

const SECTIONS: Record<string, (services: Services, s: Settings) => Promise<Row[]>> = {
  enqueue,
  batch: () =>
    Promise.resolve([
      row({ benchmark: '2 batch accept', metric: 'not measured, batches not built in this branch', unit: '', darkroom: null, baseline: null, baselineName: 'Queue.addBulk', target: '>= 50%, RSS < 300 MB' }),
    ]),
  pipeline,
  inflight,
  copy: copyMemory,
  latency,
  scaleout,
  adaptive,
};

async function main(): Promise<void> {
  const s = settings(process.env);
  const wanted = process.env.BENCH_SECTIONS?.split(',').map((x) => x.trim()).filter(Boolean) ?? Object.keys(SECTIONS).filter((k) => !(s.quick && k === 'adaptive'));
  const unknown = wanted.filter((w) => !(w in SECTIONS));
  if (unknown.length) throw new Error(`BENCH_SECTIONS: unknown ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
  const services = await startServices();
  const rows: Row[] = [];
  const started = new Date();
  try {
    for (const name of wanted) {
      const section = SECTIONS[name];
      if (!section) continue;
      console.error(`[bench] ${name} ...`);
      const at = Date.now();
      const got = await section(services, s);
      rows.push(...got);
      console.error(`[bench] ${name} done in ${((Date.now() - at) / 1000).toFixed(0)} s\n${table(got)}`);
    }
  } finally {
    await services.stop();
  }
  console.log(`\n${table(rows)}\n`);
  for (const r of rows) if (r.note) console.log(`- ${r.benchmark}, ${r.metric}: ${r.note}`);
  const date = started.toISOString().slice(0, 10);
  const only = process.env.BENCH_SECTIONS ? `-${wanted.join('-')}` : '';
  const file = `${RESULTS}${date}${only}${s.quick ? '-quick' : ''}.json`;
  await mkdir(RESULTS, { recursive: true });
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryMB: Math.round(os.totalmem() / 1024 / 1024), node: process.version, loadavg: os.loadavg() };
  await writeFile(file, `${JSON.stringify({ started: started.toISOString(), quick: s.quick, runs: s.runs, machine, rows }, null, 2)}\n`);
  console.log(`written ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
