/**
 * Ending a fleet pause without guessing: a free probe can pass while the account is still bad
 * (Z.AI may check parameters before the account), so the fleet sends one canary job first and
 * only a successful call releases it. An operator's pause is never lifted by the upkeep.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FleetState, redisKeys } from '@darkroom/shared';
import { describe, expect, test } from './fixtures.ts';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const body = { model: 'cogview-4-250304', prompt: 'canary', size: '512x512' };
const ADMIN = 'admin-token-0123456789';
const CLI = fileURLToPath(new URL('../../apps/api/src/cli.ts', import.meta.url));

const fleetOf = (stack: Stack) => new FleetState(stack.redis, redisKeys(stack.prefix), stack.queues.generate);

const admin = (stack: Stack, path: string, payload?: unknown) =>
  fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
  });

function cli(stack: Stack, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...stack.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe('resuming a paused fleet', () => {
  test('a probe that passes on a still-bad account releases one canary per cycle, backing off, until the account works', async ({ launch, sim }) => {
    const jobs = 4;
    const stack = await launch({ env: { ZAI_PAUSE_PROBE_MS: '200', ZAI_PAUSE_PROBE_MAX_MS: '800', WORKER_CONCURRENCY: String(jobs) } });
    sim.configure({ validateFirst: true, accountFault: 'balance_1113' });
    const refused = () => sim.stats().outcomes['429:1113'] ?? 0;
    const probes = () => sim.stats().outcomes['400:1213'] ?? 0;

    const ids = await Promise.all(Array.from({ length: jobs }, async () => String((await stack.generate(body)).body.id)));
    await waitUntil(async () => ((await stack.queues.generate.isPaused()) ? true : undefined), 'the fleet to pause');
    // Calls already in flight when the pause landed are the first wave; count from after it.
    await waitUntil(async () => {
      const records = await Promise.all(ids.map((id) => stack.generations.get(id)));
      const active = await stack.queues.generate.getActiveCount();
      return (active === 0 && records.every((r) => r?.status === 'queued')) || undefined;
    }, 'the first wave to settle');
    const [wave, probesBefore] = [refused(), probes()];

    // The probe passes every cycle here (a parameter error), yet the account still refuses.
    await waitUntil(() => probes() - probesBefore >= 5 || undefined, 'five probe cycles', 30_000);
    const canaries = refused() - wave;
    expect(canaries).toBeGreaterThanOrEqual(1);
    expect(canaries).toBeLessThanOrEqual(probes() - probesBefore);
    await waitUntil(async () => ((await fleetOf(stack).read())?.probeMs === 800 ? true : undefined), 'the probe interval to double up to its cap');
    expect(sim.stats().generations).toBe(0);

    sim.configure({ accountFault: null });
    for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');
    expect(sim.stats().generations).toBe(jobs);
    expect(await fleetOf(stack).read()).toBeUndefined();
    expect(await stack.queues.generate.isPaused()).toBe(false);
  });

  test('a pause set by an operator survives the upkeep: no probe, no call, until an admin resumes', async ({ launch, sim }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN, ZAI_PAUSE_PROBE_MS: '200' } });
    const missing = await admin(stack, '/admin/v1/fleet/pause', {});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: 'validation_error', details: [{ field: 'reason' }] } });

    const paused = await admin(stack, '/admin/v1/fleet/pause', { reason: 'invoice dispute with Z.AI' });
    expect(await paused.json()).toMatchObject({ paused: true, reason: { code: 'manual', manual: true, message: 'invoice dispute with Z.AI' } });
    const ids = await Promise.all([1, 2].map(async () => String((await stack.generate(body)).body.id)));
    await waitUntil(async () => ((await stack.queues.generate.getJobCountByTypes('paused')) === 2 ? true : undefined), 'both jobs held');

    // Ten probe intervals: an automatic pause would have been probed and lifted several times over.
    const until = Date.now() + 10 * 200;
    await waitUntil(() => Date.now() > until || undefined, 'ten probe intervals');
    expect(sim.stats().calls).toBe(0);
    expect(await stack.queues.generate.isPaused()).toBe(true);
    const ready = (await (await fetch(`${stack.apiUrl}/readyz`)).json()) as { generation: { paused: boolean; reason: { code: string } } };
    expect(ready.generation).toMatchObject({ paused: true, reason: { code: 'manual' } });

    const resumed = await admin(stack, '/admin/v1/fleet/resume');
    expect(await resumed.json()).toMatchObject({ resumed: true, was: { code: 'manual' } });
    for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');
  });

  test('the CLI pauses by hand with a required reason, and an automatic pause does not replace it', async ({ launch, sim }) => {
    const stack = await launch({ env: { ZAI_PAUSE_PROBE_MS: '200' } });
    expect((await cli(stack, ['fleet', 'pause'])).code).toBe(2);
    const paused = await cli(stack, ['fleet', 'pause', '--reason', 'Z.AI maintenance window']);
    expect(paused.code, paused.out).toBe(0);
    expect(JSON.parse(paused.out)).toMatchObject({ paused: true, reason: { code: 'manual', message: 'Z.AI maintenance window' } });

    await fleetOf(stack).pause({ code: '1113', message: 'arrears' });
    expect(await fleetOf(stack).read()).toMatchObject({ code: 'manual', manual: true });
    const until = Date.now() + 5 * 200;
    await waitUntil(() => Date.now() > until || undefined, 'five probe intervals');
    expect(sim.stats().calls).toBe(0);

    const resumed = await cli(stack, ['fleet', 'resume']);
    expect(JSON.parse(resumed.out)).toMatchObject({ resumed: true, was: { code: 'manual' } });
    expect(await stack.queues.generate.isPaused()).toBe(false);
  });
});
