import { readFile } from 'node:fs/promises';
import { freePort } from '@darkroom/local-stack';
import { expectPaid } from './billing.ts';
import { describe, expect, test } from './fixtures.ts';
import { sample, scrape } from './scrape.ts';
import { waitUntil } from './wait.ts';

const body = { model: 'cogview-4-250304', prompt: 'counted', size: '512x512' };

describe('paid and stored counters', () => {
  test('after N jobs the metrics port shows N paid generations, N stored images and a ratio of 1', async ({ launch, sim }) => {
    const stack = await launch();
    expect(await sample(stack.metricsUrl, 'darkroom_generations_paid_total')).toBe(0);
    expect(await sample(stack.metricsUrl, 'darkroom_paid_per_stored_ratio')).toBeNaN();

    const N = 5;
    const ids = await Promise.all(Array.from({ length: N }, async () => String((await stack.generate(body)).body.id)));
    for (const id of ids) expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');

    await expectPaid(sim, { jobs: N, undelivered: 0 });
    await expect.poll(() => sample(stack.metricsUrl, 'darkroom_generations_paid_total')).toBe(N);
    // Counted just after the record turns succeeded.
    await expect.poll(() => sample(stack.metricsUrl, 'darkroom_images_stored_total')).toBe(N);
    expect(await sample(stack.metricsUrl, 'darkroom_paid_per_stored_ratio')).toBe(1);
  });

  test('a regeneration after an expired URL shows as a ratio above 1', async ({ launch, sim }) => {
    const stack = await launch();
    sim.failNext('image_expired');
    const id = String((await stack.generate(body)).body.id);
    expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');
    await expect.poll(() => sample(stack.metricsUrl, 'darkroom_generations_paid_total')).toBe(2);
    await expect.poll(() => sample(stack.metricsUrl, 'darkroom_images_stored_total')).toBe(1);
    expect(await sample(stack.metricsUrl, 'darkroom_paid_per_stored_ratio')).toBe(2);
  });
});

describe('metrics ports', () => {
  test('the public API port does not serve /metrics', async ({ launch }) => {
    const stack = await launch({ worker: false });
    expect((await fetch(`${stack.apiUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${stack.metricsUrl}/metrics`)).status).toBe(200);
  });

  test('one generation moves the worker process metrics and the API request metrics', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const port = await freePort();
    const worker = stack.spawnWorker({ METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' });
    const workerUrl = `http://127.0.0.1:${port}`;
    await waitUntil(async () => (await fetch(`${workerUrl}/readyz`)).status === 200, `the worker's /readyz (${worker.output()})`);
    expect((await fetch(`${workerUrl}/healthz`)).status).toBe(200);

    const created = await stack.generate({ ...body, webhook_url: stack.receiver.url });
    expect(created.status).toBe(202);
    const id = String(created.body.id);
    const done = await stack.waitForStatus(id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    await expect
      .poll(async () => (await stack.request<{ webhook: { status: string } }>('GET', `/v1/images/generations/${id}/deliveries`)).body.webhook.status)
      .toBe('delivered');

    // A job's run is timed, and BullMQ marks it completed, just after its processor's last write.
    for (const queue of ['store', 'notify']) {
      await expect.poll(async () => (await scrape(workerUrl)).get(`darkroom_job_duration_seconds_count{queue="${queue}",outcome="ok"}`)).toBe(1);
    }
    await expect.poll(() => sample(stack.metricsUrl, 'darkroom_queue_jobs{queue="notify",state="completed"}')).toBe(1);
    const w = await scrape(workerUrl);
    expect(w.get('darkroom_zai_responses_total{status="200",code=""}')).toBe(1);
    expect(w.get('darkroom_stage_duration_seconds_count{stage="zai_call",outcome="ok"}')).toBe(1);
    expect(w.get('darkroom_stage_duration_seconds_count{stage="copy",outcome="ok"}')).toBe(1);
    expect(w.get('darkroom_stage_duration_seconds_count{stage="webhook",outcome="ok"}')).toBe(1);
    expect(w.get('darkroom_webhook_attempts_total{outcome="delivered"}')).toBe(1);
    expect(w.get('darkroom_s3_bytes_written_total')).toBe((done.result as { bytes: number }).bytes);
    expect(w.get('darkroom_job_duration_seconds_count{queue="generate",outcome="ok"}')).toBe(1);
    expect(w.get('darkroom_job_duration_seconds_count{queue="store",outcome="ok"}')).toBe(1);
    expect(w.get('darkroom_job_duration_seconds_count{queue="notify",outcome="ok"}')).toBe(1);
    expect(w.get('process_cpu_user_seconds_total')).toBeGreaterThan(0);

    const a = await scrape(stack.metricsUrl);
    expect(a.get('darkroom_http_request_duration_seconds_count{method="POST",route="/v1/images/generations",status_code="202"}')).toBe(1);
    expect(a.get('darkroom_http_request_duration_seconds_count{method="GET",route="/v1/images/generations/:id",status_code="200"}')).toBeGreaterThan(0);
    expect(a.get('darkroom_generation_paused{reason=""}')).toBe(0);
    expect(a.get('darkroom_zai_concurrency_ceiling')).toBe(stack.config.zai.maxConcurrency);
    for (const queue of ['generate', 'store', 'notify']) expect(a.get(`darkroom_queue_jobs{queue="${queue}",state="completed"}`)).toBe(1);
    expect(a.get('darkroom_generations_paid_total')).toBe(1);

    // The alert rules and the dashboard only name series that the two ports really serve.
    const served = [...w.keys(), ...a.keys()];
    for (const file of ['prometheus/alerts.yml', 'grafana/darkroom.json']) {
      const text = await readFile(new URL(`../../deploy/${file}`, import.meta.url), 'utf8');
      const names = new Set(text.match(/darkroom_[a-z0-9_]+/g));
      expect(names.size, file).toBeGreaterThan(5);
      for (const name of names) expect(served.some((series) => series === name || series.startsWith(`${name}{`)), `${file}: ${name}`).toBe(true);
    }
  });
});
