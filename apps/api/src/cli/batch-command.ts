/**
 * `darkroom batch submit FILE.jsonl [--webhook URL] [--idempotency-key KEY] [--wait] [--out FILE]`,
 * `darkroom batch status ID`, `darkroom batch results ID > out.jsonl`, `darkroom batch cancel ID`.
 * With --wait, a live progress bar on stderr (done, failed, total, rate, ETA) until the batch ends,
 * then its results file is written (default results.jsonl). stdout carries only JSON or results.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { BATCH_ENDED, BatchClient, clientEnvSchema, type BatchObject } from './batch-client.ts';

export const BATCH_USAGE = `  darkroom batch submit FILE.jsonl [--webhook URL] [--idempotency-key KEY] [--wait] [--out FILE]
  darkroom batch status ID
  darkroom batch results ID > out.jsonl
  darkroom batch cancel ID`;

const POLL_MS = 1000;

function clientFromEnv(env: NodeJS.ProcessEnv): BatchClient | string {
  const parsed = clientEnvSchema.safeParse({ DARKROOM_API_URL: env.DARKROOM_API_URL || undefined, DARKROOM_API_KEY: env.DARKROOM_API_KEY });
  if (!parsed.success) return parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('\n');
  return new BatchClient(parsed.data);
}

/** Polls until the batch ends, drawing done/failed/total, rate and ETA. */
async function follow(client: BatchClient, first: BatchObject): Promise<BatchObject> {
  const bar = new cliProgress.SingleBar(
    {
      format: '{bar} {percentage}% | {value}/{total} done | {failed} failed | {rate}/s | ETA {eta_formatted} | {status}',
      etaBuffer: 30,
      stream: process.stderr,
      // Off a terminal (a pipe, a CI log) cli-progress draws nothing unless asked: then a line every 2 s.
      noTTYOutput: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const done = (b: BatchObject) => b.request_counts.succeeded + b.request_counts.failed + b.request_counts.canceled;
  const started = Date.now();
  const startDone = done(first);
  bar.start(first.request_counts.total, startDone, { failed: first.request_counts.failed, rate: '0.0', status: first.status });
  let batch = first;
  while (!BATCH_ENDED.has(batch.status)) {
    await sleep(POLL_MS);
    batch = await client.get(batch.id);
    const rate = (done(batch) - startDone) / Math.max(0.001, (Date.now() - started) / 1000);
    bar.update(done(batch), { failed: batch.request_counts.failed, rate: rate.toFixed(1), status: batch.status });
  }
  bar.stop();
  return batch;
}

export async function runBatchCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { webhook: { type: 'string' }, wait: { type: 'boolean' }, out: { type: 'string' }, 'idempotency-key': { type: 'string' } },
  });
  const [action, target] = positionals;
  if (!action || !target || !['submit', 'status', 'results', 'cancel'].includes(action)) {
    console.error(`usage:\n${BATCH_USAGE}`);
    return 2;
  }
  const client = clientFromEnv(env);
  if (typeof client === 'string') {
    console.error(client);
    return 2;
  }
  if (action === 'status') console.log(JSON.stringify(await client.get(target)));
  if (action === 'cancel') console.log(JSON.stringify(await client.cancel(target)));
  if (action === 'results') await pipeline(await client.results(target), process.stdout);
  if (action === 'submit') {
    const batch = await client.submit(target, { webhookUrl: values.webhook, idempotencyKey: values['idempotency-key'] });
    if (!values.wait) {
      console.log(JSON.stringify(batch));
      return 0;
    }
    const ended = await follow(client, batch);
    const out = values.out ?? 'results.jsonl';
    await pipeline(await client.results(ended.id), createWriteStream(out));
    console.log(JSON.stringify({ ...ended, results_file: out }));
  }
  return 0;
}
