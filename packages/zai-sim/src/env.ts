import type { SimulatorOptions } from './config.ts';
import { isAccountFault, isFaultMode } from './faults.ts';
import type { ChaosRates } from './faults.ts';

export class EnvError extends Error {
  override name = 'EnvError';
  readonly variable: string;

  constructor(variable: string, problem: string, value: string) {
    super(`${variable}=${JSON.stringify(value)}: ${problem}`);
    this.variable = variable;
  }
}

export const DEFAULT_CLI_PORT = 4010;

type Env = Readonly<Record<string, string | undefined>>;

const CHAOS_KEYS: ReadonlyArray<keyof ChaosRates> = ['rate429', 'rate500', 'rateTimeout', 'rateMalformed'];

/**
 * Simulator options for the CLI. Unset or empty variables keep their defaults;
 * any unparseable value throws EnvError naming the variable.
 */
export function loadSimulatorEnv(env: Env): SimulatorOptions & { host: string; port: number; apiKeys: string[] } {
  const options: SimulatorOptions & { host: string; port: number; apiKeys: string[] } = {
    host: read(env, 'ZAI_SIM_HOST') ?? '127.0.0.1',
    port: int(env, 'ZAI_SIM_PORT', 0, 65535) ?? DEFAULT_CLI_PORT,
    apiKeys: apiKeys(env),
  };

  const latency = read(env, 'ZAI_SIM_LATENCY_MS');
  if (latency !== undefined) {
    const standard = parseRange('ZAI_SIM_LATENCY_MS', latency);
    const hdRaw = read(env, 'ZAI_SIM_HD_LATENCY_MS');
    const hd = hdRaw === undefined ? ([standard[0] * 2, standard[1] * 2] as const) : parseRange('ZAI_SIM_HD_LATENCY_MS', hdRaw);
    options.latencyMs = { standard, hd };
  } else if (read(env, 'ZAI_SIM_HD_LATENCY_MS') !== undefined) {
    options.latencyMs = { hd: parseRange('ZAI_SIM_HD_LATENCY_MS', read(env, 'ZAI_SIM_HD_LATENCY_MS') ?? '') };
  }

  const faults = read(env, 'ZAI_SIM_FAULTS');
  if (faults !== undefined) options.faults = parseFaults(faults);

  const imageDelay = int(env, 'ZAI_SIM_IMAGE_DELAY_MS', 0);
  if (imageDelay !== undefined) options.imageDelayMs = imageDelay;
  const pad = int(env, 'ZAI_SIM_IMAGE_PAD_BYTES', 0, 64 * 1024 * 1024);
  if (pad !== undefined) options.imagePadBytes = pad;
  const ttl = int(env, 'ZAI_SIM_URL_TTL_MS', 1);
  if (ttl !== undefined) options.urlTtlMs = ttl;
  const concurrency = int(env, 'ZAI_SIM_MAX_CONCURRENCY', 1);
  if (concurrency !== undefined) options.maxConcurrency = concurrency;
  const rps = int(env, 'ZAI_SIM_MAX_RPS', 1);
  if (rps !== undefined) options.maxRps = rps;
  const level = int(env, 'ZAI_SIM_CONTENT_FILTER_LEVEL', 0, 3);
  if (level !== undefined) options.contentFilterLevel = level as 0 | 1 | 2 | 3;

  const shape = read(env, 'ZAI_SIM_ERROR_SHAPE');
  if (shape !== undefined) {
    if (shape !== 'nested' && shape !== 'flat') throw new EnvError('ZAI_SIM_ERROR_SHAPE', 'expected "nested" or "flat"', shape);
    options.errorShape = shape;
  }
  const validateFirst = read(env, 'ZAI_SIM_VALIDATE_FIRST');
  if (validateFirst !== undefined) {
    if (validateFirst !== 'true' && validateFirst !== 'false') throw new EnvError('ZAI_SIM_VALIDATE_FIRST', 'expected "true" or "false"', validateFirst);
    options.validateFirst = validateFirst === 'true';
  }
  const accountFault = read(env, 'ZAI_SIM_ACCOUNT_FAULT');
  if (accountFault !== undefined) {
    if (!isFaultMode(accountFault) || !isAccountFault(accountFault)) {
      throw new EnvError('ZAI_SIM_ACCOUNT_FAULT', 'expected an account fault: balance_1113, account_locked_1112, account_violation_1121 or auth_expired_1003', accountFault);
    }
    options.accountFault = accountFault;
  }
  const publicOrigin = read(env, 'ZAI_SIM_PUBLIC_ORIGIN');
  if (publicOrigin !== undefined) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(publicOrigin)) {
      throw new EnvError('ZAI_SIM_PUBLIC_ORIGIN', 'expected an origin like http://zai-sim:4010', publicOrigin);
    }
    options.publicOrigin = publicOrigin;
  }
  return options;
}

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function int(env: Env, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    const bounds = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new EnvError(name, `expected an integer ${bounds}`, raw);
  }
  return Number(raw);
}

function apiKeys(env: Env): string[] {
  const raw = read(env, 'ZAI_SIM_API_KEY');
  if (raw === undefined) return ['sim-key'];
  const keys = raw.split(',').map((k) => k.trim());
  if (keys.some((k) => k === '' || /\s/.test(k))) {
    throw new EnvError('ZAI_SIM_API_KEY', 'expected one key or a comma-separated list of keys without spaces', raw);
  }
  return keys;
}

function parseRange(name: string, raw: string): readonly [number, number] {
  const match = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(raw);
  const min = Number(match?.[1]);
  const max = match?.[2] === undefined ? min : Number(match[2]);
  if (!match || max < min) throw new EnvError(name, 'expected milliseconds as "N" or "MIN-MAX" with MIN <= MAX', raw);
  return [min, max];
}

function parseFaults(raw: string): Partial<ChaosRates> {
  const name = 'ZAI_SIM_FAULTS';
  const rates: Partial<ChaosRates> = {};
  for (const part of raw.split(',')) {
    const [key, value, ...rest] = part.split('=').map((s) => s.trim());
    const rate = Number(value);
    if (!CHAOS_KEYS.includes(key as keyof ChaosRates) || value === undefined || value === '' || rest.length > 0) {
      throw new EnvError(name, `expected comma-separated KEY=RATE with KEY one of ${CHAOS_KEYS.join(', ')}`, raw);
    }
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new EnvError(name, `${key} must be a probability between 0 and 1`, raw);
    rates[key as keyof ChaosRates] = rate;
  }
  const total = Object.values(rates).reduce((sum, r) => sum + r, 0);
  if (total > 1) throw new EnvError(name, 'the rates must add up to at most 1', raw);
  return rates;
}
