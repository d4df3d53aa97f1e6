/**
 * The typed client's generated files (packages/client/src/*-api.ts): openapi-typescript's rendering
 * of the API's two documents. `pnpm client:generate` writes them; a test checks they are current.
 */
import openapiTS, { UNKNOWN, astToString, type OpenAPI3 } from 'openapi-typescript';

const COMPONENT = /^#\/components\/schemas\/([^/]+)$/;

/**
 * A component that refers to itself (JsonValue: any JSON value) would be a type that TypeScript
 * refuses as circular (TS2502) in openapi-typescript's rendering; it is typed `unknown` instead.
 */
function selfReferring(schema: unknown, path: string | undefined): boolean {
  const name = path ? COMPONENT.exec(path)?.[1] : undefined;
  return name !== undefined && JSON.stringify(schema).includes(`"#/components/schemas/${name}"`);
}

export const CLIENT_TYPES = {
  public: { file: new URL('../../packages/client/src/public-api.ts', import.meta.url), source: '/openapi.json' },
  admin: { file: new URL('../../packages/client/src/admin-api.ts', import.meta.url), source: '/admin/openapi.json' },
} as const;

export async function renderClientTypes(doc: unknown, source: string): Promise<string> {
  const ast = await openapiTS(doc as OpenAPI3, { transform: (schema, { path }) => (selfReferring(schema, path) ? UNKNOWN : undefined) });
  return `/**\n * Generated from the API's ${source} by \`pnpm client:generate\`: do not edit.\n */\n\n${astToString(ast)}`;
}
