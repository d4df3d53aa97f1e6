import { createHash } from 'node:crypto';
import { encodeRgbPng } from './png.ts';
import { renderScanlines } from './pattern.ts';

export interface RenderedImage {
  readonly png: Buffer;
  readonly sha256: string;
}

/**
 * Renders PNGs deterministically from (seed, width, height), keeps the most recent ones (LRU),
 * shares in-progress renders, and bounds how many raw frames exist at once (a 2048x1024 frame is ~6 MB).
 */
export class ImageStore {
  readonly #capacity: number;
  readonly #maxParallel: number;
  readonly #done = new Map<string, RenderedImage>();
  readonly #pending = new Map<string, Promise<RenderedImage>>();
  readonly #waiters: Array<() => void> = [];
  #running = 0;

  constructor(capacity = 32, maxParallel = 4) {
    this.#capacity = capacity;
    this.#maxParallel = maxParallel;
  }

  get(seed: number, width: number, height: number): Promise<RenderedImage> {
    const key = `${seed}:${width}x${height}`;
    const hit = this.#done.get(key);
    if (hit) {
      this.#done.delete(key);
      this.#done.set(key, hit);
      return Promise.resolve(hit);
    }
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const render = this.#render(seed, width, height).then(
      (image) => {
        this.#pending.delete(key);
        this.#remember(key, image);
        return image;
      },
      (error: unknown) => {
        this.#pending.delete(key);
        throw error;
      },
    );
    this.#pending.set(key, render);
    return render;
  }

  async #render(seed: number, width: number, height: number): Promise<RenderedImage> {
    await this.#acquire();
    try {
      const png = await encodeRgbPng(width, height, renderScanlines(seed, width, height));
      return { png, sha256: createHash('sha256').update(png).digest('hex') };
    } finally {
      this.#release();
    }
  }

  #remember(key: string, image: RenderedImage): void {
    this.#done.set(key, image);
    while (this.#done.size > this.#capacity) {
      const oldest = this.#done.keys().next();
      if (oldest.done) break;
      this.#done.delete(oldest.value);
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
