/**
 * The contract fuzzer: every public operation in /openapi.json, driven with inputs derived from its
 * schemas (valid, wrong-typed, hostile bodies, every header variant). Whatever comes in:
 * - never a 5xx;
 * - every answer is documented for its operation, and a 4xx has the documented error body;
 * - a refused request queues nothing (every queue and the tenant's open index are unchanged),
 *   and, once the fleet pause is lifted, Z.AI is paid exactly once per accepted generation.
 * A new route needs nothing here: the cases come from its schemas in the document.
 *
 * CI runs FUZZ_RUNS cases (default 300) from a fixed FUZZ_SEED; `pnpm fuzz` runs more, from a
 * random seed it prints, which FUZZ_SEED replays.
 */
import { Queue } from 'bullmq';
import fc from 'fast-check';
import { redisKeys } from '@darkroom/shared';
import { expectPaid } from './billing.ts';
import { Contract, fetchDocuments, type Operation } from './contract.ts';
import { describe, expect, test } from './fixtures.ts';
import { headerVariants, hostileBody, shapedLike, wrongTyped } from './fuzz-inputs.ts';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const ADMIN = 'admin-token-for-the-contract-fuzzer';
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? 20_261_128);

interface Case {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/**
 * Any http(s) URL the fuzzer puts under a `…url` key, at any depth (a batch's requests too), is
 * pointed at the test's receiver: the API resolves and calls webhook hosts, and traffic stays on loopback.
 */
function loopbackWebhooks(value: unknown, receiver: string): unknown {
  if (Array.isArray(value)) return value.map((item) => loopbackWebhooks(item, receiver));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const url = typeof child === 'string' && /url$/i.test(key) && URL.canParse(child) ? new URL(child) : undefined;
    const pointed = url && (url.protocol === 'http:' || url.protocol === 'https:') ? `${receiver}${url.pathname === '/' ? '' : url.pathname}` : undefined;
    Object.defineProperty(out, key, { value: pointed ?? loopbackWebhooks(child, receiver), enumerable: true, configurable: true, writable: true });
  }
  return out;
}

function caseFor(contract: Contract, stack: Stack, keyPool: string[], ids: string[]) {
  const resolve = (ref: string) => {
    const schema = contract.doc.components?.schemas?.[ref.replace('#/components/schemas/', '')];
    if (!schema) throw new Error(`unresolved ${ref}`);
    return schema as Record<string, unknown>;
  };
  const arbitraries = contract.operations().map(({ method, path, operation }) => {
    const pathParams = (operation.parameters ?? []).filter((p) => p.in === 'path');
    const pathArb = pathParams.length
      ? fc
          .tuple(
            ...pathParams.map((p) =>
              fc.oneof(
                // Ids the run has created so far (read when the case is generated).
                fc.nat().map((i) => ids[i % ids.length] ?? ''),
                shapedLike((p.schema ?? {}) as Record<string, unknown>, resolve).map(String),
                fc.constantFrom('..', '%2e%2e', 'gen_', `gen_${'0'.repeat(32)}`, `gen_${'f'.repeat(33)}`, 'x'.repeat(150), '%00', '%ff', 'gen_%2F..'),
                fc.string({ unit: 'grapheme', maxLength: 60 }).map(encodeURIComponent),
              ),
            ),
          )
          .map((values) => pathParams.reduce((p, param, i) => p.replace(`{${param.name}}`, String(values[i])), path))
      : fc.constant(path);
    const query = fc.constantFrom('', '', '?a=1', '?id=../&__proto__[x]=1', `?${'q'.repeat(2000)}=1`);
    const bodySchema = operation.requestBody?.content['application/json']?.schema as Record<string, unknown> | undefined;
    const valid = JSON.stringify({ model: 'cogview-4-250304', prompt: 'a cat' });
    const bodyArb: fc.Arbitrary<string | Buffer | undefined> = bodySchema
      ? fc.oneof(
          { weight: 3, arbitrary: examplesOf(operation).map((v) => JSON.stringify(loopbackWebhooks(v, stack.receiver.url))) },
          { weight: 3, arbitrary: shapedLike(bodySchema, resolve).map((v) => JSON.stringify(loopbackWebhooks(v, stack.receiver.url))) },
          { weight: 2, arbitrary: wrongTyped(bodySchema, resolve).map((v) => JSON.stringify(loopbackWebhooks(v, stack.receiver.url))) },
          { weight: 2, arbitrary: hostileBody(valid) },
        )
      : fc.constant(undefined);
    const arbitrary = fc.record({
      method: fc.constant(method.toUpperCase()),
      path: fc.tuple(pathArb, query).map(([p, q]) => p + q),
      headers: headerVariants(stack.apiKey, keyPool),
      body: bodyArb,
    }) as fc.Arbitrary<Case>;
    // An operation that takes a body has far more to explore than one that takes none.
    return { weight: bodySchema ? 8 : 1, arbitrary };
  });
  return fc.oneof(...arbitraries);
}

/** The request body's documented examples (its named Example Objects), or the minimal valid one. */
function examplesOf(operation: Operation): fc.Arbitrary<unknown> {
  const media = operation.requestBody?.content['application/json'] as { examples?: Record<string, { value: unknown }> } | undefined;
  const values = Object.values(media?.examples ?? {}).map((e) => e.value);
  return values.length ? fc.constantFrom(...values) : fc.constant({ model: 'cogview-4-250304', prompt: 'a cat' });
}

describe('contract fuzzing', () => {
  test(
    `every public route, ${RUNS} generated requests: no 5xx, documented answers, nothing queued or paid when refused`,
    async ({ launch, sim }) => {
      const stack = await launch({ env: { ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'silent' } });
      const docs = await fetchDocuments(stack.apiUrl, ADMIN);
      const contract = new Contract(docs.public);
      const keys = redisKeys(stack.prefix);
      const asAdmin = { authorization: `Bearer ${ADMIN}` };
      // Paused, accepted jobs wait in the queue: every payment happens after the run, countable.
      expect((await stack.request('POST', '/admin/fleet/pause', { reason: 'contract fuzzing' }, asAdmin)).status).toBe(200);

      // Every job in every queue, and the tenant's unfinished generations (batch items included).
      const queues = Object.values(stack.queues).filter((q): q is Queue => q instanceof Queue);
      const queued = async () => {
        const counts = await Promise.all(queues.map((q) => q.getJobCounts()));
        const jobs = counts.flatMap((c) => Object.values(c)).reduce((a, b) => a + b, 0);
        return { jobs, open: await stack.redis.zcard(keys.openGenerations(stack.tenant)) };
      };
      const accepted = new Set<string>();
      const byStatus = new Map<number, number>();
      const ids = [`gen_${'0'.repeat(32)}`];
      let cases = 0;

      await fc.assert(
        fc.asyncProperty(caseFor(contract, stack, ['order-1', 'order-2', 'order-3'], ids), async (c) => {
          cases++;
          const before = await queued();
          const res = await fetch(`${stack.apiUrl}${c.path}`, { method: c.method, headers: c.headers, ...(c.body === undefined ? {} : { body: c.body }) });
          const text = await res.text();
          byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
          const what = `${c.method} ${c.path.slice(0, 200)} -> ${res.status} ${text.slice(0, 300)}`;
          expect(res.status, what).toBeLessThan(500);
          const json = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as unknown) : text;
          const found = contract.operationFor(c.method, c.path);
          if (found) expect(contract.responseProblems(c.method, c.path, res.status, json), what).toEqual([]);
          if (res.status >= 400) expect(contract.problems(['components', 'schemas', 'Error'], json), what).toEqual([]);

          const after = await queued();
          if (res.status === 202 && c.method === 'POST' && c.path.split('?')[0] === '/v1/images/generations') {
            const id = (json as { id: string }).id;
            const replayed = res.headers.get('idempotent-replayed') === 'true';
            expect(after.jobs - before.jobs, what).toBe(replayed ? 0 : 1);
            if (!replayed) ids.push(id);
            accepted.add(id);
          } else if (res.status === 200 && c.method === 'POST' && /^\/v1\/images\/generations\/[^/]+\/cancel$/.test(c.path.split('?')[0] ?? '')) {
            // A cancel of one it accepted: that generation is closed, never to be paid.
            accepted.delete((json as { id: string }).id);
          } else if (res.status >= 400 || c.method === 'GET') {
            expect(after, `a refused request or a read changed the queues: ${what}`).toEqual(before);
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );

      // Nothing ran during the run, so every generation accepted (by any route) is still open. Each
      // is now generated and paid for once, and nothing else is.
      const open = await stack.redis.zrange(keys.openGenerations(stack.tenant), 0, -1);
      expect(open).toEqual(expect.arrayContaining([...accepted]));
      expect((await stack.request('POST', '/admin/fleet/resume', undefined, asAdmin)).status).toBe(200);
      await waitUntil(async () => {
        for (const id of open) {
          const record = await stack.generations.get(id);
          if (record?.status !== 'succeeded') return undefined;
        }
        return true;
      }, `${open.length} accepted generations to succeed`, 120_000, 200);
      await expectPaid(sim, { jobs: open.length });

      const statuses = Object.fromEntries([...byStatus].sort(([a], [b]) => a - b));
      console.log(`contract fuzz: ${cases} cases, seed ${SEED}, ${accepted.size} accepted; by status ${JSON.stringify(statuses)}`);
      expect(cases).toBe(RUNS);
      // The run exercised both sides of the contract.
      expect(accepted.size).toBeGreaterThan(0);
      expect([...byStatus.keys()].some((s) => s >= 400)).toBe(true);
    },
    Math.max(120_000, RUNS * 400),
  );
});
