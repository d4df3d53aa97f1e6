/**
 * The README's first example: create one generation, wait for it, print the job.
 *
 *   pnpm -s example "a red bicycle leaning on a wall"
 *
 * DARKROOM_URL (default http://127.0.0.1:3000) and DARKROOM_KEY (default: the key `pnpm dev`
 * saved in .darkroom/dev-key.json) say where and who. It uses nothing but fetch, like any client.
 */
import { readFileSync } from 'node:fs';

const url = process.env.DARKROOM_URL ?? 'http://127.0.0.1:3000';
const key = process.env.DARKROOM_KEY ?? (JSON.parse(readFileSync('.darkroom/dev-key.json', 'utf8')) as { api_key: string }).api_key;
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

const created = await fetch(`${url}/v1/images/generations`, {
  method: 'POST',
  headers,
  body: JSON.stringify({ model: 'cogview-4-250304', prompt: process.argv[2] ?? 'a red bicycle leaning on a wall' }),
});
if (created.status !== 202) throw new Error(`POST answered ${created.status}: ${await created.text()}`);
const { id } = (await created.json()) as { id: string };
console.error(`queued ${id}`);

for (;;) {
  const job = (await (await fetch(`${url}/v1/images/generations/${id}`, { headers })).json()) as { status: string };
  if (job.status === 'succeeded' || job.status === 'failed') {
    console.log(JSON.stringify(job, null, 2));
    process.exit(job.status === 'succeeded' ? 0 : 1);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
