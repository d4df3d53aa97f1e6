import { createHash, randomBytes, type Hash } from 'node:crypto';
import { PNG_IEND, encodeRgbPng, pngChunk } from './png.ts';
import { renderScanlines } from './pattern.ts';

/** One image's bytes, in parts to be sent in order: a head shared by every image of its size, then its own tail. */
export interface RenderedImage {
  readonly parts: readonly Buffer[];
  readonly bytes: number;
  readonly sha256: string;
}

/** Everything of a size's PNG before IEND, and the sha256 state after it, to be continued per image. */
interface SizeBase {
  readonly head: Buffer;
  readonly hash: Hash;
}

/**
 * Every image is one picture per size, rendered once, made unique per seed by a tEXt chunk
 * ("zai-sim-seed" = seed) between its pixels and IEND: a new image costs a ~40-byte chunk and a
 * copied sha256 state, not a render, so a benchmark measures the worker and not this simulator.
 * Renders are shared while in progress, bounded in number at once (a 2048x1024 frame is ~6 MB),
 * and the most recent sizes are kept (LRU).
 */
export class ImageStore {
  readonly #capacity: number;
  readonly #maxParallel: number;
  readonly #bases = new Map<string, Promise<SizeBase>>();
  readonly #waiters: Array<() => void> = [];
  #running = 0;

  constructor(capacity = 16, maxParallel = 4) {
    this.#capacity = capacity;
    this.#maxParallel = maxParallel;
  }

  async get(seed: number, width: number, height: number, padBytes = 0): Promise<RenderedImage> {
    const base = await this.#base(width, height, padBytes);
    const tail = Buffer.concat([pngChunk('tEXt', Buffer.from(`zai-sim-seed\0${seed}`, 'latin1')), PNG_IEND]);
    return {
      parts: [base.head, tail],
      bytes: base.head.length + tail.length,
      sha256: base.hash.copy().update(tail).digest('hex'),
    };
  }

  #base(width: number, height: number, padBytes: number): Promise<SizeBase> {
    const key = `${width}x${height}+${padBytes}`;
    const known = this.#bases.get(key);
    if (known) {
      this.#bases.delete(key);
      this.#bases.set(key, known);
      return known;
    }
    const render = this.#render(width, height, padBytes);
    this.#bases.set(key, render);
    render.catch(() => {
      if (this.#bases.get(key) === render) this.#bases.delete(key);
    });
    while (this.#bases.size > this.#capacity) {
      const oldest = this.#bases.keys().next();
      if (oldest.done) break;
      this.#bases.delete(oldest.value);
    }
    return render;
  }

  async #render(width: number, height: number, padBytes: number): Promise<SizeBase> {
    await this.#acquire();
    try {
      const png = await encodeRgbPng(width, height, renderScanlines(width * 65_537 + height, width, height));
      const pixels = png.subarray(0, png.length - PNG_IEND.length);
      // Ancillary, private, safe-to-copy: decoders skip it.
      const head = padBytes > 0 ? Buffer.concat([pixels, pngChunk('daRk', randomBytes(padBytes))]) : pixels;
      return { head, hash: createHash('sha256').update(head) };
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> {
    if (this.#running < this.#maxParallel) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#running--;
  }
}
