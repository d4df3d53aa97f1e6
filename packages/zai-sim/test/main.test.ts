import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', ZAI_SIM_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const firstLine = new Promise<string>((resolve, reject) => {
    const onData = () => {
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve(stdout.slice(0, newline));
    };
    child.stdout.on('data', onData);
    void exited.then(([code]) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  firstLine.catch(() => undefined);
  return { child, firstLine, exited, output: () => ({ stdout, stderr }) };
}

describe('CLI (node src/main.ts)', () => {
  it('prints one JSON "listening" line, serves the API, and exits 0 on SIGTERM', async () => {
    const proc = run({ ZAI_SIM_PORT: '0', ZAI_SIM_API_KEY: 'cli-key', ZAI_SIM_LATENCY_MS: '0-10', ZAI_SIM_FAULTS: 'rate429=0' });
    try {
      const line = JSON.parse(await proc.firstLine) as { url: string; origin: string };
      expect(line).toEqual({ event: 'listening', url: expect.any(String), origin: expect.any(String), apiKey: 'cli-key' });
      expect(line.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(line.url).toBe(`${line.origin}/api/paas/v4`);

      const res = await fetch(`${line.url}/images/generations`, {
        method: 'POST',
        headers: { authorization: 'Bearer cli-key', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'cogview-4-250304', prompt: 'from a child process' }),
        signal: AbortSignal.timeout(5_000),
      });
      expect(res.status).toBe(200);
      const stats = (await (await fetch(`${line.origin}/_sim/stats`)).json()) as { generations: number };
      expect(stats.generations).toBe(1);
      const config = (await (await fetch(`${line.origin}/_sim/config`)).json()) as { latencyMs: unknown };
      expect(config.latencyMs).toEqual({ standard: [0, 10], hd: [0, 20] });
    } finally {
      proc.child.kill('SIGTERM');
    }
    const [code] = await proc.exited;
    expect(code).toBe(0);
  });

  it.each([
    ['ZAI_SIM_PORT', 'abc'],
    ['ZAI_SIM_PORT', '70000'],
    ['ZAI_SIM_LATENCY_MS', '10-5'],
    ['ZAI_SIM_FAULTS', 'rate429=2'],
    ['ZAI_SIM_FAULTS', 'rate42=0.1'],
    ['ZAI_SIM_IMAGE_DELAY_MS', '-1'],
    ['ZAI_SIM_URL_TTL_MS', 'soon'],
  ])('exits non-zero naming %s when it is %j', async (name, value) => {
    const proc = run({ ZAI_SIM_PORT: '0', [name]: value });
    const [code] = await proc.exited;
    expect(code).not.toBe(0);
    expect(proc.output().stderr).toContain(name);
    expect(proc.output().stdout).toBe('');
  });
});
