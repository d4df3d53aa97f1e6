/**
 * Benchmark 1: single-job enqueue over HTTP. autocannon, 100 connections on loopback, against
 * Darkroom's POST /v1/images/generations and against a bare Fastify route doing one Queue.add on
 * the same Redis; alternating, each after a short warm-up, Redis emptied between runs.
 */
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createTenant, generationBody, startApi } from '../harness/darkroom.ts';
import { median, progress, row, type Row, type Settings } from '../harness/figures.ts';
import { spawnNode } from '../harness/processes.ts';
import type { Services } from '../harness/services.ts';

const BARE = fileURLToPath(new URL('../baselines/bare-enqueue.ts', import.meta.url));
const CONNECTIONS = 100;

interface Load {
  rps: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, headers: Record<string, string>, body: string, seconds: number): Promise<Load> {
  const result = await autocannon({
    url: `${url}/v1/images/generations`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

export async function enqueue(services: Services, s: Settings): Promise<Row[]> {
  const seconds = s.quick ? 3 : 10;
  const body = generationBody('http://127.0.0.1:9/hook');
  const darkroom: Load[] = [];
  const bare: Load[] = [];
  for (let run = 0; run < s.runs; run++) {
    await services.clean();
    const { apiKey } = await createTenant(services);
    const api = await startApi(services);
    await load(api.url, { authorization: `Bearer ${apiKey}` }, body, 1);
    darkroom.push(await load(api.url, { authorization: `Bearer ${apiKey}` }, body, seconds));
    await api.child.stop();

    await services.clean();
    const child = spawnNode({ name: 'bare-enqueue', args: [BARE], env: { REDIS_URL: services.redisUrl, QUEUE_PREFIX: 'bare', PORT: '0' }, readyWhen: /"event":"listening"/ });
    const { url } = JSON.parse(await child.ready) as { url: string };
    await load(url, {}, body, 1);
    bare.push(await load(url, {}, body, seconds));
    await child.stop();
    progress(`enqueue ${darkroom.at(-1)?.rps.toFixed(0)} req/s vs bare ${bare.at(-1)?.rps.toFixed(0)} req/s`);
  }
  const failed = [...darkroom, ...bare].reduce((n, l) => n + l.non2xx + l.errors, 0);
  const note = failed ? `${failed} non-2xx or errored requests` : undefined;
  const rps = { darkroom: darkroom.map((l) => l.rps), baseline: bare.map((l) => l.rps) };
  const p99 = { darkroom: darkroom.map((l) => l.p99), baseline: bare.map((l) => l.p99) };
  const rpsRow = row({
    benchmark: '1 enqueue over HTTP',
    metric: 'req/s, 100 conns',
    unit: 'req/s',
    darkroom: median(rps.darkroom),
    baseline: median(rps.baseline),
    baselineName: 'bare Fastify + Queue.add',
    target: '>= 70%',
    runs: rps,
    ...(note ? { note } : {}),
  });
  rpsRow.met = rpsRow.ratio !== null && rpsRow.ratio >= 0.7;
  return [
    rpsRow,
    row({
      benchmark: '1 enqueue over HTTP',
      metric: 'p99 latency',
      unit: 'ms',
      darkroom: median(p99.darkroom),
      baseline: median(p99.baseline),
      baselineName: 'bare Fastify + Queue.add',
      target: '',
      runs: p99,
    }),
  ];
}
