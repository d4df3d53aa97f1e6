/**
 * `darkroom retry`: the bulk retry from an operator's shell, over HTTP with an admin token
 * (DARKROOM_API_URL, DARKROOM_ADMIN_TOKEN), never touching Redis itself.
 *   darkroom retry --filter 'error_code=1234,since=2h' --dry-run   what would run, and what it would cost
 *   darkroom retry --filter 'stage=store' [--resend-webhook]        runs it, with a live progress bar
 *   darkroom retry --ids gen_…,gen_…                                 named generations instead of a filter
 * Filter keys: those of GET /admin/v1/generations, plus since=<n>s|m|h|d (created in the last n…).
 * Without a status, the filter means status=failed. Prints the dry run or the final retry object as JSON.
 */
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import type { Retry, RetryDryRun } from '@darkroom/client';
import { adminCliEnvSchema } from '@darkroom/shared';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const POLL_MS = 500;

/** `error_code=1234,since=2h` → the filter object of POST /admin/v1/retries. */
export function parseFilterArg(arg: string, now = Date.now()): Record<string, string | number> {
  const filter: Record<string, string | number> = {};
  for (const part of arg.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--filter: "${part}" is not key=value`);
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (key === 'since') {
      const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value);
      if (!m) throw new Error(`--filter: since=${value} must be a number and s, m, h or d (e.g. since=2h)`);
      filter.created_after = Math.floor(now - Number(m[1]) * (UNIT_MS[m[2]!] ?? 0));
    } else {
      filter[key] = value;
    }
  }
  filter.status ??= 'failed';
  return filter;
}


/** Where the command writes: results (JSON) and complaints; the progress bar goes to stderr. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

export async function retryCommand(argv: string[], env: Record<string, string | undefined>, io: CliOutput): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { filter: { type: 'string' }, ids: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'resend-webhook': { type: 'boolean' } },
  });
  const cliEnv = adminCliEnvSchema.safeParse(env);
  if (!cliEnv.success) {
    io.err(cliEnv.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('\n'));
    return 2;
  }
  if ((values.filter === undefined) === (values.ids === undefined)) {
    io.err('usage: darkroom retry (--filter KEY=VALUE,… | --ids ID,…) [--dry-run] [--resend-webhook]');
    return 2;
  }
  const { DARKROOM_API_URL: base, DARKROOM_ADMIN_TOKEN: token } = cliEnv.data;
  // Typed by the caller from the admin document's generated types: a contract change breaks the build.
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(new URL(path, base), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json: unknown = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json as T;
  };
  const request = {
    ...(values.ids ? { ids: values.ids.split(',').map((s) => s.trim()).filter(Boolean) } : { filter: parseFilterArg(values.filter ?? '') }),
    resend_webhook: values['resend-webhook'] ?? false,
  };
  if (values['dry-run']) {
    io.out(JSON.stringify(await call<RetryDryRun>('POST', '/admin/v1/retries', { ...request, dry_run: true }), null, 2));
    return 0;
  }
  let retry = await call<Retry>('POST', '/admin/v1/retries', request);
  const bar = new SingleBar({ format: 'retry {bar} {value}/{total} | retried {retried} skipped {skipped}', stream: process.stderr }, Presets.shades_classic);
  bar.start(Math.max(retry.progress.matched, 1), 0, { retried: 0, skipped: 0 });
  while (retry.status === 'running') {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    retry = await call<Retry>('GET', `/admin/v1/retries/${retry.id}`);
    if (retry.progress.snapshotted) bar.setTotal(Math.max(retry.progress.matched, 1));
    bar.update(retry.progress.done, { retried: retry.progress.retried, skipped: retry.progress.skipped });
  }
  bar.stop();
  io.out(JSON.stringify(retry, null, 2));
  return retry.status === 'completed' ? 0 : 1;
}
