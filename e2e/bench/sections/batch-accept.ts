/**
 * Benchmark 2: batch accept. A 100,000-line JSONL upload POSTed to the API (a child process) until
 * its 202, when every item is written and handed to the dispatcher (no worker runs): seconds and
 * the API's peak RSS (VmHWM), with Node's default heap sizing and with the heap flags the API is
 * started with (package.json, Dockerfile, docker-compose.yml). Beside them, raw Queue.addBulk of
 * the same requests, 1,000 a call, on the same Redis; alternating, Redis emptied between runs.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { redisKeys } from '@darkroom/shared';
import { PREFIX, createTenant, startApi } from '../harness/darkroom.ts';
import { BATCH_LINES, batchJsonl } from '../harness/batch-lines.ts';
import { median, progress, row, type Row, type Settings } from '../harness/figures.ts';
import { peakRss, spawnNode } from '../harness/processes.ts';
import type { Services } from '../harness/services.ts';

const BARE = fileURLToPath(new URL('../baselines/bare-addbulk.ts', import.meta.url));
const MB = 1024 * 1024;

export interface Accept {
  seconds: number;
  peakRss: number;
  idleRss: number;
  /** CPU seconds the API process and Redis spent on the upload (less noisy than seconds on a loaded machine). */
  apiCpu?: number;
  redisCpu?: number;
}

/** utime + stime of a process, in seconds. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function redisCpuSeconds(services: Services): Promise<number> {
  const info = await services.redis.info('cpu');
  const get = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return get('used_cpu_user') + get('used_cpu_sys');
}

/** VmRSS: the process's resident set now. */
async function rss(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

export async function darkroomAccept(services: Services, body: Buffer, env: Record<string, string>, apiOpts?: { main?: string; nodeFlags?: string[] }): Promise<Accept> {
  await services.clean();
  const { apiKey } = await createTenant(services);
  const api = await startApi(services, env, apiOpts);
  try {
    const idleRss = await rss(api.child.process.pid);
    const cpuBefore = [await cpuSeconds(api.child.process.pid), await redisCpuSeconds(services)] as const;
    const started = performance.now();
    const res = await fetch(`${api.url}/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/x-ndjson' },
      body,
    });
    const json = (await res.json()) as { id?: string; request_counts?: { total?: number } };
    const seconds = (performance.now() - started) / 1000;
    const apiCpu = (await cpuSeconds(api.child.process.pid)) - cpuBefore[0];
    const redisCpu = (await redisCpuSeconds(services)) - cpuBefore[1];
    if (res.status !== 202) throw new Error(`batch upload: ${res.status} ${JSON.stringify(json)}`);
    const pending = await services.redis.llen(redisKeys(PREFIX).tenantPending('bench'));
    const total = json.request_counts?.total;
    if (total !== BATCH_LINES || pending !== BATCH_LINES) throw new Error(`batch upload: total ${String(total)}, ${pending} pending dispatch; expected ${BATCH_LINES}`);
    return { seconds, peakRss: await api.child.peakRss(), idleRss, apiCpu, redisCpu };
  } finally {
    await api.child.stop();
  }
}

export async function bareAddBulk(services: Services): Promise<Accept> {
  await services.clean();
  const child = spawnNode({ name: 'bare-addbulk', args: [BARE], env: { REDIS_URL: services.redisUrl, QUEUE_PREFIX: 'bare', LINES: String(BATCH_LINES) }, readyWhen: /"event":"done"/, readyTimeoutMs: 600_000 });
  const done = JSON.parse(await child.ready) as { seconds: number; jobs: number };
  const peak = await peakRss(child.process.pid);
  await child.stop();
  if (done.jobs !== BATCH_LINES) throw new Error(`bare-addbulk: ${done.jobs} jobs, expected ${BATCH_LINES}`);
  return { seconds: done.seconds, peakRss: peak, idleRss: 0 };
}

/** The heap flags the API's start commands set (docs/batches.md#memory). */
const API_HEAP_FLAGS = '--max-semi-space-size=8 --max-old-space-size=1024';

function rows(label: string, darkroom: Accept[], bare: Accept[], bytes: number, note: string): Row[] {
  const rate = { darkroom: darkroom.map((a) => BATCH_LINES / a.seconds), baseline: bare.map((a) => BATCH_LINES / a.seconds) };
  const rateRow = row({
    benchmark: '2 batch accept',
    metric: `${BATCH_LINES.toLocaleString('en')} JSONL lines (${(bytes / MB).toFixed(0)} MB) to 202, ${label}`,
    unit: 'items/s',
    darkroom: median(rate.darkroom),
    baseline: median(rate.baseline),
    baselineName: 'Queue.addBulk x1000',
    target: '>= 50%',
    runs: rate,
    note: `seconds: ${darkroom.map((a) => a.seconds.toFixed(1)).join(', ')}; addBulk ${bare.map((a) => a.seconds.toFixed(1)).join(', ')}${note}`,
  });
  rateRow.met = rateRow.ratio !== null && rateRow.ratio >= 0.5;
  const peak = { darkroom: darkroom.map((a) => a.peakRss), baseline: darkroom.map((a) => a.idleRss) };
  const rssRow = row({
    benchmark: '2 batch accept',
    metric: `API peak RSS (VmHWM), ${label}`,
    unit: 'MB',
    darkroom: median(peak.darkroom),
    baseline: median(peak.baseline),
    baselineName: 'API RSS before the upload',
    target: '< 300 MB',
    runs: peak,
  });
  rssRow.met = rssRow.darkroom !== null && rssRow.darkroom < 300 * MB;
  return [rateRow, rssRow];
}

export async function batchAccept(services: Services, s: Settings): Promise<Row[]> {
  const body = batchJsonl();
  const plain: Accept[] = [];
  const capped: Accept[] = [];
  const bare: Accept[] = [];
  for (let run = 0; run < s.runs; run++) {
    plain.push(await darkroomAccept(services, body, {}));
    capped.push(await darkroomAccept(services, body, { NODE_OPTIONS: API_HEAP_FLAGS }));
    bare.push(await bareAddBulk(services));
    const show = (a: Accept) => `${a.seconds.toFixed(1)} s, RSS ${(a.idleRss / MB).toFixed(0)} -> ${(a.peakRss / MB).toFixed(0)} MB`;
    progress(`batch accept: node defaults ${show(plain.at(-1)!)}; ${API_HEAP_FLAGS} ${show(capped.at(-1)!)}; addBulk ${bare.at(-1)!.seconds.toFixed(1)} s`);
  }
  await services.clean();
  return [...rows('node defaults', plain, bare, body.length, ''), ...rows(API_HEAP_FLAGS, capped, bare, body.length, `; API NODE_OPTIONS=${API_HEAP_FLAGS}`)];
}
