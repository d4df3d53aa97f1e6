/**
 * `darkroom batch …` (over HTTP, as a tenant) and `darkroom tenants limits …` (Redis), run as the
 * operator runs them: a child process of the real CLI against a running stack.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { redisKeys } from '@darkroom/shared';
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
