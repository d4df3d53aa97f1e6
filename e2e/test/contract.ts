/**
 * The OpenAPI document as a contract to check things against: JSON Schema 2020-12 (ajv, with
 * formats) over the document's own schemas, $refs and all, so a check can only pass if the
 * document says so.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';

// ajv-formats is CommonJS: its default export arrives wrapped under Node's ESM interop.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

export interface MediaType {
  schema?: unknown;
  example?: unknown;
}
export interface Operation {
  summary?: string;
  parameters?: Array<{ in: string; name: string; required?: boolean; schema?: unknown; example?: unknown }>;
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, { description?: string; content?: Record<string, MediaType> }>;
  security?: unknown[];
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  webhooks?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

const DOC_ID = 'https://darkroom.invalid/openapi.json';
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

const pointer = (segments: string[]) =>
  `#/${segments.map((s) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/')}`;

/** A documented example: where it is, the value, and the schema (as a pointer) it must match. */
export interface Example {
  at: string;
  value: unknown;
  schema: string[];
}

export class Contract {
  readonly doc: OpenApiDocument;
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(doc: OpenApiDocument) {
    this.doc = doc;
    // Not strict: the document around the schemas has OpenAPI's own keywords.
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.#ajv);
    this.#ajv.addSchema({ ...doc, $id: DOC_ID });
  }

  /** The validator of the schema at `segments` inside the document. */
  validator(segments: string[]): ValidateFunction {
    const ref = `${DOC_ID}${pointer(segments)}`;
    let validate = this.#compiled.get(ref);
    if (!validate) {
      validate = this.#ajv.getSchema(ref);
      if (!validate) throw new Error(`no schema at ${pointer(segments)}`);
      this.#compiled.set(ref, validate);
    }
    return validate;
  }

  /** Problems of `value` against the schema at `segments`; empty when it matches. */
  problems(segments: string[], value: unknown): string[] {
    const validate = this.validator(segments);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
  }

  operations(): Array<{ method: string; path: string; operation: Operation }> {
    return Object.entries(this.doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.has(method))
        .map(([method, operation]) => ({ method, path, operation })),
    );
  }

  /** The documented operation a request for `url` reaches, by its path template. */
  operationFor(method: string, url: string): { path: string; operation: Operation } | undefined {
    const bare = url.split('?')[0] ?? url;
    for (const { method: m, path, operation } of this.operations()) {
      if (m !== method.toLowerCase()) continue;
      const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      if (pattern.test(bare)) return { path, operation };
    }
    return undefined;
  }

  /**
   * Why an answer does not match the document: its status must be documented for the operation
   * and a JSON body must match that status's schema. Empty when it matches.
   */
  responseProblems(method: string, url: string, status: number, body: unknown): string[] {
    const found = this.operationFor(method, url);
    if (!found) return [`${method} ${url} is not in the document`];
    const response = found.operation.responses[String(status)];
    if (!response) return [`${method} ${found.path} does not document status ${status}`];
    if (!response.content) return [];
    const type = response.content['application/json'] ? 'application/json' : undefined;
    if (!type) return typeof body === 'string' ? [] : [`${method} ${found.path} ${status} documents no JSON body`];
    return this.problems(['paths', found.path, method.toLowerCase(), 'responses', String(status), 'content', type, 'schema'], body);
  }

  /** Every example in the document: JSON Schema `examples`, and a parameter's or media type's example(s). */
  examples(): Example[] {
    const found: Example[] = [];
    const walk = (value: unknown, at: string[]) => {
      if (Array.isArray(value)) {
        value.forEach((item, i) => walk(item, [...at, String(i)]));
        return;
      }
      if (value === null || typeof value !== 'object') return;
      const node = value as Record<string, unknown>;
      const inSchema = at.includes('schema') || at[0] === 'components';
      if (inSchema && Array.isArray(node.examples) && at.at(-1) !== 'properties') {
        node.examples.forEach((example: unknown, i) => found.push({ at: `${pointer(at)}/examples/${i}`, value: example, schema: at }));
      }
      if ('schema' in node) {
        // A parameter's or media type's `example`, or its named Example Objects.
        if ('example' in node) found.push({ at: `${pointer(at)}/example`, value: node.example, schema: [...at, 'schema'] });
        if (node.examples && typeof node.examples === 'object' && !Array.isArray(node.examples)) {
          for (const [name, example] of Object.entries(node.examples as Record<string, { value?: unknown }>)) {
            found.push({ at: `${pointer(at)}/examples/${name}`, value: example.value, schema: [...at, 'schema'] });
          }
        }
      }
      for (const [key, child] of Object.entries(node)) {
        if (key !== 'examples' && key !== 'example') walk(child, [...at, key]);
      }
    };
    walk(this.doc, []);
    return found;
  }
}

/** The two documents a stack serves, checked to be OpenAPI 3.1 JSON. */
export async function fetchDocuments(apiUrl: string, adminToken: string): Promise<{ public: OpenApiDocument; admin: OpenApiDocument }> {
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${apiUrl}${path}`, { headers });
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    return (await res.json()) as OpenApiDocument;
  };
  return {
    public: await get('/openapi.json'),
    admin: await get('/admin/openapi.json', { authorization: `Bearer ${adminToken}` }),
  };
}
