import { errors } from './errors.ts';
import type { ApiError } from './errors.ts';

export type Quality = 'hd' | 'standard';

export interface GenerationRequest {
  model: string;
  prompt: string;
  quality: Quality;
  width: number;
  height: number;
  userId?: string;
}

export type Validation = { ok: true; request: GenerationRequest } | { ok: false; error: ApiError };

export const SIZE_LIMITS = { minSide: 512, maxSide: 2048, step: 16, maxPixels: 2 ** 21 } as const;
export const USER_ID_LENGTH = { min: 6, max: 128 } as const;
export const DEFAULT_SIZE = '1024x1024';

const fail = (error: ApiError): Validation => ({ ok: false, error });

/** Parses and checks a generation body; `models` are matched case-insensitively. */
export function validateGeneration(rawBody: string, models: readonly string[]): Validation {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return fail(errors.invalidJson());
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail(errors.invalidField('body', 'must be a JSON object'));
  }
  const fields = body as Record<string, unknown>;

  const model = fields['model'];
  if (model === undefined || model === null || model === '') return fail(errors.missingField('model'));
  if (typeof model !== 'string') return fail(errors.invalidField('model', 'must be a string'));
  const known = models.some((m) => m.toLowerCase() === model.toLowerCase());
  if (!known) return fail(errors.unknownModel(model));

  const prompt = fields['prompt'];
  if (prompt === undefined || prompt === null) return fail(errors.missingField('prompt'));
  if (typeof prompt !== 'string') return fail(errors.invalidField('prompt', 'must be a string'));
  if (prompt.trim() === '') return fail(errors.missingField('prompt'));

  const quality = fields['quality'] ?? 'standard';
  if (quality !== 'hd' && quality !== 'standard') {
    return fail(errors.invalidField('quality', 'must be one of hd, standard'));
  }

  const size = fields['size'] ?? DEFAULT_SIZE;
  const parsed = typeof size === 'string' ? parseSize(size) : undefined;
  if (!parsed) return fail(errors.invalidField('size', 'must be a string formatted as WIDTHxHEIGHT, e.g. 1024x1024'));
  const sizeProblem = checkSize(parsed.width, parsed.height);
  if (sizeProblem) return fail(errors.invalidField('size', sizeProblem));

  const userId = fields['user_id'];
  if (userId !== undefined && userId !== null) {
    const { min, max } = USER_ID_LENGTH;
    if (typeof userId !== 'string' || userId.length < min || userId.length > max) {
      return fail(errors.invalidField('user_id', `must be a string of ${min}-${max} characters`));
    }
  }

  const request: GenerationRequest = { model, prompt, quality, width: parsed.width, height: parsed.height };
  if (typeof userId === 'string') request.userId = userId;
  return { ok: true, request };
}

function parseSize(size: string): { width: number; height: number } | undefined {
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(size);
  if (!match) return undefined;
  return { width: Number(match[1]), height: Number(match[2]) };
}

function checkSize(width: number, height: number): string | undefined {
  const { minSide, maxSide, step, maxPixels } = SIZE_LIMITS;
  const sideOk = (n: number) => n >= minSide && n <= maxSide && n % step === 0;
  if (!sideOk(width) || !sideOk(height)) {
    return `each side must be ${minSide}-${maxSide} and divisible by ${step}`;
  }
  if (width * height > maxPixels) return `width*height must not exceed ${maxPixels} pixels (2^21)`;
  return undefined;
}
