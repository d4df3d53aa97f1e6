/**
 * Splits an uploaded body into lines as it arrives, without ever holding more than one line (plus
 * one network chunk): the sha256 of every byte and the byte count are kept on the way, and the
 * upload is cut off (413) past `maxBytes`. Lines are Buffers: UTF-8 is checked per line by the
 * caller, so a bad byte is reported on its line instead of being patched with U+FFFD.
 */
import { createHash } from 'node:crypto';
import { ApiError } from '../errors.ts';

export interface UploadLine {
  /** 1-based. */
  number: number;
  /** Without its line end; undefined when the line was longer than `maxLineBytes`. */
  bytes: Buffer | undefined;
}

export class UploadLines {
  readonly #source: AsyncIterable<Buffer | string>;
  readonly #maxBytes: number;
  readonly #maxLineBytes: number;
  readonly #hash = createHash('sha256');
  #bytes = 0;
  #digest: string | undefined;

  constructor(source: AsyncIterable<Buffer | string>, opts: { maxBytes: number; maxLineBytes: number }) {
    this.#source = source;
    this.#maxBytes = opts.maxBytes;
    this.#maxLineBytes = opts.maxLineBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The sha256 (hex) of the whole body; only once every line has been read. */
  digest(): string {
    if (this.#digest === undefined) throw new Error('the upload has not been read to its end');
    return this.#digest;
  }

  /** Every non-blank line, in order. */
  async *lines(): AsyncGenerator<UploadLine> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let tooLong = false;
    let number = 0;
    const take = (tail: Buffer): UploadLine | undefined => {
      number += 1;
      const whole = tooLong ? undefined : pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
      pending = [];
      pendingBytes = 0;
      const wasTooLong = tooLong;
      tooLong = false;
      if (wasTooLong || (whole && whole.length > this.#maxLineBytes)) return { number, bytes: undefined };
      const line = whole && whole.at(-1) === 0x0d ? whole.subarray(0, -1) : whole;
      if (!line || isBlank(line)) return undefined;
      return { number, bytes: line };
    };
    for await (const chunk of this.#source) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.#bytes += buf.length;
      if (this.#bytes > this.#maxBytes) {
        throw new ApiError('payload_too_large', `the upload is larger than ${this.#maxBytes} bytes (BATCH_MAX_BYTES)`);
      }
      this.#hash.update(buf);
      let start = 0;
      for (let nl = buf.indexOf(0x0a, start); nl !== -1; nl = buf.indexOf(0x0a, start)) {
        const line = take(buf.subarray(start, nl));
        if (line) yield line;
        start = nl + 1;
      }
      const rest = buf.subarray(start);
      if (rest.length === 0) continue;
      if (!tooLong && pendingBytes + rest.length > this.#maxLineBytes) {
        tooLong = true;
        pending = [];
        pendingBytes = 0;
      }
      if (!tooLong) {
        // A copy: the chunk's memory may be reused by the stream.
        pending.push(Buffer.from(rest));
        pendingBytes += rest.length;
      }
    }
    if (pendingBytes > 0 || tooLong) {
      const line = take(Buffer.alloc(0));
      if (line) yield line;
    }
    this.#digest = this.#hash.digest('hex');
  }
}

function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  return true;
}
