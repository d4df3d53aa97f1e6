import { startTracing } from '@darkroom/shared';
import { describe, expect, test } from './fixtures.ts';
import { startOtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';

describe('tracing', () => {
  test('one generation is one trace across the API and a worker process: api, generate, Z.AI, store, S3, notify', async ({ launch }) => {
    const receiver = await startOtlpReceiver();
    const tracing = startTracing({ endpoint: receiver.url, serviceName: 'darkroom-api' });
    if (!tracing) throw new Error('startTracing returned nothing for an endpoint');
    try {
      const stack = await launch({ worker: false, telemetry: tracing.telemetry });
      const worker = stack.spawnWorker({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      const created = await stack.generate({ model: 'cogview-4-250304', prompt: 'traced', webhook_url: stack.receiver.url });
      const id = String(created.body.id);
      expect((await stack.waitForStatus(id, ['succeeded', 'failed'])).status).toBe('succeeded');
      await expect
        .poll(async () => (await stack.request<{ webhook: { status: string } }>('GET', `/v1/images/generations/${id}/deliveries`)).body.webhook.status)
        .toBe('delivered');
      // Both processes flush what they buffered when they stop.
      expect(await worker.kill('SIGTERM'), worker.output()).toBe(0);
      await tracing.shutdown();

      const root = receiver.spans.find((s) => s.service === 'darkroom-api' && s.name === 'POST /v1/images/generations');
      expect(root, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
      const trace = receiver.spans.filter((s) => s.traceId === root?.traceId);
      const byId = new Map(trace.map((s) => [s.spanId, s]));
      /** The chain of span names from a span up to the trace's root. */
      const ancestry = (s: ReceivedSpan): string[] => {
        const parent = byId.get(s.parentSpanId);
        return parent ? [s.name, ...ancestry(parent)] : [s.name];
      };
      const named = (name: string) => {
        const found = trace.find((s) => s.name === name);
        if (!found) throw new Error(`no span ${name} in the trace: ${JSON.stringify(trace.map((s) => `${s.service}:${s.name}`))}`);
        return found;
      };

      expect(named('process generate').service).toBe('darkroom-worker');
      expect(ancestry(named('zai.generate'))).toEqual(['zai.generate', 'process generate', 'add generate.generate', 'POST /v1/images/generations']);
      expect(ancestry(named('s3.copy')).slice(0, 3)).toEqual(['s3.copy', 'process store', 'add store.store']);
      expect(ancestry(named('s3.copy'))).toContain('process generate');
      expect(ancestry(named('webhook.send')).slice(0, 3)).toEqual(['webhook.send', 'process notify', 'add notify.notify']);
      expect(ancestry(named('webhook.send')).at(-1)).toBe('POST /v1/images/generations');
    } finally {
      await tracing.shutdown();
      await receiver.close();
    }
  });
});
