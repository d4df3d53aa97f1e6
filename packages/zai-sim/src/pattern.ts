const FILTER_NONE = 0;
const FILTER_UP = 2;
/** Rows after the first repeat with a short period; they are emitted as one shared block of about this size. */
const BLOCK_BYTES = 256 * 1024;

/** mulberry32: a tiny deterministic PRNG, so a seed always yields the same picture. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Filtered PNG scanlines (filter byte + width*3 bytes per row, in order) for a seed-dependent plaid:
 * pixel(x, y) = f(x) + g(y) (mod 256) per channel. With the Up filter, rows after the first only
 * alternate between a repeated 3-byte delta and zeros with period `rowEvery`, so the same block
 * buffer is yielded again and again; the caller must not mutate what it receives.
 */
export function* renderScanlines(seed: number, width: number, height: number): Generator<Buffer, void, undefined> {
  const random = prng(seed);
  const stride = 1 + width * 3;

  const freq = [0, 1, 2].map(() => 1 + Math.floor(random() * 4));
  const phase = [0, 1, 2].map(() => Math.floor(random() * 256));
  const rowStep = [0, 1, 2].map(() => 1 + Math.floor(random() * 6));
  const rowEvery = 1 + Math.floor(random() * 4);

  const first = Buffer.allocUnsafe(stride);
  first[0] = FILTER_NONE;
  for (let x = 0; x < width; x++) {
    for (let c = 0; c < 3; c++) {
      const wave = Math.floor(((x * (freq[c] ?? 1) * 512) / width) % 512);
      const tri = wave < 256 ? wave : 511 - wave;
      first[1 + x * 3 + c] = (tri + (phase[c] ?? 0)) & 0xff;
    }
  }
  yield first;

  const delta = Buffer.from(rowStep);
  const zero = Buffer.alloc(3);
  const periods = Math.max(1, Math.floor(BLOCK_BYTES / (stride * rowEvery)));
  const blockRows = Math.min(periods * rowEvery, height - 1);
  const block = Buffer.allocUnsafe(blockRows * stride);
  for (let r = 0; r < blockRows; r++) {
    const start = r * stride;
    block[start] = FILTER_UP;
    block.fill((r + 1) % rowEvery === 0 ? delta : zero, start + 1, start + stride);
  }

  // Row y (>= 1) uses the delta when y % rowEvery === 0; block row r stands for y = 1 + r (+ a whole number of periods).
  let remaining = height - 1;
  while (remaining > 0) {
    const rows = Math.min(remaining, blockRows);
    yield rows === blockRows ? block : block.subarray(0, rows * stride);
    remaining -= rows;
  }
}
