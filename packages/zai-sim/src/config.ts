import type { ErrorShape } from './errors.ts';
import { isAccountFault, isFaultMode } from './faults.ts';
import type { ChaosRates, FaultMode } from './faults.ts';

export type LatencyRange = readonly [min: number, max: number];

export interface LatencyConfig {
  standard: LatencyRange;
  hd: LatencyRange;
}

/** Everything that can change while the simulator runs (via `configure` or `POST /_sim/config`). */
export interface SimulatorConfig {
  apiKeys: string[];
  /** Accepted model codes, compared case-insensitively. */
  models: string[];
  latencyMs: LatencyConfig;
  urlTtlMs: number;
  /** Pause between the image response headers and its body. */
  imageDelayMs: number;
  /** When > 0 the image body is streamed in `imageChunkBytes` pieces with this pause between them. */
  imageChunkDelayMs: number;
  imageChunkBytes: number;
  /** Incompressible bytes added to every image (in a private `daRk` chunk), to make images of a chosen size. */
  imagePadBytes: number;
  contentFilterLevel: 0 | 1 | 2 | 3;
  maxConcurrency: number;
  maxRps: number;
  faults: ChaosRates;
  errorShape: ErrorShape;
  /** Check the body before the account (default false: account first). */
  validateFirst: boolean;
  /** An account fault every call gets until it is set back to null (e.g. a balance that stays at zero). */
  accountFault: FaultMode | null;
  /** How long a `timeout` fault holds the connection before closing it without an answer. */
  hangMs: number;
  maxBodyBytes: number;
  /** Oldest issued-image records are dropped beyond this many. */
  maxIssuedImages: number;
}

/**
 * A partial config. `latencyMs` and `faults` merge key by key; `maxConcurrency` / `maxRps`
 * accept null for "unlimited" because JSON cannot carry Infinity.
 */
export interface SimulatorConfigPatch {
  apiKeys?: string[];
  models?: string[];
  latencyMs?: Partial<LatencyConfig>;
  urlTtlMs?: number;
  imageDelayMs?: number;
  imageChunkDelayMs?: number;
  imageChunkBytes?: number;
  imagePadBytes?: number;
  contentFilterLevel?: 0 | 1 | 2 | 3;
  maxConcurrency?: number | null;
  maxRps?: number | null;
  faults?: Partial<ChaosRates>;
  errorShape?: ErrorShape;
  validateFirst?: boolean;
  accountFault?: FaultMode | null;
  hangMs?: number;
  maxBodyBytes?: number;
  maxIssuedImages?: number;
}

export interface SimulatorOptions extends SimulatorConfigPatch {
  host?: string;
  /** 0 (the default) picks an ephemeral port. */
  port?: number;
  /** Origin written into image URLs when clients reach the simulator by another name (e.g. in Docker). */
  publicOrigin?: string;
}

export const DEFAULT_MODEL = 'cogview-4-250304';

export function defaultConfig(): SimulatorConfig {
  return {
    apiKeys: ['sim-key'],
    models: [DEFAULT_MODEL],
    latencyMs: { standard: [0, 0], hd: [0, 0] },
    urlTtlMs: 30 * 24 * 60 * 60 * 1000,
    imageDelayMs: 0,
    imageChunkDelayMs: 0,
    imageChunkBytes: 64 * 1024,
    imagePadBytes: 0,
    contentFilterLevel: 3,
    maxConcurrency: Infinity,
    maxRps: Infinity,
    faults: { rate429: 0, rate500: 0, rateTimeout: 0, rateMalformed: 0 },
    errorShape: 'nested',
    validateFirst: false,
    accountFault: null,
    hangMs: 120_000,
    maxBodyBytes: 1024 * 1024,
    maxIssuedImages: 100_000,
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Checker = (value: unknown, key: string, next: SimulatorConfig) => void;

const CHECKERS: Record<keyof SimulatorConfig, Checker> = {
  apiKeys: (v, k, next) => {
    next.apiKeys = stringList(v, k);
  },
  models: (v, k, next) => {
    next.models = stringList(v, k);
  },
  latencyMs: (v, k, next) => {
    const patch = record(v, k, ['standard', 'hd']);
    next.latencyMs = {
      standard: patch['standard'] === undefined ? next.latencyMs.standard : range(patch['standard'], `${k}.standard`),
      hd: patch['hd'] === undefined ? next.latencyMs.hd : range(patch['hd'], `${k}.hd`),
    };
  },
  urlTtlMs: (v, k, next) => {
    next.urlTtlMs = number(v, k, 1);
  },
  imageDelayMs: (v, k, next) => {
    next.imageDelayMs = number(v, k, 0);
  },
  imageChunkDelayMs: (v, k, next) => {
    next.imageChunkDelayMs = number(v, k, 0);
  },
  imageChunkBytes: (v, k, next) => {
    next.imageChunkBytes = integer(v, k, 1);
  },
  imagePadBytes: (v, k, next) => {
    next.imagePadBytes = integer(v, k, 0);
  },
  contentFilterLevel: (v, k, next) => {
    const level = integer(v, k, 0);
    if (level !== 0 && level !== 1 && level !== 2 && level !== 3) throw new ConfigError(`${k} must be 0, 1, 2 or 3`);
    next.contentFilterLevel = level;
  },
  maxConcurrency: (v, k, next) => {
    next.maxConcurrency = v === null ? Infinity : limit(v, k);
  },
  maxRps: (v, k, next) => {
    next.maxRps = v === null ? Infinity : limit(v, k);
  },
  faults: (v, k, next) => {
    const patch = record(v, k, ['rate429', 'rate500', 'rateTimeout', 'rateMalformed']);
    const faults = { ...next.faults };
    for (const [name, rate] of Object.entries(patch)) {
      const value = number(rate, `${k}.${name}`, 0);
      if (value > 1) throw new ConfigError(`${k}.${name} must be a probability between 0 and 1`);
      faults[name as keyof typeof faults] = value;
    }
    if (faults.rate429 + faults.rate500 + faults.rateTimeout + faults.rateMalformed > 1) {
      throw new ConfigError(`${k}: the rates must add up to at most 1`);
    }
    next.faults = faults;
  },
  errorShape: (v, k, next) => {
    if (v !== 'nested' && v !== 'flat') throw new ConfigError(`${k} must be "nested" or "flat"`);
    next.errorShape = v;
  },
  validateFirst: (v, k, next) => {
    if (typeof v !== 'boolean') throw new ConfigError(`${k} must be true or false`);
    next.validateFirst = v;
  },
  accountFault: (v, k, next) => {
    if (v !== null && !(isFaultMode(v) && isAccountFault(v))) {
      throw new ConfigError(`${k} must be null or an account fault (balance_1113, account_locked_1112, account_violation_1121, auth_expired_1003)`);
    }
    next.accountFault = v;
  },
  hangMs: (v, k, next) => {
    next.hangMs = number(v, k, 0);
  },
  maxBodyBytes: (v, k, next) => {
    next.maxBodyBytes = integer(v, k, 1);
  },
  maxIssuedImages: (v, k, next) => {
    next.maxIssuedImages = integer(v, k, 0);
  },
};

/** Returns a new config with the patch applied; throws ConfigError naming the first bad key. */
export function applyConfigPatch(current: SimulatorConfig, patch: unknown): SimulatorConfig {
  const entries = record(patch, 'config', Object.keys(CHECKERS));
  const next: SimulatorConfig = { ...current, latencyMs: { ...current.latencyMs }, faults: { ...current.faults } };
  for (const [key, value] of Object.entries(entries)) {
    if (value === undefined) continue;
    CHECKERS[key as keyof SimulatorConfig](value, key, next);
  }
  return next;
}

function record(value: unknown, key: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${key} must be an object`);
  }
  const unknown = Object.keys(value).filter((name) => !allowed.includes(name));
  if (unknown.length > 0) {
    throw new ConfigError(`${key}: unknown key(s) ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`);
  }
  return value as Record<string, unknown>;
}

function number(value: unknown, key: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(`${key} must be a finite number >= ${min}`);
  }
  return value;
}

function integer(value: unknown, key: string, min: number): number {
  const n = number(value, key, min);
  if (!Number.isInteger(n)) throw new ConfigError(`${key} must be an integer >= ${min}`);
  return n;
}

function limit(value: unknown, key: string): number {
  if (value === Infinity) return Infinity;
  return integer(value, key, 1);
}

function range(value: unknown, key: string): LatencyRange {
  if (!Array.isArray(value) || value.length !== 2) throw new ConfigError(`${key} must be [min, max]`);
  const min = number(value[0], `${key}[0]`, 0);
  const max = number(value[1], `${key}[1]`, 0);
  if (max < min) throw new ConfigError(`${key}: max must be >= min`);
  return [min, max];
}

function stringList(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new ConfigError(`${key} must be a non-empty array of non-empty strings`);
  }
  return [...(value as string[])];
}
