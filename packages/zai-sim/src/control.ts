import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyConfigPatch, ConfigError } from './config.ts';
import { FAULT_MODES, isFaultMode } from './faults.ts';
import { readBody, sendJson } from './http.ts';
import type { SimState } from './state.ts';

export const CONTROL_PREFIX = '/_sim/';

/** Unauthenticated control API for driving a simulator that runs in another process. */
export async function handleControl(state: SimState, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const route = `${req.method ?? 'GET'} ${path}`;
  switch (route) {
    case 'GET /_sim/stats':
      return sendJson(res, 200, state.stats.snapshot());
    case 'GET /_sim/calls':
      return sendJson(res, 200, state.stats.callLog);
    case 'GET /_sim/images':
      return sendJson(res, 200, state.issued);
    case 'GET /_sim/config':
      return sendJson(res, 200, state.config);
    case 'GET /_sim/faults':
      return sendJson(res, 200, { queued: state.faults.list(), modes: FAULT_MODES });
    case 'POST /_sim/reset':
      state.reset();
      return sendJson(res, 200, { ok: true });
    case 'POST /_sim/config': {
      const body = await readJson(req, res);
      if (body === undefined) return;
      try {
        state.config = applyConfigPatch(state.config, body);
      } catch (error) {
        if (error instanceof ConfigError) return sendJson(res, 400, { error: error.message });
        throw error;
      }
      return sendJson(res, 200, state.config);
    }
    case 'POST /_sim/fail-next': {
      const body = await readJson(req, res);
      if (body === undefined) return;
      const { mode, times = 1 } = (body ?? {}) as { mode?: unknown; times?: unknown };
      if (!isFaultMode(mode)) {
        return sendJson(res, 400, { error: `mode must be one of: ${FAULT_MODES.join(', ')}` });
      }
      if (typeof times !== 'number' || !Number.isInteger(times) || times < 1) {
        return sendJson(res, 400, { error: 'times must be a positive integer' });
      }
      state.faults.push(mode, times);
      return sendJson(res, 200, { queued: state.faults.list() });
    }
    default:
      return sendJson(res, 404, { error: `unknown control route: ${route}` });
  }
}

/** Answers 400 itself and returns undefined when the body is not JSON. */
async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const body = await readBody(req, 1024 * 1024);
  if (body.kind !== 'ok') {
    sendJson(res, body.kind === 'too_large' ? 413 : 400, { error: 'unreadable body' });
    return undefined;
  }
  try {
    return JSON.parse(body.text === '' ? '{}' : body.text) as unknown;
  } catch {
    sendJson(res, 400, { error: 'body must be JSON' });
    return undefined;
  }
}
