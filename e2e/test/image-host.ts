/**
 * A loopback stand-in for the host of Z.AI's temporary image URLs, whose answer a test chooses:
 * the image at once, a trickle (one byte every `trickleMs`, never done in any test's time), a body
 * over a size cap with or without Content-Length, or an HTML page.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';

export type ImageAnswer = 'image' | 'trickle' | 'oversized' | 'oversized_chunked' | 'html';

export interface ImageHost {
  url: string;
  /** The bytes 'image' serves: a PNG signature and IHDR header of 64x64, then filler. */
  image: Buffer;
  requests: number;
  /** Connections the client closed before the body was complete. */
  abandoned: number;
  answer(next: ImageAnswer): void;
  close(): Promise<void>;
}

function pngLike(width: number, height: number, filler: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const typed = Buffer.concat([Buffer.from('IHDR', 'latin1'), ihdr]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(13);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, length, typed, crc, randomBytes(filler)]);
}

export async function startImageHost(opts: { oversizedBytes: number; trickleMs?: number }): Promise<ImageHost> {
  const image = pngLike(64, 64, 900);
  const big = pngLike(64, 64, opts.oversizedBytes);
  const state = { answer: 'image' as ImageAnswer, requests: 0, abandoned: 0 };
  const timers = new Set<NodeJS.Timeout>();

  const trickle = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(big.length) });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(big.subarray(sent, sent + 1));
      sent++;
    }, opts.trickleMs ?? 1000);
    timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  };

  const server = createServer((req, res) => {
    state.requests++;
    res.on('close', () => {
      if (!res.writableFinished) state.abandoned++;
    });
    req.resume();
    switch (state.answer) {
      case 'image':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(image.length) }).end(image);
        return;
      case 'trickle':
        trickle(res);
        return;
      case 'oversized':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(big.length) }).end(big);
        return;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>not an image</body></html>');
        return;
      case 'oversized_chunked':
        res.writeHead(200, { 'content-type': 'image/png' });
        for (let at = 0; at < big.length; at += 512) res.write(big.subarray(at, at + 512));
        res.end();
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/files/image.png`,
    image,
    get requests() {
      return state.requests;
    },
    get abandoned() {
      return state.abandoned;
    },
    answer: (next) => void (state.answer = next),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearInterval(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
