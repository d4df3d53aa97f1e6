/**
 * Several 10,000-request JSON batches (about 31 MB each, parsed whole) POSTed at once to one API
 * started with JSON_CONCURRENT_FLAGS as NODE_OPTIONS: whether each is accepted, and the API's peak RSS.
 */
import { createTenant, startApi } from './harness/darkroom.ts';
import { startServices } from './harness/services.ts';

const MB = 1024 * 1024;
const n = Number(process.env.JSON_CONCURRENT ?? 3);
const flags = process.env.JSON_CONCURRENT_FLAGS ?? '';
const body = (b: number) => JSON.stringify({
  requests: Array.from({ length: 10_000 }, (_, i) => ({
    custom_id: `b${b}-${i}`,
    model: 'cogview-4-250304',
    prompt: `${'a ceramic mug on a white table, soft daylight, 45 degree angle; '.repeat(45)} ${b}-${i}`,
    size: '1024x1024',
    metadata: { sku: `SKU${i}`, line: i },
  })),
});
const services = await startServices();
try {
  const { apiKey } = await createTenant(services);
  const api = await startApi(services, flags ? { NODE_OPTIONS: flags } : {});
  const bodies = Array.from({ length: n }, (_, b) => body(b));
  console.log(`bodies: ${bodies.map((x) => (Buffer.byteLength(x) / MB).toFixed(1)).join(', ')} MB`);
  const results = await Promise.all(bodies.map((b) => fetch(`${api.url}/v1/batches`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: b }).then((r) => r.status, (e: unknown) => String(e))));
  const alive = api.child.process.exitCode === null && api.child.process.signalCode === null;
  console.log(`flags '${flags}': ${n} at once: statuses ${results.join(', ')}; API alive ${alive}; peak RSS ${((await api.child.peakRss()) / MB).toFixed(0)} MB`);
  if (!alive) console.log(api.child.output().slice(-1500));
  await api.child.stop();
} finally {
  await services.stop();
}
process.exit(0);
