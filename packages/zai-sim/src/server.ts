import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyConfigPatch } from './config.ts';
import type { SimulatorConfig, SimulatorConfigPatch, SimulatorOptions } from './config.ts';
import { CONTROL_PREFIX, handleControl } from './control.ts';
import { errorBody, errors } from './errors.ts';
import type { ApiError } from './errors.ts';
import { FAULT_MODES, isFaultMode } from './faults.ts';
import type { FaultMode } from './faults.ts';
import { GENERATIONS_PATH, handleGeneration } from './generation.ts';
import { send } from './http.ts';
import { handleImage } from './image-route.ts';
import { FILES_PREFIX } from './image-url.ts';
import { SimState } from './state.ts';
import type { IssuedImage } from './state.ts';
import type { CallRecord, SimulatorStats } from './stats.ts';

export const API_BASE_PATH = '/api/paas/v4';

export interface Simulator {
  /** Base URL for a Z.AI client: `${origin}/api/paas/v4`. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  /** The first configured API key. */
  readonly apiKey: string;
  configure(patch: SimulatorConfigPatch): void;
  config(): SimulatorConfig;
  failNext(mode: FaultMode, times?: number): void;
  stats(): SimulatorStats;
  /** Arrival time (epoch ms) of every generation call since the last reset, in order. */
  callTimes(): number[];
  /** Every generation call since the last reset: arrival, admission, end, outcome, in arrival order. */
  calls(): CallRecord[];
  issuedImages(): IssuedImage[];
  reset(): void;
  /** Stops listening and destroys every open connection, hanging ones included. */
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const { host = '127.0.0.1', port = 0, publicOrigin, ...patch } = options;
  const state = new SimState(patch);
  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    route(state, req, res).catch(() => {
      if (!res.headersSent) fail(state, res, errors.internal());
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${hostPart}:${address.port}`;
  state.origin = (publicOrigin ?? origin).replace(/\/+$/, '');

  let closing: Promise<void> | undefined;
  return {
    url: `${origin}${API_BASE_PATH}`,
    origin,
    port: address.port,
    get apiKey() {
      return state.config.apiKeys[0] ?? '';
    },
    configure(configPatch) {
      state.config = applyConfigPatch(state.config, configPatch);
    },
    config: () => structuredClone(state.config),
    failNext(mode, times = 1) {
      if (!isFaultMode(mode)) throw new RangeError(`unknown fault mode ${String(mode)}; expected one of ${FAULT_MODES.join(', ')}`);
      if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer');
      state.faults.push(mode, times);
    },
    stats: () => state.stats.snapshot(),
    callTimes: () => [...state.stats.callTimes],
    calls: () => state.stats.callLog.map((call) => ({ ...call })),
    issuedImages: () => state.issued.map((image) => ({ ...image })),
    reset: () => state.reset(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function route(state: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim.invalid');
  const method = req.method ?? 'GET';
  if (url.pathname === GENERATIONS_PATH) {
    if (method !== 'POST') return fail(state, res, errors.methodNotAllowed(method));
    return handleGeneration(state, req, res);
  }
  if (url.pathname.startsWith(FILES_PREFIX)) {
    if (method !== 'GET') return fail(state, res, errors.methodNotAllowed(method));
    return handleImage(state, url, res);
  }
  if (url.pathname.startsWith(CONTROL_PREFIX)) return handleControl(state, req, res, url.pathname);
  return fail(state, res, errors.notFound(url.pathname));
}

function fail(state: SimState, res: ServerResponse, error: ApiError): void {
  send(res, error.status, 'application/json; charset=utf-8', errorBody(error, state.config.errorShape));
}
