import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, TransientError } from '@darkroom/shared';
import { createZaiClient } from '../src/zai-client.ts';

const REQUEST = { model: 'cogview-4-250304', prompt: 'p', quality: 'standard' as const, size: '1024x1024' };
const ANSWER = JSON.stringify({ created: 1, data: [{ url: 'http://127.0.0.1:1/image.png' }], content_filter: [] });

function busyFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // The event loop is held, as under a CPU-bound neighbour: timers come due meanwhile.
  }
}

describe('Z.AI client deadline', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  const start = async (handler: Parameters<typeof createServer>[1]) => {
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const zai = loadConfig({ ZAI_BASE_URL: `http://127.0.0.1:${port}/api/paas/v4`, ZAI_TIMEOUT_MS: '200' }).zai;
    return createZaiClient({ ...zai, apiKey: 'test-key' });
  };

  it('keeps an answer that arrived before the deadline fired, even when the loop was too busy to read it', async () => {
    const client = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
      // The answer is in the caller's socket buffer; the deadline comes due while nothing runs.
      busyFor(600);
    });
    await expect(client.generate(REQUEST)).resolves.toMatchObject({ created: 1 });
  });

  it('times out a call that has no answer', async () => {
    const client = await start(() => undefined);
    const err = await client.generate(REQUEST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).code).toBe('zai_timeout');
  });
});
