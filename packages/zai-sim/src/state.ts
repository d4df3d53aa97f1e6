import { randomInt } from 'node:crypto';
import { applyConfigPatch, defaultConfig } from './config.ts';
import type { SimulatorConfig, SimulatorConfigPatch } from './config.ts';
import { FaultQueue } from './faults.ts';
import type { ImageFault } from './faults.ts';
import { ImageStore } from './image-store.ts';
import { UrlSigner } from './image-url.ts';
import { StatsRecorder } from './stats.ts';
import type { Quality } from './validate.ts';

export interface IssuedImage {
  url: string;
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  prompt: string;
  quality: Quality;
  userId?: string;
  /** Unix seconds, as in the response body. */
  created: number;
  /**
   * Set when the call carried an image_* fault. expired/not_found: the URL never serves the PNG;
   * truncated/wrong_type: the first download fails, later ones succeed (a flaky CDN edge).
   */
  fault?: ImageFault;
  /** True once the answer carrying this URL was written whole to the caller. */
  delivered: boolean;
}

/** Mutable state shared by the request handlers of one simulator instance. */
export class SimState {
  config: SimulatorConfig;
  origin = '';
  readonly stats = new StatsRecorder();
  readonly faults = new FaultQueue();
  readonly images = new ImageStore();
  readonly signer = new UrlSigner();
  issued: IssuedImage[] = [];
  /** Paths of images whose one-shot fault (truncated, wrong_type) has already struck. */
  readonly spentImageFaults = new Set<string>();
  /** Start times (ms) of admitted calls within the last second, for maxRps. */
  recentStarts: number[] = [];
  #nextSeed = randomInt(2 ** 32);

  constructor(patch: SimulatorConfigPatch) {
    this.config = applyConfigPatch(defaultConfig(), patch);
  }

  /** Consecutive seeds: distinct for every generation of this process. */
  nextSeed(): number {
    const seed = this.#nextSeed;
    this.#nextSeed = (this.#nextSeed + 1) >>> 0;
    return seed;
  }

  recordIssued(image: IssuedImage): void {
    this.issued.push(image);
    const excess = this.issued.length - this.config.maxIssuedImages;
    if (excess > 0) this.issued.splice(0, excess);
  }

  reset(): void {
    this.stats.reset();
    this.faults.clear();
    this.issued = [];
    this.spentImageFaults.clear();
    this.recentStarts = [];
  }
}
