/**
 * Benchmark 4: in-flight capacity. Simulator latency 2 s, 1024x1024 images, one worker with
 * WORKER_CONCURRENCY = ZAI_MAX_CONCURRENCY = C for C in 100, 1000, 5000.
 * - Generate stage alone (store queue paused): Z.AI calls/s against Little's law, C / 2 s, and
 *   against a bare BullMQ worker making the same call; the worker's peak RSS by then.
 * - Store stage alone, at C = 1000 (the answers saved above, store queue resumed, nothing left
 *   to generate): images/s through store → notify, against raw SDK PutObject of the same bytes to
 *   the same S3 server at the same concurrency, in the same run. This is the store stage's ceiling.
 * - Whole pipeline at C = 1000: images/s against Little's law.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { spawnWorker } from '../harness/darkroom.ts';
import { accept, completed, drain, setPaused } from '../harness/drain.ts';
import { bareRate } from './pipeline.ts';
import { median, progress, row, type Row, type Settings } from '../harness/figures.ts';
import type { Services } from '../harness/services.ts';

const LATENCY_MS = 2_000;
const SIZE = '1024x1024';
const STORE_AT = 1_000;

async function imageBytes(services: Services): Promise<number> {
  const images = (await fetch(`${services.sim.origin}/_sim/images`).then((r) => r.json())) as Array<{ bytes: number }>;
  return images[0]?.bytes ?? 0;
}

/** Raw PutObject of `count` objects of `bytes` each, `parallel` at a time: objects/s. */
async function rawPutRate(services: Services, count: number, bytes: number, parallel: number): Promise<number> {
  const body = Buffer.alloc(bytes, 7);
  let next = 0;
  const started = Date.now();
  const one = async (): Promise<void> => {
    while (next < count) {
      const key = `raw/${next++}.png`;
      await services.s3Client.send(new PutObjectCommand({ Bucket: services.s3.bucket, Key: key, Body: body, ContentType: 'image/png' }));
    }
  };
  await Promise.all(Array.from({ length: parallel }, one));
  return (count * 1000) / (Date.now() - started);
}

export async function inflight(services: Services, s: Settings): Promise<Row[]> {
  const levels = s.quick ? [100, 1000] : [100, 1000, 5000];
  const rounds = s.quick ? 2 : 3;
  const roundsAt = (c: number) => (c >= 5000 ? 2 : rounds);
  await services.sim.configure({ latencyMs: { standard: [LATENCY_MS, LATENCY_MS], hd: [LATENCY_MS, LATENCY_MS] }, imagePadBytes: 0 });
  const rows: Row[] = [];
  const store: number[] = [];
  const raw: number[] = [];
  const whole: number[] = [];
  const storeRss: number[] = [];
  for (const c of levels) {
    const env = { WORKER_CONCURRENCY: String(c), ZAI_MAX_CONCURRENCY: String(c) };
    const jobs = roundsAt(c) * c;
    const calls: number[] = [];
    const bare: number[] = [];
    const rss: number[] = [];
    const little = (c * 1000) / LATENCY_MS;
    for (let run = 0; run < s.runs; run++) {
      const accepted = await accept(services, jobs, SIZE);
      await setPaused(services, 'store', true);
      const worker = spawnWorker(services, env);
      await worker.ready;
      const started = Date.now();
      const done = await completed(services, 'generate', jobs, 600_000);
      calls.push((jobs * 1000) / (done - started));
      rss.push(await worker.peakRss());
      if (c === STORE_AT) {
        await setPaused(services, 'store', false);
        const storeStarted = Date.now();
        const last = await accepted.receiver.waitFor(jobs, 600_000);
        store.push((jobs * 1000) / (last - storeStarted));
        progress(`store stage alone: ${store.at(-1)?.toFixed(1)} images/s`);
      }
      if (c === STORE_AT) storeRss.push(await worker.peakRss());
      const bytes = await imageBytes(services);
      await worker.stop();
      await accepted.receiver.close();
      bare.push(await bareRate(services, jobs, c, services.sim.url));
      progress(`in flight ${c}: ${jobs} calls in ${done - started} ms, ${calls.at(-1)?.toFixed(0)}/s; raw BullMQ ${bare.at(-1)?.toFixed(0)}/s; Little ${little}/s`);
      if (c === STORE_AT) {
        await services.clean();
        raw.push(await rawPutRate(services, jobs, bytes, c));
        progress(`raw PutObject of ${bytes} bytes: ${raw.at(-1)?.toFixed(1)}/s`);
        const pipelined = await accept(services, jobs, SIZE);
        const drained = await drain(services, pipelined, env, 600_000);
        await drained.worker.stop();
        await pipelined.receiver.close();
        whole.push((jobs * 1000) / drained.ms);
        progress(`whole pipeline at ${c}: ${whole.at(-1)?.toFixed(1)} images/s`);
      }
    }
    const r = row({
      benchmark: `4 in flight, sim ${LATENCY_MS / 1000} s`,
      metric: `generate calls/s at ${c}`,
      unit: '/s',
      darkroom: median(calls),
      baseline: little,
      baselineName: "Little's law",
      target: c === 1000 ? '>= 90%' : c === 5000 ? 'a figure (raw BullMQ 92%)' : '',
      runs: { darkroom: calls, baseline: [little] },
    });
    if (c === 1000) r.met = r.ratio !== null && r.ratio >= 0.9;
    rows.push(
      r,
      row({
        benchmark: `4 in flight, sim ${LATENCY_MS / 1000} s`,
        metric: `generate calls/s at ${c}`,
        unit: '/s',
        darkroom: median(calls),
        baseline: median(bare),
        baselineName: 'raw BullMQ worker + fetch',
        target: '',
        runs: { darkroom: calls, baseline: bare },
      }),
    );
    const m = row({
      benchmark: `4 in flight, sim ${LATENCY_MS / 1000} s`,
      metric: `worker peak RSS at ${c}`,
      unit: 'MB',
      darkroom: median(rss),
      baseline: null,
      baselineName: '',
      target: c === 1000 ? '< 400 MB' : '',
      runs: { darkroom: rss, baseline: [] },
    });
    if (c === 1000) m.met = (m.darkroom ?? Infinity) < 400 * 1024 * 1024;
    rows.push(m);
  }
  if (store.length) {
    rows.push(
      row({
        benchmark: '4 store stage alone',
        metric: `images/s at ${STORE_AT}`,
        unit: '/s',
        darkroom: median(store),
        baseline: median(raw),
        baselineName: 'raw SDK PutObject/s',
        target: 'named ceiling',
        runs: { darkroom: store, baseline: raw },
        note: 'the store stage downloads the image, PutObjects it, reads it back for its sha256, then the notify stage sends the webhook',
      }),
      row({
        benchmark: '4 store stage alone',
        metric: `worker peak RSS after the store stage at ${STORE_AT}`,
        unit: 'MB',
        darkroom: median(storeRss),
        baseline: null,
        baselineName: '',
        target: '',
        runs: { darkroom: storeRss, baseline: [] },
      }),
      row({
        benchmark: '4 whole pipeline, sim 2 s',
        metric: `images/s at ${STORE_AT}`,
        unit: '/s',
        darkroom: median(whole),
        baseline: (STORE_AT * 1000) / LATENCY_MS,
        baselineName: "Little's law",
        target: '',
        runs: { darkroom: whole, baseline: [] },
      }),
    );
  }
  return rows;
}
