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

const metadata = z
  .record(z.string(), z.json(), { error: 'must be a JSON object' })
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

/** The fields Z.AI takes, normalised: the model lower-cased, defaults filled in. */
export const zaiRequestSchema = z.strictObject({
  model: z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
    .refine((m) => m.toLowerCase() === ZAI_MODEL, `must be ${ZAI_MODEL}`)
    .transform(() => ZAI_MODEL),
  prompt: z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
    .refine((p) => p.trim().length > 0, 'must not be empty'),
  quality: z.enum(['hd', 'standard'], { error: 'must be "hd" or "standard"' }).default('standard'),
  size: size.default('1024x1024'),
  user_id: z
    .string({ error: 'must be a string' })
    .min(6, 'must be 6 to 128 characters')
    .max(128, 'must be 6 to 128 characters')
    .optional(),
});
export type ZaiRequest = z.output<typeof zaiRequestSchema>;

export const generationRequestSchema = zaiRequestSchema.extend({
  webhook_url: webhookUrlSchema.optional(),
  metadata: metadata.optional(),
});
export type GenerationRequest = z.output<typeof generationRequestSchema>;

export function zaiFields(request: GenerationRequest): ZaiRequest {
  const { model, prompt, quality, size: s, user_id } = request;
  return user_id === undefined ? { model, prompt, quality, size: s } : { model, prompt, quality, size: s, user_id };
}
