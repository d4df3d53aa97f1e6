/**
 * `darkroom batch …` (over HTTP, as a tenant) and `darkroom tenants limits …` (Redis), run as the
 * operator runs them: a child process of the real CLI against a running stack.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { redisKeys } from '@darkroom/shared';
import { batchItemIds } from './batch-client.ts';
import { expect, test } from './fixtures.ts';
import type { Stack } from './stack.ts';

const CLI = fileURLToPath(new URL('../../apps/api/src/cli.ts', import.meta.url));
const run = promisify(execFile);

async function darkroom(stack: Stack, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '', ...stack.env, DARKROOM_API_URL: stack.apiUrl, DARKROOM_API_KEY: stack.apiKey };
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('batch submit, status and cancel over HTTP; tenants limits set refuses the next batch', async ({ launch }) => {
  const stack = await launch({ worker: false });
  const dir = await mkdtemp(join(tmpdir(), 'darkroom-cli-'));
  try {
    const file = join(dir, 'prompts.jsonl');
    await writeFile(file, Array.from({ length: 10 }, (_, i) => JSON.stringify({ model: 'cogview-4-250304', prompt: `p${i}`, custom_id: `c${i}` })).join('\n'));

    const submitted = await darkroom(stack, ['batch', 'submit', file, '--webhook', 'http://127.0.0.1:9/hook']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const batch = JSON.parse(submitted.stdout) as { id: string; status: string; webhook_url: string; request_counts: Record<string, number> };
    expect(batch).toMatchObject({ status: 'in_progress', webhook_url: 'http://127.0.0.1:9/hook' });
    expect(batch.request_counts.total).toBe(10);

    const status = await darkroom(stack, ['batch', 'status', batch.id]);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: batch.id, status: 'in_progress' });

    const canceled = await darkroom(stack, ['batch', 'cancel', batch.id]);
    expect(JSON.parse(canceled.stdout)).toMatchObject({ id: batch.id, status: 'finalizing', request_counts: { canceled: 10, queued: 0 } });

    const set = await darkroom(stack, ['tenants', 'limits', 'set', stack.tenant, '--max-waiting', '5', '--daily-images', '50000']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ tenant: stack.tenant, max_waiting: 5, daily_images: 50000 });
    expect(await stack.redis.hgetall(redisKeys(stack.prefix).tenantLimits(stack.tenant))).toEqual({ max_waiting: '5', daily_images: '50000' });
    const got = await darkroom(stack, ['tenants', 'limits', 'get', stack.tenant]);
    expect(JSON.parse(got.stdout)).toEqual({ tenant: stack.tenant, max_waiting: 5, daily_images: 50000, images_today: 10 });

    const refused = await darkroom(stack, ['batch', 'submit', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('HTTP 429');
    expect(refused.stderr).toContain('quota_exceeded');
    expect(await stack.redis.zcard(redisKeys(stack.prefix).tenantBatches(stack.tenant))).toBe(1);

    const bad = await darkroom(stack, ['tenants', 'limits', 'set', stack.tenant, '--max-waiting', 'lots']);
    expect(bad.code).toBe(2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('batch submit --wait shows progress until the batch ends, then writes results.jsonl: one line per item, in input order', async ({ launch, sim }) => {
  const stack = await launch();
  const N = 12;
  sim.failNext('sensitive_content_1301', 2);
  const dir = await mkdtemp(join(tmpdir(), 'darkroom-cli-'));
  try {
    const file = join(dir, 'prompts.jsonl');
    const out = join(dir, 'results.jsonl');
    await writeFile(file, Array.from({ length: N }, (_, i) => JSON.stringify({ model: 'cogview-4-250304', prompt: `wait ${i}`, size: '512x512', custom_id: `w${i}` })).join('\n') + '\n');

    const waited = await darkroom(stack, ['batch', 'submit', file, '--wait', '--out', out]);
    expect(waited.code, waited.stderr).toBe(0);
    // The bar's last line, drawn when the batch has ended.
    expect(waited.stderr).toMatch(new RegExp(`${N}/${N} done \\| 2 failed \\| [\\d.]+/s \\| ETA \\S+ \\| completed`));
    const ended = JSON.parse(waited.stdout) as { id: string; status: string; results_file: string; request_counts: Record<string, number> };
    expect(ended).toMatchObject({ status: 'completed', results_file: out, request_counts: { total: N, succeeded: N - 2, failed: 2, canceled: 0 } });

    const lines = (await readFile(out, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { custom_id: string; id: string; status: string; result: { sha256: string } | null; error: { code: string } | null });
    expect(lines.map((l) => l.custom_id)).toEqual(Array.from({ length: N }, (_, i) => `w${i}`));
    const ids = await batchItemIds(stack, ended.id);
    expect(lines.map((l) => l.id)).toEqual(ids);
    expect(lines.filter((l) => l.status === 'failed').map((l) => l.error?.code)).toEqual(['1301', '1301']);
    const issued = new Set(sim.issuedImages().map((img) => img.sha256));
    for (const line of lines.filter((l) => l.status === 'succeeded')) expect(issued.has(line.result!.sha256)).toBe(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
