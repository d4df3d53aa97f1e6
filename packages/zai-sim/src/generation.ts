import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorBody, errors, outcomeKey } from './errors.ts';
import type { ApiError } from './errors.ts';
import { faultEffect, isAccountFault, pickChaosFault } from './faults.ts';
import type { FaultEffect } from './faults.ts';
import { abortOnClose, readBody, send } from './http.ts';
import type { RenderedImage } from './image-store.ts';
import type { IssuedImage, SimState } from './state.ts';
import type { CallRecord } from './stats.ts';
import { validateGeneration } from './validate.ts';
import type { GenerationRequest } from './validate.ts';

export const GENERATIONS_PATH = '/api/paas/v4/images/generations';

const JSON_TYPE = 'application/json; charset=utf-8';
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Check order: auth → account faults → validation → request faults → concurrency/rate gate →
 * latency → answer. With `validateFirst`, validation comes before the account faults (Z.AI does
 * not document which it checks first).
 */
export async function handleGeneration(state: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const call = state.stats.call();
  const fail = (error: ApiError) => {
    state.stats.outcome(outcomeKey(error), call);
    send(res, error.status, JSON_TYPE, errorBody(error, state.config.errorShape));
  };

  const authError = checkAuth(req.headers.authorization, state.config.apiKeys);
  if (authError) return fail(authError);

  const body = await readBody(req, state.config.maxBodyBytes);
  if (body.kind === 'aborted') return state.stats.outcome('aborted', call);
  if (body.kind === 'too_large') return fail(errors.bodyTooLarge(state.config.maxBodyBytes));

  const validation = validateGeneration(body.text, state.config.models);
  if (state.config.validateFirst && !validation.ok) return fail(validation.error);
  const accountError = checkAccount(state);
  if (accountError) return fail(accountError);
  if (!validation.ok) return fail(validation.error);

  const mode = state.faults.shift() ?? pickChaosFault(state.config.faults, Math.random);
  const effect = mode === undefined ? undefined : faultEffect(mode);
  if (effect?.kind === 'error' && effect.phase !== 'response') return fail(effect.error());

  call.inFlightBefore = state.stats.inFlight;
  const gateError = admit(state);
  if (gateError) return fail(gateError);
  // 'close' sets `destroyed` before it is emitted: if it is still false, the listener below will run.
  if (res.destroyed) return state.stats.outcome('aborted', call);
  state.stats.enter(call);
  const delivery: Delivery = {};
  // Z.AI bills a generation once it has started, whether or not the caller stays for the answer.
  // A 500/1234 is a generation that failed: not billed. A `timeout` fault did generate: billed.
  const bill = effect?.kind === 'error' ? undefined : state.stats.bill();
  res.once('close', () => {
    state.stats.leave(call);
    if (delivery.issued !== undefined && res.writableFinished) {
      delivery.issued.delivered = true;
      bill?.delivered();
    } else {
      bill?.undelivered();
    }
  });
  const signal = abortOnClose(res);

  if (effect?.kind === 'timeout') {
    state.stats.outcome('timeout', call);
    await sleep(state.config.hangMs, undefined, { signal }).catch(() => undefined);
    res.destroy();
    return;
  }
  await answer(state, res, validation.request, effect, signal, delivery, call);
}

/** Set once a valid 200 answer is being sent; the call is delivered if that answer is written whole. */
interface Delivery {
  issued?: IssuedImage;
}

/** A queued one-shot account fault first, then the standing one (`accountFault`). */
function checkAccount(state: SimState): ApiError | undefined {
  const head = state.faults.peek();
  const mode = head !== undefined && isAccountFault(head) ? state.faults.shift() : (state.config.accountFault ?? undefined);
  const effect = mode === undefined ? undefined : faultEffect(mode);
  return effect?.kind === 'error' ? effect.error() : undefined;
}

function checkAuth(header: string | undefined, keys: readonly string[]): ApiError | undefined {
  const key = header === undefined ? undefined : BEARER.exec(header)?.[1];
  if (key === undefined) return errors.missingAuth();
  if (!keys.includes(key)) return errors.invalidKey();
  return undefined;
}

function admit(state: SimState): ApiError | undefined {
  const { maxConcurrency, maxRps } = state.config;
  if (state.stats.inFlight >= maxConcurrency) return errors.concurrency();
  if (Number.isFinite(maxRps)) {
    const now = Date.now();
    state.recentStarts = state.recentStarts.filter((t) => now - t < 1000);
    if (state.recentStarts.length >= maxRps) return errors.frequency();
    state.recentStarts.push(now);
  }
  return undefined;
}

async function answer(
  state: SimState,
  res: ServerResponse,
  request: GenerationRequest,
  effect: FaultEffect | undefined,
  signal: AbortSignal,
  delivery: Delivery,
  call: CallRecord,
): Promise<void> {
  const seed = state.nextSeed();
  const padBytes = state.config.imagePadBytes;
  const malformed = effect?.kind === 'malformed';
  const render = malformed ? undefined : state.images.get(seed, request.width, request.height, padBytes);
  void render?.catch(() => undefined);

  const [min, max] = state.config.latencyMs[request.quality];
  const delay = min + Math.random() * (max - min);
  let image: RenderedImage | undefined;
  try {
    if (delay > 0) await sleep(delay, undefined, { signal });
    image = await render;
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  if (signal.aborted) {
    state.stats.outcome('aborted', call);
    return;
  }

  if (effect?.kind === 'error') {
    const error = effect.error();
    state.stats.outcome(outcomeKey(error), call);
    send(res, error.status, JSON_TYPE, errorBody(error, state.config.errorShape));
    return;
  }
  const created = Math.floor(Date.now() / 1000);
  const fault = effect?.kind === 'image' ? effect.fault : undefined;
  const url = state.signer.sign(state.origin, {
    seed,
    width: request.width,
    height: request.height,
    expiresAtMs: Date.now() + state.config.urlTtlMs,
    ...(padBytes > 0 ? { padBytes } : {}),
    ...(fault ? { fault } : {}),
  });
  const body = JSON.stringify({
    created,
    data: [{ url }],
    content_filter: [{ role: 'assistant', level: state.config.contentFilterLevel }],
  });
  if (!image) {
    state.stats.outcome('malformed', call);
    send(res, 200, JSON_TYPE, body.slice(0, Math.floor(body.length / 2)));
    return;
  }
  const issued: IssuedImage = {
    url,
    sha256: image.sha256,
    bytes: image.bytes,
    width: request.width,
    height: request.height,
    prompt: request.prompt,
    quality: request.quality,
    created,
    delivered: false,
  };
  if (request.userId !== undefined) issued.userId = request.userId;
  if (fault) issued.fault = fault;
  state.recordIssued(issued);
  delivery.issued = issued;
  state.stats.outcome('ok', call);
  send(res, 200, JSON_TYPE, body);
}
