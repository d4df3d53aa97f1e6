/**
 * Scale-out on this machine (docs/scaling.md): the whole pipeline (simulator 0 ms, 512x512) with
 * one worker process, then with two (all this two-core machine holds), and what each image costs
 * Redis: its CPU time and commands, from INFO before and after. One Redis core divided by that
 * cost is the ceiling no number of workers passes while every key shares one slot.
 */
import { spawnWorker } from '../harness/darkroom.ts';
import { accept } from '../harness/drain.ts';
import { median, progress, row, type Row, type Settings } from '../harness/figures.ts';
import type { Services } from '../harness/services.ts';

const CONCURRENCY = 50;

async function redisUsage(services: Services): Promise<{ cpuMs: number; commands: number }> {
  const info = await services.redis.info();
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return { cpuMs: (field('used_cpu_sys') + field('used_cpu_user')) * 1000, commands: field('total_commands_processed') };
}

async function once(services: Services, workers: number, jobs: number) {
  const accepted = await accept(services, jobs);
  const children = Array.from({ length: workers }, () => spawnWorker(services, { WORKER_CONCURRENCY: String(CONCURRENCY), ZAI_MAX_CONCURRENCY: String(CONCURRENCY * workers) }));
  await Promise.all(children.map((c) => c.ready));
  const before = await redisUsage(services);
  const started = Date.now();
  const last = await accepted.receiver.waitFor(jobs, 600_000);
  const after = await redisUsage(services);
  await Promise.all(children.map((c) => c.stop()));
  await accepted.receiver.close();
  return { rate: (jobs * 1000) / (last - started), cpuMsPerImage: (after.cpuMs - before.cpuMs) / jobs, commandsPerImage: (after.commands - before.commands) / jobs };
}

export async function scaleout(services: Services, s: Settings): Promise<Row[]> {
  const jobs = s.quick ? 400 : 1000;
  await services.sim.configure({ latencyMs: { standard: [0, 0], hd: [0, 0] }, imagePadBytes: 0 });
  const one: number[] = [];
  const two: number[] = [];
  const cpu: number[] = [];
  const commands: number[] = [];
  for (let run = 0; run < s.runs; run++) {
    const a = await once(services, 1, jobs);
    const b = await once(services, 2, jobs);
    one.push(a.rate);
    two.push(b.rate);
    cpu.push(a.cpuMsPerImage, b.cpuMsPerImage);
    commands.push(a.commandsPerImage, b.commandsPerImage);
    progress(`scale-out: 1 worker ${a.rate.toFixed(1)}/s, 2 workers ${b.rate.toFixed(1)}/s; Redis ${a.cpuMsPerImage.toFixed(2)} ms CPU and ${a.commandsPerImage.toFixed(0)} commands per image`);
  }
  const cpuMs = median(cpu);
  return [
    row({ benchmark: 'scale-out, sim 0 ms', metric: 'images/s, 2 worker processes vs 1', unit: '/s', darkroom: median(two), baseline: median(one), baselineName: 'one worker process', target: '', runs: { darkroom: two, baseline: one } }),
    row({ benchmark: 'scale-out, sim 0 ms', metric: 'Redis CPU per image', unit: 'ms', darkroom: cpuMs, baseline: null, baselineName: '', target: '', runs: { darkroom: cpu, baseline: [] } }),
    row({ benchmark: 'scale-out, sim 0 ms', metric: 'Redis commands per image', unit: '', darkroom: median(commands), baseline: null, baselineName: '', target: '', runs: { darkroom: commands, baseline: [] } }),
    row({ benchmark: 'scale-out, computed', metric: 'one Redis core / CPU per image', unit: '/s', darkroom: 1000 / cpuMs, baseline: null, baselineName: '', target: '', note: 'the images/s at which one Redis (one slot) is saturated, whatever the number of workers' }),
  ];
}
