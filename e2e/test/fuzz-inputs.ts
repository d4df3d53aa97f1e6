/**
 * Inputs for the contract fuzzer, derived from the OpenAPI document's JSON Schemas (zod-fast-check
 * supports zod 3 only; the document is made from the same zod schemas): values shaped like each
 * schema, its documented examples, values of the wrong type, and hostile bodies and headers.
 */
import fc from 'fast-check';

type Schema = Record<string, unknown>;
type Resolve = (ref: string) => Schema;

/** Deeper than this, a recursive schema (any JSON value) yields plain scalars. */
const MAX_DEPTH = 3;

const asSchema = (value: unknown): Schema => (value && typeof value === 'object' ? (value as Schema) : {});

function scalarFor(type: string, schema: Schema): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string': {
      const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
      const maxLength = typeof schema.maxLength === 'number' ? Math.min(schema.maxLength, minLength + 300) : minLength + 40;
      const options = [fc.string({ minLength, maxLength }), fc.string({ minLength, maxLength, unit: 'grapheme' })];
      if (typeof schema.pattern === 'string') options.push(fc.stringMatching(new RegExp(schema.pattern)));
      return fc.oneof(...options);
    }
    case 'integer':
      return fc.integer({
        min: typeof schema.minimum === 'number' ? Math.max(schema.minimum, -(2 ** 31)) : -(2 ** 31),
        max: typeof schema.maximum === 'number' ? Math.min(schema.maximum, 2 ** 31) : 2 ** 31,
      });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 });
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Values shaped like `schema`: what the document promises to accept (before any refinement). */
export function shapedLike(schema: Schema, resolve: Resolve, depth = 0): fc.Arbitrary<unknown> {
  if (typeof schema.$ref === 'string') {
    return depth >= MAX_DEPTH ? fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)) : shapedLike(resolve(schema.$ref), resolve, depth + 1);
  }
  const examples: unknown[] = Array.isArray(schema.examples) ? schema.examples : [];
  const withExamples = (arb: fc.Arbitrary<unknown>) => (examples.length ? fc.oneof(fc.constantFrom(...examples), arb) : arb);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const union = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (union) return withExamples(fc.oneof(...union.map((s) => shapedLike(asSchema(s), resolve, depth + 1))));
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  if (types.length > 1) return fc.oneof(...types.map((type) => shapedLike({ ...schema, type }, resolve, depth)));
  const [type] = types;
  if (type === 'object') {
    const properties = asSchema(schema.properties);
    const model = Object.fromEntries(Object.entries(properties).map(([key, s]) => [key, shapedLike(asSchema(s), resolve, depth + 1)]));
    const requiredKeys = (Array.isArray(schema.required) ? schema.required : []) as string[];
    if (Object.keys(model).length) return withExamples(fc.record(model, { requiredKeys }));
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      return withExamples(fc.dictionary(fc.string({ maxLength: 12 }), shapedLike(asSchema(schema.additionalProperties), resolve, depth + 1), { maxKeys: 4 }));
    }
    return withExamples(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }));
  }
  if (type === 'array') {
    return withExamples(fc.array(shapedLike(asSchema(schema.items), resolve, depth + 1), { maxLength: 4 }));
  }
  return withExamples(scalarFor(type ?? '', schema));
}

/** The object schema's values with one field given a value of another type, or an unknown field. */
export function wrongTyped(schema: Schema, resolve: Resolve): fc.Arbitrary<unknown> {
  const keys = Object.keys(asSchema(schema.properties));
  const wrong = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -0, 0.1, '', ' ', [], {}, null, true, '\u0000', '\ud83d', 'x'.repeat(10_000)),
  );
  return fc.tuple(shapedLike(schema, resolve), fc.constantFrom(...keys, 'unknown_field', '__proto__', 'constructor'), wrong).map(([base, key, value]) => {
    const object = base && typeof base === 'object' && !Array.isArray(base) ? { ...base } : {};
    Object.defineProperty(object, key, { value, enumerable: true, configurable: true, writable: true });
    return object;
  });
}

/** Raw bodies no schema describes: broken JSON, invalid UTF-8, deep nesting, huge ones. */
export function hostileBody(valid: string): fc.Arbitrary<string | Buffer> {
  const prefix = valid.slice(0, -1);
  return fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      'null',
      'true',
      '0',
      '"a string"',
      '[]',
      '{}',
      '{',
      '{"model": ',
      `${valid}${valid}`,
      `${prefix},"prompt":42}`, // a duplicate key, the last one a wrong type
      `${prefix},"prompt":"a duplicate"}`,
      `${prefix},"metadata":{"n":1e400}}`,
      `${prefix},"metadata":{"n":${'9'.repeat(400)}}}`,
      `${prefix},"quality":"\\ud800"}`,
      `{"__proto__":{"polluted":true},${valid.slice(1)}`,
      `{"constructor":{"prototype":{"polluted":true}},${valid.slice(1)}`,
      `${prefix},"webhook_url":"http://169.254.169.254/latest/meta-data"}`,
      `${prefix},"webhook_url":"http://[::ffff:10.0.0.1]/"}`,
    ),
    // Invalid UTF-8 inside a string value, or overlong and truncated sequences.
    fc.constantFrom([0xff], [0xc0, 0xaf], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]).map((bytes) =>
      Buffer.concat([Buffer.from(`${prefix.replace(/"prompt":"[^"]*"/, '"prompt":"a')}`), Buffer.from(bytes), Buffer.from('"}')]),
    ),
    // Deep nesting, up to far past what a recursive parser's stack holds.
    fc.integer({ min: 100, max: 150_000 }).map((depth) => `${prefix},"metadata":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`),
    fc.integer({ min: 100, max: 150_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
    // About 1 MB: just under the body limit (a prompt far too long) and just over it.
    fc.constantFrom(1_048_576 - prefix.length - 40, 1_048_576 + 10).map((n) => `${prefix},"metadata":{"blob":"${'x'.repeat(n)}"}}`),
    fc.constantFrom(1_000_000, 1_048_600).map((n) => valid.replace(/"prompt":"[^"]*"/, `"prompt":"${'p'.repeat(n)}"`)),
  );
}

/** Header variants: content types, authorization forms, idempotency keys, odd extras. */
export function headerVariants(apiKey: string, keyPool: string[]): fc.Arbitrary<Record<string, string>> {
  const usually = <T>(common: T, rare: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: fc.constant(common) }, { weight: 1, arbitrary: rare });
  const contentType = usually('application/json', fc.constantFrom(
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/json;charset=latin1',
    'application/json, text/plain',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/merge-patch+json',
    'application/octet-stream',
    '',
  ));
  const authorization = usually(`Bearer ${apiKey}`, fc.constantFrom(
    `bearer ${apiKey}`,
    `Bearer  ${apiKey}`,
    `Bearer ${apiKey} `,
    `Basic ${Buffer.from(`user:${apiKey}`).toString('base64')}`,
    'Bearer ',
    'Bearer dk_not-a-key',
    `Bearer ${'k'.repeat(5000)}`,
    '',
  ));
  const idempotencyKey = fc.oneof(
    fc.constantFrom(...keyPool),
    fc.constantFrom('', ' ', 'has space', 'k'.repeat(255), 'k'.repeat(256), 'caf\u00e9', '\t'),
    fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
  );
  return fc
    .record(
      {
        'content-type': contentType,
        authorization,
        'idempotency-key': idempotencyKey,
        accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml'),
        'x-forwarded-for': fc.constantFrom('127.0.0.1', '::1, 10.0.0.1', 'garbage'),
        'accept-encoding': fc.constantFrom('gzip', 'identity', 'br;q=0'),
      },
      { requiredKeys: ['authorization'] },
    )
    .map((headers) => Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== '')) as Record<string, string>);
}
