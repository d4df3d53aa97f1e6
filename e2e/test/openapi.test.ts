/**
 * The OpenAPI documents match the running API: every route Fastify registers is in one of them,
 * every example matches its schema, and real answers match the documented schemas.
 */
import { readFile } from 'node:fs/promises';
import { CLIENT_TYPES, renderClientTypes } from './client-types.ts';
import { Contract, fetchDocuments, type OpenApiDocument } from './contract.ts';
import { describe, expect, test } from './fixtures.ts';
import { waitUntil } from './wait.ts';

const ADMIN = 'admin-token-for-openapi-tests';
const valid = { model: 'cogview-4-250304', prompt: 'a cat' };

/**
 * Routes that are not part of the API and so in no document: the documents themselves, the
 * reference UI with its script, and Bull Board's pages, API and assets under /admin/queues.
 * Fastify's automatic HEAD twin of each GET is left out too.
 */
const UNDOCUMENTED = new Set(['GET /openapi.json', 'GET /admin/openapi.json', 'GET /docs', 'GET /docs/', 'GET /docs/js/scalar.js']);
// The admin pages (/admin/batches/:id, /admin/tenants/:tenant/batches) are HTML for people, not API.
const UNDOCUMENTED_UNDER = ['/admin/queues', '/admin/batches/', '/admin/tenants/'];
const undocumented = (route: string) => UNDOCUMENTED.has(route) || UNDOCUMENTED_UNDER.some((prefix) => route.split(' ')[1]?.startsWith(prefix));

/** Fastify's `/a/:id` as OpenAPI's `/a/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Operations listed without a schema of their own: @fastify/swagger lists every route, and gives
 * one that declares nothing just a summary-less 200 "Default Response".
 */
function schemaless(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, op]) => !op.summary || Object.values(op.responses).some((r) => r.description === 'Default Response'))
      .map(([m]) => `${m.toUpperCase()} ${path}`),
  );
}

function documented(doc: OpenApiDocument): Set<string> {
  return new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)));
}

describe('OpenAPI documents', () => {
  test('every route Fastify registers is documented, public ones in /openapi.json and admin ones in /admin/openapi.json', async ({ launch }) => {
    const routes: Array<{ method: string | string[]; url: string }> = [];
    const stack = await launch({ worker: false, env: { ADMIN_TOKEN: ADMIN }, onRoute: (route) => routes.push(route) });
    const docs = await fetchDocuments(stack.apiUrl, ADMIN);
    expect(docs.public.openapi).toBe('3.1.0');
    expect(docs.admin.openapi).toBe('3.1.0');
    const inPublic = documented(docs.public);
    const inAdmin = documented(docs.admin);

    const registered = routes
      .flatMap((r) => [r.method].flat().map((method) => `${method} ${openApiPath(r.url)}`))
      .filter((route) => !route.startsWith('HEAD '));
    // A sanity check of the collection itself: it saw the API's routes.
    expect(registered).toContain('POST /v1/images/generations');
    expect(registered).toContain('GET /admin/fleet');

    const missing = registered.filter((route) => !undocumented(route) && !inPublic.has(route) && !inAdmin.has(route));
    expect(missing, 'registered routes missing from the documents: give each a `schema` (apps/api/src/openapi.ts)').toEqual([]);
    expect([...schemaless(docs.public), ...schemaless(docs.admin)], 'listed without a schema: give each a `schema` (apps/api/src/openapi.ts)').toEqual([]);
    expect([...inPublic].filter((route) => route.includes(' /admin/'))).toEqual([]);
    expect([...inAdmin].filter((route) => !route.includes(' /admin/'))).toEqual([]);
    // And nothing is documented that is not served.
    expect([...inPublic, ...inAdmin].filter((route) => !registered.includes(route))).toEqual([]);
  });

  test('every example in both documents matches its schema', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { ADMIN_TOKEN: ADMIN } });
    const docs = await fetchDocuments(stack.apiUrl, ADMIN);
    for (const doc of [docs.public, docs.admin]) {
      const contract = new Contract(doc);
      const examples = contract.examples();
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) expect(contract.problems(example.schema, example.value), example.at).toEqual([]);
    }
    // The check can fail: a wrong example is caught.
    const contract = new Contract(docs.public);
    expect(contract.problems(['components', 'schemas', 'Generation'], { id: 'gen_1', status: 'lost' })).not.toEqual([]);
  });

  test('the request examples are accepted by the API itself', async ({ launch }) => {
    const stack = await launch({ worker: false, env: { ADMIN_TOKEN: ADMIN } });
    const contract = new Contract((await fetchDocuments(stack.apiUrl, ADMIN)).public);
    const bodies = contract.examples().filter((e) => e.at.includes('/requestBody/') && e.schema.at(-1) === 'schema');
    expect(bodies.length).toBeGreaterThan(0);
    for (const example of bodies) {
      const res = await stack.generate(example.value as Record<string, unknown>);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
    }
  });

  test("real answers match the documented schemas, the generation's every field included", async ({ launch }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN } });
    const contract = new Contract((await fetchDocuments(stack.apiUrl, ADMIN)).public);
    const admin = new Contract((await fetchDocuments(stack.apiUrl, ADMIN)).admin);
    const check = (c: Contract, method: string, url: string, res: { status: number; body: unknown }) =>
      expect(c.responseProblems(method, url, res.status, res.body), `${method} ${url} ${res.status} ${JSON.stringify(res.body)}`).toEqual([]);

    const created = await stack.generate({ ...valid, webhook_url: stack.receiver.url, metadata: { order: 7 } });
    expect(created.status).toBe(202);
    check(contract, 'POST', '/v1/images/generations', created);
    const id = String(created.body.id);
    const done = await stack.waitForStatus(id, ['succeeded']);
    const read = await stack.request('GET', `/v1/images/generations/${id}`);
    check(contract, 'GET', `/v1/images/generations/${id}`, read);
    expect(read.body.status).toBe(done.status);
    // Every documented field is there (but those of a batch item and a retried one): nothing was left out on the way out.
    const generation = contract.doc.components?.schemas?.Generation as { properties: Record<string, unknown> };
    expect(Object.keys(read.body).sort()).toEqual(Object.keys(generation.properties).filter((k) => !['batch_id', 'retries', 'history'].includes(k)).sort());
    expect(read.body.result).toMatchObject({ url: expect.any(String), width: 1024, height: 1024 });
    const deliveries = await waitUntil(async () => {
      const res = await stack.request<{ deliveries: unknown[] }>('GET', `/v1/images/generations/${id}/deliveries`);
      return res.body.deliveries.length > 0 ? res : undefined;
    }, 'a webhook delivery to be recorded');
    check(contract, 'GET', `/v1/images/generations/${id}/deliveries`, deliveries);
    // The webhook's body is the document's GenerationEvent, which its `webhooks` name for the event.
    const [delivery] = await stack.receiver.waitFor((d) => d.length > 0);
    expect(contract.problems(['components', 'schemas', 'GenerationEvent'], delivery!.payload)).toEqual([]);
    expect(Object.keys(contract.doc.webhooks ?? {})).toContain(delivery!.payload!.type);

    for (const [method, url, body] of [
      ['POST', '/v1/images/generations', { model: 'x', prompt: '' }],
      ['POST', '/v1/images/generations', '{"model": '],
      ['GET', '/v1/images/generations/gen_00000000000000000000000000000000', undefined],
      ['GET', '/healthz', undefined],
      ['GET', '/readyz', undefined],
      ['GET', '/v1/batches/batch_nope/results.jsonl', undefined],
    ] as const) {
      check(contract, method, url, await stack.request(method, url, body));
    }
    const unauthorized = await stack.request('GET', `/v1/images/generations/${id}`, undefined, { authorization: 'Bearer dk_nope' });
    check(contract, 'GET', `/v1/images/generations/${id}`, unauthorized);

    const asAdmin = { authorization: `Bearer ${ADMIN}` };
    const adminCalls: Array<[string, string, unknown]> = [
      ['GET', '/admin/v1/fleet', undefined],
      ['POST', '/admin/v1/fleet/pause', { reason: 'contract test' }],
      ['GET', '/admin/fleet', undefined],
      ['POST', '/admin/v1/fleet/pause', { reason: '' }],
      ['POST', '/admin/v1/fleet/drain', { reason: 'deploy' }],
      ['GET', '/admin/v1/fleet', undefined],
      ['POST', '/admin/v1/fleet/resume', undefined],
      ['POST', `/admin/v1/generations/${id}/webhook/redeliver`, undefined],
      ['GET', '/admin/v1/audit?limit=5', undefined],
      ['GET', '/admin/v1/audit?limit=0', undefined],
      ['GET', '/admin/v1/tenants', undefined],
      ['PUT', `/admin/v1/tenants/${stack.tenant}/rate-limit`, { per_second: 1000 }],
      ['PUT', `/admin/v1/tenants/${stack.tenant}/rate-limit`, { per_second: null }],
      ['POST', `/admin/v1/tenants/${stack.tenant}/webhook-secret/rotate`, { grace_hours: 0 }],
      ['POST', `/admin/v1/tenants/${stack.tenant}/keys/key_nope/revoke`, undefined],
      ['POST', '/admin/v1/tenants/nobody/keys/key_nope/revoke', undefined],
    ];
    for (const [method, url, body] of adminCalls) check(admin, method, url, await stack.request(method, url, body, asAdmin));
    check(admin, 'GET', '/admin/v1/fleet', await stack.request('GET', '/admin/v1/fleet'));
  });

  test("the batch, list and retry routes answer as documented, and batch.completed's body is the document's BatchEvent", async ({ launch }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN } });
    const docs = await fetchDocuments(stack.apiUrl, ADMIN);
    const contract = new Contract(docs.public);
    const admin = new Contract(docs.admin);
    const asAdmin = { authorization: `Bearer ${ADMIN}` };
    const check = (c: Contract, method: string, url: string, res: { status: number; body: unknown }) =>
      expect(c.responseProblems(method, url, res.status, res.body), `${method} ${url} ${res.status} ${JSON.stringify(res.body)}`).toEqual([]);

    // Both bodies POST /v1/batches takes are documented, and the results as JSON lines.
    expect(Object.keys(contract.doc.paths['/v1/batches']?.post?.requestBody?.content ?? {}).sort()).toEqual(['application/json', 'application/x-ndjson']);
    expect(Object.keys(contract.doc.paths['/v1/batches/{id}/results.jsonl']?.get?.responses['200']?.content ?? {})).toEqual(['application/x-ndjson']);

    const submitted = await stack.request('POST', '/v1/batches', {
      requests: [{ ...valid, custom_id: 'a' }, { ...valid, prompt: 'a dog', custom_id: 'b' }],
      webhook_url: stack.receiver.url,
      metadata: { campaign: 'contract' },
    });
    expect(submitted.status).toBe(202);
    check(contract, 'POST', '/v1/batches', submitted);
    const id = String(submitted.body.id);
    // The webhook body is the document's BatchEvent, which its `webhooks` name for the event.
    const [delivery] = await stack.receiver.waitFor((d) => d.some((x) => x.payload?.type === 'batch.completed'));
    expect(delivery!.payload).toMatchObject({ type: 'batch.completed', data: { id, status: 'completed' } });
    expect(contract.problems(['components', 'schemas', 'BatchEvent'], delivery!.payload)).toEqual([]);
    expect(contract.problems(['components', 'schemas', 'BatchEvent'], { ...delivery!.payload, data: { id } })).not.toEqual([]);
    expect(Object.keys(contract.doc.webhooks ?? {})).toContain('batch.completed');

    const upload = await stack.request('POST', '/v1/batches?metadata=%7B%22k%22%3A1%7D', `${JSON.stringify({ ...valid, custom_id: 'x' })}\n`, { 'content-type': 'application/x-ndjson' });
    expect(upload.status).toBe(202);
    check(contract, 'POST', '/v1/batches', upload);
    const bad = await stack.request('POST', '/v1/batches', { requests: [valid, { model: 'x', prompt: 'a dog' }] });
    expect(bad.body).toMatchObject({ error: { code: 'validation_error', bad_lines: 1, details: [{ line: 2 }] } });
    check(contract, 'POST', '/v1/batches', bad);

    const item = await stack.request<{ data: Array<{ id: string }> }>('GET', `/v1/batches/${id}/items`);
    const generation = item.body.data[0]!.id;
    for (const [method, url] of [
      ['GET', '/v1/batches'],
      ['GET', '/v1/batches?limit=1'],
      ['GET', '/v1/batches?limit=0'],
      ['GET', `/v1/batches/${id}`],
      ['GET', '/v1/batches/batch_00000000000000000000000000000000'],
      ['GET', `/v1/batches/${id}/items`],
      ['GET', `/v1/batches/${id}/items?status=succeeded&limit=1`],
      ['POST', `/v1/batches/${id}/cancel`],
      ['GET', '/v1/images/generations'],
      ['GET', `/v1/images/generations?batch_id=${id}&limit=1`],
      ['GET', '/v1/images/generations?status=lost'],
      ['POST', `/v1/images/generations/${generation}/cancel`],
    ] as const) {
      check(contract, method, url, await stack.request(method, url));
    }
    expect((await stack.request('POST', `/v1/batches/${id}/cancel`)).status).toBe(409);

    const adminCalls: Array<[string, string, unknown]> = [
      ['GET', '/admin/v1/generations', undefined],
      ['GET', `/admin/v1/generations?tenant=${stack.tenant}&paid=true&limit=1`, undefined],
      ['GET', '/admin/v1/generations?limit=1000', undefined],
      ['POST', `/admin/v1/generations/${generation}/retry`, {}],
      ['POST', '/admin/v1/generations/gen_00000000000000000000000000000000/retry', {}],
      ['POST', '/admin/v1/retries', { filter: { tenant: stack.tenant }, dry_run: true }],
      ['POST', '/admin/v1/retries', { ids: [generation] }],
      ['POST', '/admin/v1/retries', { ids: [generation], filter: {} }],
      ['GET', '/admin/v1/retries', undefined],
      ['GET', '/admin/v1/retries/retry_nope', undefined],
    ];
    for (const [method, url, body] of adminCalls) check(admin, method, url, await stack.request(method, url, body, asAdmin));
    const retries = await stack.request<{ data: Array<{ id: string }> }>('GET', '/admin/v1/retries', undefined, asAdmin);
    const retry = retries.body.data[0]!.id;
    check(admin, 'GET', `/admin/v1/retries/${retry}`, await stack.request('GET', `/admin/v1/retries/${retry}`, undefined, asAdmin));
    // 200 if it still runs, 409 once it has ended: both are documented.
    check(admin, 'POST', `/admin/v1/retries/${retry}/abort`, await stack.request('POST', `/admin/v1/retries/${retry}/abort`, undefined, asAdmin));
  });

  test('/admin/openapi.json needs the admin token, and does not exist without admin', async ({ launch }) => {
    const withAdmin = await launch({ worker: false, env: { ADMIN_TOKEN: ADMIN } });
    expect((await withAdmin.request('GET', '/admin/openapi.json')).status).toBe(401);
    const without = await launch({ worker: false });
    expect((await without.request('GET', '/admin/openapi.json', undefined, { authorization: `Bearer ${ADMIN}` })).status).toBe(404);
    const pub = await without.request<OpenApiDocument>('GET', '/openapi.json', undefined, { authorization: '' });
    expect(pub.status).toBe(200);
    expect(Object.keys(pub.body.paths)).toContain('/v1/images/generations');
  });

  test("the typed client's generated types are those of the served documents (else: pnpm client:generate)", async ({ launch }) => {
    const stack = await launch({ worker: false, env: { ADMIN_TOKEN: ADMIN } });
    const docs = await fetchDocuments(stack.apiUrl, ADMIN);
    for (const [which, { file, source }] of Object.entries(CLIENT_TYPES)) {
      const committed = await readFile(file, 'utf8');
      const current = await renderClientTypes(docs[which as keyof typeof docs], source);
      expect(committed === current, `${file.pathname} is stale: run pnpm client:generate`).toBe(true);
    }
  });

  test('/docs serves the reference UI, its script locally, over /openapi.json', async ({ launch }) => {
    const stack = await launch({ worker: false });
    const page = await fetch(`${stack.apiUrl}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('"/openapi.json"');
    const script = /<script src="([^"]+)"><\/script>/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(new URL(script!, page.url));
    expect(js.status).toBe(200);
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });
});
