import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

async function runUntilListening(args: string[]): Promise<{ line: Record<string, unknown>; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
    });
    return {
      line: JSON.parse(first) as Record<string, unknown>,
      stop: () => {
        child.kill('SIGINT');
        return exited;
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

describe('main.ts CLI', () => {
  it('s3: prints the listening line, serves, and stops on SIGINT keeping --dir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'darkroom-cli-test-'));
    try {
      const s3dir = join(dir, 's3');
      const { line, stop } = await runUntilListening(['s3', '--port', '0', '--dir', s3dir]);
      expect(line).toMatchObject({ event: 'listening', bucket: 'darkroom', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
      expect(String(line.endpoint)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(String(line.endpoint));
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<Name>darkroom</Name>');
      expect(await stop()).toBe(0);
      expect(existsSync(s3dir)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('redis: prints the listening line and stops on SIGINT', async () => {
    const { line, stop } = await runUntilListening(['redis']);
    expect(line).toMatchObject({ event: 'listening' });
    expect(String(line.url)).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const pid = Number(line.pid);
    expect(await stop()).toBe(0);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(String(line.dir))).toBe(false);
  });
});
