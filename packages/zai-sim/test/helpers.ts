import { startSimulator } from '../src/index.ts';
import type { Simulator, SimulatorOptions } from '../src/index.ts';

export const MODEL = 'cogview-4-250304';

/** Every field the API may answer with, typed loosely: a test asserts on whichever its case expects. */
export interface LooseBody {
  created: number;
  data: [{ url: string }];
  content_filter: [{ role: string; level: number }];
  error: { code: string; message: string };
  code: number;
  message: string;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** undefined when the body is not JSON. */
  json: LooseBody;
}

export interface PostOptions {
  key?: string | null;
  authorization?: string;
  signal?: AbortSignal;
  rawBody?: string;
}

export function generationUrl(sim: Simulator): string {
  return `${sim.url}/images/generations`;
}

export async function generate(sim: Simulator, body: unknown = { model: MODEL, prompt: 'a lighthouse at dusk' }, options: PostOptions = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const key = options.key === undefined ? sim.apiKey : options.key;
  if (options.authorization !== undefined) headers['authorization'] = options.authorization;
  else if (key !== null) headers['authorization'] = `Bearer ${key}`;
  const res = await fetch(generationUrl(sim), {
    method: 'POST',
    headers,
    body: options.rawBody ?? JSON.stringify(body),
    signal: options.signal ?? AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: LooseBody;
  try {
    json = JSON.parse(text) as LooseBody;
  } catch {
    json = undefined as unknown as LooseBody;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function okBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: MODEL, prompt: 'a lighthouse at dusk', ...extra };
}

export async function download(url: string): Promise<{ status: number; type: string | null; length: string | null; bytes: Buffer }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type'), length: res.headers.get('content-length'), bytes };
}

/** Polls a condition (never a fixed sleep); fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Always on the loopback interface: tests never listen beyond 127.0.0.1. */
export async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ host: '127.0.0.1', ...options });
}
