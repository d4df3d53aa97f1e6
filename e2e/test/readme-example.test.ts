/** The README's first example (examples/src/generate.ts), run as a user would, against a real stack. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from './fixtures.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/src/generate.ts', import.meta.url));

describe('README example', () => {
  test('creates a generation, waits, and prints the stored image', async ({ launch, sim }) => {
    const stack = await launch();
    const { stdout } = await promisify(execFile)(process.execPath, [EXAMPLE, 'a red bicycle leaning on a wall'], {
      env: { PATH: process.env.PATH ?? '', DARKROOM_URL: stack.apiUrl, DARKROOM_KEY: stack.apiKey },
      timeout: 30_000,
    });
    const job = JSON.parse(stdout) as { status: string; request: { prompt: string }; result: { sha256: string } };
    expect(job.status).toBe('succeeded');
    expect(job.request.prompt).toBe('a red bicycle leaning on a wall');
    expect(job.result.sha256).toBe(sim.issuedImages()[0]!.sha256);
  });
});
