import { errors } from './errors.ts';
import type { ApiError } from './errors.ts';

export const FAULT_MODES = [
  'rate_limit_1302',
  'rate_limit_1303',
  'overloaded_1305',
  'model_overloaded_1312',
  'server_error_500',
  'network_error_1234',
  'balance_1113',
  'account_locked_1112',
  'account_violation_1121',
  'daily_quota_1304',
  'auth_expired_1003',
  'sensitive_content_1301',
  'prompt_too_long_1261',
  'duplicate_request_1231',
  'timeout',
  'malformed_json',
  'image_expired',
  'image_not_found',
  'image_truncated',
  'image_wrong_type',
] as const;

export type FaultMode = (typeof FAULT_MODES)[number];

export const IMAGE_FAULTS = ['expired', 'not_found', 'truncated', 'wrong_type'] as const;
export type ImageFault = (typeof IMAGE_FAULTS)[number];

/**
 * Where an error fault strikes in the check order
 * (auth → account → validation → request → concurrency/rate gate → latency → response):
 * account faults ignore the body; request faults answer at once; response faults answer after latency.
 */
export type ErrorPhase = 'account' | 'request' | 'response';

export type FaultEffect =
  | { readonly kind: 'error'; readonly phase: ErrorPhase; readonly error: () => ApiError }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'image'; readonly fault: ImageFault };

const EFFECTS: Record<FaultMode, FaultEffect> = {
  rate_limit_1302: { kind: 'error', phase: 'request', error: errors.concurrency },
  rate_limit_1303: { kind: 'error', phase: 'request', error: errors.frequency },
  overloaded_1305: { kind: 'error', phase: 'request', error: errors.overloaded },
  model_overloaded_1312: { kind: 'error', phase: 'request', error: errors.modelOverloaded },
  server_error_500: { kind: 'error', phase: 'response', error: errors.internal },
  network_error_1234: { kind: 'error', phase: 'response', error: errors.networkError },
  balance_1113: { kind: 'error', phase: 'account', error: errors.arrears },
  account_locked_1112: { kind: 'error', phase: 'account', error: errors.accountLocked },
  account_violation_1121: { kind: 'error', phase: 'account', error: errors.accountViolation },
  daily_quota_1304: { kind: 'error', phase: 'request', error: errors.dailyQuota },
  auth_expired_1003: { kind: 'error', phase: 'account', error: errors.authExpired },
  sensitive_content_1301: { kind: 'error', phase: 'request', error: errors.sensitiveContent },
  prompt_too_long_1261: { kind: 'error', phase: 'request', error: errors.promptTooLong },
  duplicate_request_1231: { kind: 'error', phase: 'request', error: errors.duplicateRequest },
  timeout: { kind: 'timeout' },
  malformed_json: { kind: 'malformed' },
  image_expired: { kind: 'image', fault: 'expired' },
  image_not_found: { kind: 'image', fault: 'not_found' },
  image_truncated: { kind: 'image', fault: 'truncated' },
  image_wrong_type: { kind: 'image', fault: 'wrong_type' },
};

export function faultEffect(mode: FaultMode): FaultEffect {
  return EFFECTS[mode];
}

export function isFaultMode(value: unknown): value is FaultMode {
  return typeof value === 'string' && (FAULT_MODES as readonly string[]).includes(value);
}

export function isAccountFault(mode: FaultMode): boolean {
  const effect = EFFECTS[mode];
  return effect.kind === 'error' && effect.phase === 'account';
}

/** Named one-shot faults, consumed FIFO by generation calls. */
export class FaultQueue {
  #items: FaultMode[] = [];

  push(mode: FaultMode, times: number): void {
    for (let i = 0; i < times; i++) this.#items.push(mode);
  }

  peek(): FaultMode | undefined {
    return this.#items[0];
  }

  shift(): FaultMode | undefined {
    return this.#items.shift();
  }

  clear(): void {
    this.#items = [];
  }

  list(): FaultMode[] {
    return [...this.#items];
  }
}

export interface ChaosRates {
  /** 429 with a code drawn from 1302 / 1303 / 1305. */
  rate429: number;
  /** 500 with code "500", after latency. */
  rate500: number;
  rateTimeout: number;
  rateMalformed: number;
}

const CHAOS_429: readonly FaultMode[] = ['rate_limit_1302', 'rate_limit_1303', 'overloaded_1305'];

/** One uniform draw over the cumulative rates, so the rates are exact and mutually exclusive. */
export function pickChaosFault(rates: ChaosRates, random: () => number): FaultMode | undefined {
  let draw = random();
  if (draw < rates.rate429) return CHAOS_429[Math.floor(random() * CHAOS_429.length)] ?? 'rate_limit_1302';
  draw -= rates.rate429;
  if (draw < rates.rate500) return 'server_error_500';
  draw -= rates.rate500;
  if (draw < rates.rateTimeout) return 'timeout';
  draw -= rates.rateTimeout;
  if (draw < rates.rateMalformed) return 'malformed_json';
  return undefined;
}
