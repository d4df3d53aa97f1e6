/**
 * `pnpm dev` with nothing configured: it starts its own Redis, S3 store and simulator, runs the
 * API and a worker, prints a working key, and Ctrl-C (SIGINT) stops every process it started.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@darkroom/local-stack';
import { describe, expect, test } from 'vitest';
import { waitUntil } from './wait.ts';

const DEV_MAIN = fileURLToPath(new URL('../../apps/dev/src/main.ts', import.meta.url));

function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('pnpm dev', () => {
  test('runs the whole system from nothing and stops all of it on Ctrl-C', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'darkroom-dev-'));
    const port = await freePort();
    const silentRedis = `redis://127.0.0.1:${await freePort()}`;
    const child = spawn(process.execPath, [DEV_MAIN], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port), REDIS_URL: silentRedis, DARKROOM_DEV_DIR: dir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitUntil(() => out.includes('Ctrl-C stops everything'), 'pnpm dev to come up', 60_000, 100).catch((err: unknown) => {
        throw new Error(`${String(err)}\n--- output ---\n${out}`);
      });
      expect(out).toMatch(/ZAI_API_KEY is not set: using the Z\.AI SIMULATOR/);
      expect(out).toContain('starting a private redis-server');
      const redis = /private redis-server at (redis:\/\/\S+)/.exec(out)?.[1];
      const apiKey = /API key: +(dk_\S+)/.exec(out)?.[1];
      expect(redis).toBeDefined();
      expect(apiKey).toBeDefined();
      const api = `http://127.0.0.1:${port}`;
      const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };

      const created = await fetch(`${api}/v1/images/generations`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'cogview-4-250304', prompt: 'a red bicycle', size: '512x512' }),
      });
      expect(created.status).toBe(202);
      const { id } = (await created.json()) as { id: string };
      const job = await waitUntil(
        async () => {
          const body = (await (await fetch(`${api}/v1/images/generations/${id}`, { headers })).json()) as {
            status: string;
            result?: { url: string; sha256: string };
          };
          return body.status === 'succeeded' ? body : undefined;
        },
        'the generation to succeed',
        30_000,
      );
      const png = Buffer.from(await (await fetch(job.result!.url)).arrayBuffer());
      expect(createHash('sha256').update(png).digest('hex')).toBe(job.result!.sha256);
      const s3 = new URL(job.result!.url).origin;

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      for (const url of [api, s3, redis!]) expect(await listening(url), url).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
