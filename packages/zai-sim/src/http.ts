import type { IncomingMessage, ServerResponse } from 'node:http';

export type BodyResult = { kind: 'ok'; text: string } | { kind: 'too_large' } | { kind: 'aborted' };

/** Caps how much of an oversized body is drained (so the client still reads the 413) before giving up. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > DRAIN_LIMIT) {
        req.destroy();
        return { kind: 'too_large' };
      }
      if (size <= maxBytes) chunks.push(buf);
    }
  } catch {
    return { kind: 'aborted' };
  }
  if (size > maxBytes) return { kind: 'too_large' };
  return { kind: 'ok', text: Buffer.concat(chunks).toString('utf8') };
}

export function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  if (res.headersSent || res.destroyed) return;
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': payload.length });
  res.end(payload);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

/** Aborts when the client goes away before the response has been completely written. */
export function abortOnClose(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
