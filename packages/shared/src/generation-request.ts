/**
 * A generation request, validated exactly as Z.AI documents its fields (ZAI-API.md), plus our own
 * `webhook_url` and `metadata`. The same schema types the API handler and will feed OpenAPI.
 */
import { z } from 'zod';

export const ZAI_MODEL = 'cogview-4-250304';
export const SIZE_SIDE_MIN = 512;
export const SIZE_SIDE_MAX = 2048;
export const SIZE_STEP = 16;
export const SIZE_MAX_PIXELS = 2 ** 21;
export const METADATA_MAX_BYTES = 4096;

export function parseSize(size: string): { width: number; height: number } | undefined {
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(size);
  return m ? { width: Number(m[1]), height: Number(m[2]) } : undefined;
}

const size = z.string().superRefine((value, ctx) => {
  const parsed = parseSize(value);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: 'must be WIDTHxHEIGHT in pixels, e.g. 1024x1024' });
    return;
  }
  for (const [side, px] of [['width', parsed.width], ['height', parsed.height]] as const) {
    if (px < SIZE_SIDE_MIN || px > SIZE_SIDE_MAX) {
      ctx.addIssue({ code: 'custom', message: `${side} must be between ${SIZE_SIDE_MIN} and ${SIZE_SIDE_MAX} (got ${px})` });
    } else if (px % SIZE_STEP !== 0) {
      ctx.addIssue({ code: 'custom', message: `${side} must be divisible by ${SIZE_STEP} (got ${px})` });
    }
  }
  if (parsed.width * parsed.height > SIZE_MAX_PIXELS) {
    ctx.addIssue({
      code: 'custom',
      message: `width×height must be at most ${SIZE_MAX_PIXELS} pixels (got ${parsed.width * parsed.height})`,
    });
  }
});

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/**
 * Any JSON value, as z.json() checks it, but recursive through itself: a named component refers to
 * itself in the OpenAPI document, where z.json()'s inner recursion would leave a dangling reference.
 */
const jsonValue: z.ZodType<JsonValue> = z
  .lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]))
  .meta({ id: 'JsonValue', description: 'Any JSON value' });

export const metadataSchema = z
  .record(z.string(), jsonValue, { error: 'must be a JSON object' })
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= METADATA_MAX_BYTES, {
    message: `must serialize to at most ${METADATA_MAX_BYTES} bytes of JSON`,
  });

export const webhookUrlSchema = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL without credentials');

/** The longest `cancel_after` in seconds (30 days). */
export const CANCEL_AFTER_MAX_SECONDS = 30 * 86_400;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const CANCEL_AFTER_MESSAGE = `must be an RFC 3339 time (e.g. 2026-01-31T18:00:00Z) or whole seconds from now (0 to ${CANCEL_AFTER_MAX_SECONDS})`;

/**
 * `cancel_after`: an RFC 3339 time, or whole seconds from now (a number, or digits: query
 * parameters are strings). Parsed to epoch ms when the request arrives.
 */
export function parseCancelAfter(value: unknown, now: number): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= CANCEL_AFTER_MAX_SECONDS ? now + value * 1000 : undefined;
  }
  if (typeof value !== 'string') return undefined;
  if (/^\d{1,9}$/.test(value)) return parseCancelAfter(Number(value), now);
  if (!RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export const cancelAfterSchema = z.union([z.number(), z.string()], { error: CANCEL_AFTER_MESSAGE }).transform((value, ctx) => {
  const ms = parseCancelAfter(value, Date.now());
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: CANCEL_AFTER_MESSAGE });
    return z.NEVER;
  }
  return ms;
});

/**
 * Default cap on the prompt, in characters (Unicode code points). Z.AI publishes no limit (its
 * CogView-4 page says "any length") but has a business code for it (1261, prompt too long), and
 * CogView-4's text encoder reads about 1,024 tokens; 4,000 characters is well past that.
 */
export const PROMPT_MAX_CHARS = 4_000;

const prompt = (maxChars: number) =>
  z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
    .refine((p) => p.trim().length > 0, 'must not be empty')
    .refine((p) => p.isWellFormed(), 'must be valid Unicode text (it holds an unpaired surrogate)')
    .superRefine((p, ctx) => {
      // Code points, not UTF-16 units: a CJK or emoji prompt counts what the user typed.
      let chars = 0;
      for (const _ of p) if (++chars > maxChars) break;
      if (chars > maxChars) ctx.addIssue({ code: 'custom', message: `must be at most ${maxChars} characters` });
    });

/** The fields Z.AI takes, normalised: the model lower-cased, defaults filled in. */
const zaiRequestShape = (promptMaxChars: number) => ({
  model: z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
    .refine((m) => m.toLowerCase() === ZAI_MODEL, `must be ${ZAI_MODEL}`)
    .transform(() => ZAI_MODEL),
  prompt: prompt(promptMaxChars),
  quality: z.enum(['hd', 'standard'], { error: 'must be "hd" or "standard"' }).default('standard'),
  size: size.default('1024x1024'),
  user_id: z
    .string({ error: 'must be a string' })
    .min(6, 'must be 6 to 128 characters')
    .max(128, 'must be 6 to 128 characters')
    .optional(),
});
export const zaiRequestSchema = z.strictObject(zaiRequestShape(PROMPT_MAX_CHARS));
export type ZaiRequest = z.output<typeof zaiRequestSchema>;

/** The API's request schema; `promptMaxChars` comes from PROMPT_MAX_CHARS. */
export function generationRequestSchema(limits: { promptMaxChars: number } = { promptMaxChars: PROMPT_MAX_CHARS }) {
  const shape = zaiRequestShape(limits.promptMaxChars);
  return z
    .strictObject({
      model: shape.model.meta({ description: `The Z.AI model: ${ZAI_MODEL} (any letter case)`, examples: [ZAI_MODEL] }),
      prompt: shape.prompt.meta({ description: `What to draw: at most ${limits.promptMaxChars} characters`, examples: ['a red bicycle leaning on a wall'] }),
      quality: shape.quality,
      size: shape.size.meta({
        description: `WIDTHxHEIGHT: each side ${SIZE_SIDE_MIN} to ${SIZE_SIDE_MAX} px in steps of ${SIZE_STEP}, at most ${SIZE_MAX_PIXELS} pixels`,
        examples: ['1024x1024', '1440x720', '768x1344'],
      }),
      user_id: shape.user_id.meta({ description: "The end user's id, passed on to Z.AI" }),
      webhook_url: webhookUrlSchema.optional().meta({ description: 'Receives the job once it ends, signed (Standard Webhooks)' }),
      metadata: metadataSchema.optional().meta({ description: `Yours, returned as given: a JSON object of at most ${METADATA_MAX_BYTES} bytes` }),
      cancel_after: cancelAfterSchema.optional().meta({
        description: `Not started by then, the generation is canceled (\`expired\`); never sent to Z.AI. An RFC 3339 time, or whole seconds from now (0 to ${CANCEL_AFTER_MAX_SECONDS})`,
        examples: [3600, '2026-01-31T18:00:00Z'],
      }),
    })
    // As named Example Objects: zod drops `examples` from the input side of a transforming schema.
    .meta({
      'x-examples': {
        minimal: { summary: 'The fields Z.AI needs', value: { model: ZAI_MODEL, prompt: 'a red bicycle leaning on a wall' } },
        full: {
          summary: 'Every field',
          value: { model: ZAI_MODEL, prompt: 'a lighthouse at dusk', quality: 'hd', size: '1440x720', user_id: 'user-1001', webhook_url: 'https://example.com/hooks/darkroom', metadata: { order: 'A-1001' } },
        },
      },
    });
}
export type GenerationRequest = z.output<ReturnType<typeof generationRequestSchema>>;

export function zaiFields(request: GenerationRequest): ZaiRequest {
  const { model, prompt, quality, size: s, user_id } = request;
  return user_id === undefined ? { model, prompt, quality, size: s } : { model, prompt, quality, size: s, user_id };
}
