/**
 * Benchmark 6: the latency Darkroom adds after Z.AI answers: from the moment the worker received
 * the answer (the record's zai.received_at) to the webhook's arrival at a receiver, through
 * saving the answer, the store stage (download, PutObject, read-back) and the notify stage.
 * Moderate load: 20 generations/s for 10 s (5 s quick), simulator at 200 ms, 512x512 images.
 */
import { redisKeys } from '@darkroom/shared';
import { PREFIX, createTenant, generationBody, spawnWorker, startApi, startReceiver } from '../harness/darkroom.ts';
import { median, percentile, progress, row, type Row, type Settings } from '../harness/figures.ts';
import type { Services } from '../harness/services.ts';

const RATE = 20;

async function once(services: Services, seconds: number): Promise<number[]> {
  await services.clean();
  await services.sim.configure({ latencyMs: { standard: [200, 200], hd: [200, 200] }, imagePadBytes: 0 });
  const receiver = await startReceiver();
  const { apiKey } = await createTenant(services);
  const api = await startApi(services, { LOG_LEVEL: 'warn' });
  const worker = spawnWorker(services, { WORKER_CONCURRENCY: '50', ZAI_MAX_CONCURRENCY: '50' });
  await worker.ready;
  const body = generationBody(receiver.url);
  const ids: string[] = [];
  const posts: Array<Promise<void>> = [];
  for (let i = 0; i < RATE * seconds; i++) {
    posts.push(
      fetch(`${api.url}/v1/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body })
        .then((res) => res.json() as Promise<{ id: string }>)
        .then((json) => void ids.push(json.id)),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000 / RATE));
  }
  await Promise.all(posts);
  await receiver.waitFor(ids.length, 120_000);
  const keys = redisKeys(PREFIX);
  const added: number[] = [];
  const stored: number[] = [];
  for (const id of ids) {
    const [zaiField, completedAt] = await services.redis.hmget(keys.generation(id), 'zai', 'completed_at');
    const zai = JSON.parse(zaiField ?? '{}') as { received_at?: number };
    const at = receiver.received.get(id);
    if (zai.received_at !== undefined && at !== undefined) added.push(at - zai.received_at);
    if (zai.received_at !== undefined && completedAt) stored.push(Number(completedAt) - zai.received_at);
  }
  progress(`answer → stored: p50 ${percentile(stored, 50)} ms, p99 ${percentile(stored, 99)} ms`);
  await worker.stop();
  await api.child.stop();
  await receiver.close();
  if (added.length !== ids.length) throw new Error(`latency: ${added.length} of ${ids.length} generations had an answer time and a webhook`);
  return added;
}

export async function latency(services: Services, s: Settings): Promise<Row[]> {
  const p50: number[] = [];
  const p99: number[] = [];
  for (let run = 0; run < s.runs; run++) {
    const added = await once(services, s.quick ? 5 : 10);
    p50.push(percentile(added, 50));
    p99.push(percentile(added, 99));
    progress(`added latency p50 ${p50.at(-1)} ms, p99 ${p99.at(-1)} ms over ${added.length}`);
  }
  const metric = (name: string) => `${name}, Z.AI answer → webhook, ${RATE}/s`;
  const r99 = row({ benchmark: '6 added latency', metric: metric('p99'), unit: 'ms', darkroom: median(p99), baseline: null, baselineName: '', target: '< 100 ms', runs: { darkroom: p99, baseline: [] } });
  r99.met = (r99.darkroom ?? Infinity) < 100;
  return [row({ benchmark: '6 added latency', metric: metric('p50'), unit: 'ms', darkroom: median(p50), baseline: null, baselineName: '', target: '', runs: { darkroom: p50, baseline: [] } }), r99];
}
