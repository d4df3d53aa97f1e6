import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodeRgbPng } from '../src/png.ts';
import { renderScanlines } from '../src/pattern.ts';

describe('PNG rendering', () => {
  it('encodes exact pixels that pngjs decodes back', async () => {
    const scanlines = Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 10, 20, 30]);
    const png = PNG.sync.read(await encodeRgbPng(2, 2, [scanlines.subarray(0, 5), scanlines.subarray(5)]));
    expect([png.width, png.height]).toEqual([2, 2]);
    expect([...png.data]).toEqual([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 20, 30, 255]);
  });

  it('rejects scanlines of the wrong length', async () => {
    await expect(encodeRgbPng(2, 2, [Buffer.alloc(10)])).rejects.toThrow(RangeError);
    await expect(encodeRgbPng(2, 2, [Buffer.alloc(10), Buffer.alloc(10)])).rejects.toThrow(RangeError);
  });

  it('is deterministic per seed and differs between seeds', async () => {
    const a = await encodeRgbPng(512, 512, renderScanlines(7, 512, 512));
    const again = await encodeRgbPng(512, 512, renderScanlines(7, 512, 512));
    const b = await encodeRgbPng(512, 512, renderScanlines(8, 512, 512));
    expect(a.equals(again)).toBe(true);
    expect(a.equals(b)).toBe(false);
    const decoded = PNG.sync.read(a);
    expect([decoded.width, decoded.height]).toEqual([512, 512]);
  });

  it('renders a picture that varies in both directions', async () => {
    const png = PNG.sync.read(await encodeRgbPng(512, 512, renderScanlines(99, 512, 512)));
    const pixel = (x: number, y: number) => [...png.data.subarray((y * 512 + x) * 4, (y * 512 + x) * 4 + 3)];
    expect(pixel(0, 0)).not.toEqual(pixel(200, 0));
    expect(new Set(Array.from({ length: 64 }, (_, y) => pixel(0, y * 8).join())).size).toBeGreaterThan(4);
  });
});
