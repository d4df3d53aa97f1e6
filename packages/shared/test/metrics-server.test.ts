import { describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { startMetricsServer } from '../src/metrics-server.ts';

describe('startMetricsServer', () => {
  it('serves the registry on /metrics, answers checks by their result, and 404 for anything else', async () => {
    const registry = new Registry();
    new Counter({ name: 'probe_total', help: 'a probe', registers: [registry] }).inc(3);
    let ready = false;
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      healthz: () => Promise.resolve(true),
      readyz: () => (ready ? Promise.resolve(true) : Promise.reject(new Error('redis is away'))),
    });
    try {
      const metrics = await fetch(`${server.url}/metrics`);
      expect(metrics.headers.get('content-type')).toBe(registry.contentType);
      expect(await metrics.text()).toContain('probe_total 3');
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${server.url}/readyz`);
      expect([notReady.status, await notReady.json()]).toEqual([503, { status: 'unavailable' }]);
      ready = true;
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${server.url}/v1/images/generations`)).status).toBe(404);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('has no health routes it was not given', async () => {
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: new Registry() });
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
