/**
 * The README's first example: create one generation, wait for it, print the job.
 *
 *   pnpm -s example "a red bicycle leaning on a wall"
 *
 * DARKROOM_URL (default http://127.0.0.1:3000) and DARKROOM_KEY (default: the key `pnpm dev`
 * saved in .darkroom/dev-key.json) say where and who. It uses the typed client (@darkroom/client),
 * whose types come from the API's OpenAPI document: fetch underneath, like any client.
 */
import { readFileSync } from 'node:fs';
import { darkroomClient, type Generation } from '@darkroom/client';

const baseUrl = process.env.DARKROOM_URL ?? 'http://127.0.0.1:3000';
const apiKey = process.env.DARKROOM_KEY ?? (JSON.parse(readFileSync('.darkroom/dev-key.json', 'utf8')) as { api_key: string }).api_key;
const darkroom = darkroomClient({ baseUrl, apiKey });

const created = await darkroom.POST('/v1/images/generations', {
  body: { model: 'cogview-4-250304', prompt: process.argv[2] ?? 'a red bicycle leaning on a wall' },
});
if (!created.data) throw new Error(`POST answered ${created.response.status}: ${JSON.stringify(created.error)}`);
const { id } = created.data;
console.error(`queued ${id}`);

const finished = (job: Generation) => job.status === 'succeeded' || job.status === 'failed';
for (;;) {
  const { data: job, error, response } = await darkroom.GET('/v1/images/generations/{id}', { params: { path: { id } } });
  if (!job) throw new Error(`GET answered ${response.status}: ${JSON.stringify(error)}`);
  if (finished(job)) {
    console.log(JSON.stringify(job, null, 2));
    process.exit(job.status === 'succeeded' ? 0 : 1);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
