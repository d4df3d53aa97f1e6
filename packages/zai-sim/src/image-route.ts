import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortOnClose, send } from './http.ts';
import type { ImageFault } from './faults.ts';
import type { SimState } from './state.ts';

/** Serves `/files/<token>.png?Expires=..&Signature=..`, answering failures the way an object store does. */
export async function handleImage(state: SimState, url: URL, res: ServerResponse): Promise<void> {
  let complete = false;
  res.once('close', () => {
    if (complete && res.writableFinished) state.stats.imageDownloads++;
    else state.stats.imageFailures++;
  });

  const check = state.signer.check(url.pathname, url.searchParams);
  if (check.kind === 'not_found') return sendXml(res, 404, 'NoSuchKey', 'The specified key does not exist.');
  if (check.kind === 'bad_signature') {
    return sendXml(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
  const { ticket } = check;
  const fault = oneShot(state, url.pathname, ticket.fault);
  if (ticket.fault === 'expired' || Date.now() > ticket.expiresAtMs) {
    return sendXml(res, 403, 'AccessDenied', 'Request has expired.', {
      Expires: new Date(ticket.expiresAtMs).toISOString(),
      ServerTime: new Date().toISOString(),
    });
  }
  if (ticket.fault === 'not_found') return sendXml(res, 404, 'NoSuchKey', 'The specified key does not exist.');
  if (fault === 'wrong_type') {
    return send(
      res,
      200,
      'text/html; charset=utf-8',
      '<!DOCTYPE html><html><head><title>Access Portal</title></head><body><h1>Please sign in to continue</h1></body></html>',
    );
  }

  const image = await state.images.get(ticket.seed, ticket.width, ticket.height, ticket.padBytes ?? 0);
  if (res.destroyed) return;
  const signal = abortOnClose(res);
  res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': image.bytes, 'Cache-Control': 'max-age=0' });
  res.flushHeaders();
  try {
    const { imageDelayMs, imageChunkDelayMs, imageChunkBytes } = state.config;
    if (imageDelayMs > 0) await sleep(imageDelayMs, undefined, { signal });
    if (fault === 'truncated') {
      res.write(Buffer.concat(image.parts).subarray(0, Math.floor(image.bytes / 2)), () => res.destroy());
      return;
    }
    if (imageChunkDelayMs > 0) {
      const png = Buffer.concat(image.parts);
      for (let offset = 0; offset < png.length; offset += imageChunkBytes) {
        if (offset > 0) await sleep(imageChunkDelayMs, undefined, { signal });
        res.write(png.subarray(offset, offset + imageChunkBytes));
      }
      complete = true;
      res.end();
      return;
    }
    complete = true;
    for (const part of image.parts.slice(0, -1)) res.write(part);
    res.end(image.parts.at(-1));
  } catch {
    res.destroy();
  }
}

/** A truncated or wrong-type fault strikes the first download of its URL only; the others are permanent. */
function oneShot(state: SimState, path: string, fault: ImageFault | undefined): ImageFault | undefined {
  if (fault !== 'truncated' && fault !== 'wrong_type') return fault;
  if (state.spentImageFaults.has(path)) return undefined;
  state.spentImageFaults.add(path);
  return fault;
}

function sendXml(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  const fields = { Code: code, Message: message, RequestId: randomBytes(12).toString('hex').toUpperCase(), HostId: 'zai-sim', ...extra };
  const xml = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Error>',
    ...Object.entries(fields).map(([name, value]) => `  <${name}>${escapeXml(value)}</${name}>`),
    '</Error>',
    '',
  ].join('\n');
  send(res, status, 'application/xml', xml);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
