import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';
import type { Stack } from './stack.ts';

const body = { model: 'cogview-4-250304', prompt: 'counted', size: '512x512' };

/** The value of one unlabelled sample in the Prometheus text. */
async function sample(stack: Stack, name: string): Promise<number> {
  const text = await (await fetch(`${stack.apiUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${name} is missing from /metrics:\n${text}`);
  return Number(line.slice(name.length + 1));
}

describe('paid and stored counters', () => {
  test('after N jobs /metrics shows N paid generations, N stored images and a ratio of 1', async ({ launch, sim }) => {
    const stack = await launch();
    expect(await sample(stack, 'darkroom_generations_paid_total')).toBe(0);
    expect(await sample(stack, 'darkroom_paid_per_stored_ratio')).toBeNaN();

    const N = 5;
    const ids = await Promise.all(Array.from({ length: N }, async () => String((await stack.generate(body)).body.id)));
    for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');

    await expectPaid(sim, { jobs: N, undelivered: 0 });
    expect(await sample(stack, 'darkroom_generations_paid_total')).toBe(N);
    expect(await sample(stack, 'darkroom_images_stored_total')).toBe(N);
    expect(await sample(stack, 'darkroom_paid_per_stored_ratio')).toBe(1);
  });

  test('a regeneration after an expired URL shows as a ratio above 1', async ({ launch, sim }) => {
    const stack = await launch();
    sim.failNext('image_expired');
    const id = String((await stack.generate(body)).body.id);
    expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');
    expect(await sample(stack, 'darkroom_generations_paid_total')).toBe(2);
    expect(await sample(stack, 'darkroom_images_stored_total')).toBe(1);
    expect(await sample(stack, 'darkroom_paid_per_stored_ratio')).toBe(2);
  });
});
