import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { IMAGE_FAULTS } from './faults.ts';
import type { ImageFault } from './faults.ts';

/** Everything needed to serve an image, carried inside its URL so the server keeps no per-URL state. */
export interface ImageTicket {
  seed: number;
  width: number;
  height: number;
  expiresAtMs: number;
  /** imagePadBytes when the image was issued, so its URL serves the same bytes after a reconfigure. */
  padBytes?: number;
  fault?: ImageFault;
}

export type TicketCheck =
  | { kind: 'ok'; ticket: ImageTicket }
  | { kind: 'not_found' }
  | { kind: 'bad_signature' };

export const FILES_PREFIX = '/files/';
const PATH_PATTERN = /^\/files\/([A-Za-z0-9_-]{1,512})\.png$/;

/** Presigned-URL style: `/files/<token>.png?Expires=<unix s>&Signature=<hmac>`, HMAC over token + Expires. */
export class UrlSigner {
  readonly #secret: Buffer;

  constructor(secret: Buffer = randomBytes(32)) {
    this.#secret = secret;
  }

  sign(origin: string, ticket: ImageTicket): string {
    const payload: Record<string, unknown> = { s: ticket.seed, w: ticket.width, h: ticket.height, e: ticket.expiresAtMs };
    if (ticket.padBytes) payload['p'] = ticket.padBytes;
    if (ticket.fault) payload['f'] = ticket.fault;
    const token = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const expires = String(Math.ceil(ticket.expiresAtMs / 1000));
    const query = new URLSearchParams({ Expires: expires, Signature: this.#signature(token, expires) });
    return `${origin}${FILES_PREFIX}${token}.png?${query.toString()}`;
  }

  check(pathname: string, query: URLSearchParams): TicketCheck {
    const token = PATH_PATTERN.exec(pathname)?.[1];
    const ticket = token === undefined ? undefined : decode(token);
    if (token === undefined || !ticket) return { kind: 'not_found' };
    const expires = query.get('Expires') ?? '';
    const given = Buffer.from(query.get('Signature') ?? '', 'base64url');
    const wanted = Buffer.from(this.#signature(token, expires), 'base64url');
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { kind: 'bad_signature' };
    return { kind: 'ok', ticket };
  }

  #signature(token: string, expires: string): string {
    return createHmac('sha256', this.#secret).update(`GET\n${token}\n${expires}`).digest('base64url');
  }
}

function decode(token: string): ImageTicket | undefined {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { s, w, h, e, p, f } = payload as Record<string, unknown>;
  if (!isInt(s) || !isInt(w) || !isInt(h) || !isInt(e)) return undefined;
  const ticket: ImageTicket = { seed: s, width: w, height: h, expiresAtMs: e };
  if (p !== undefined) {
    if (!isInt(p)) return undefined;
    ticket.padBytes = p;
  }
  if (f !== undefined) {
    if (!(IMAGE_FAULTS as readonly unknown[]).includes(f)) return undefined;
    ticket.fault = f as ImageFault;
  }
  return ticket;
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
