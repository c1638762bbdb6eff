/**
 * One growing buffer the listings are written into, byte by byte: no string per line, no array
 * of lines to join. Text written here is ASCII (addresses, names, numbers, layout).
 */
export class TextBuffer {
  private buf: Buffer;
  private n = 0;

  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  /** An ASCII string. */
  str(s: string): this {
    const len = s.length;
    this.room(len);
    const b = this.buf;
    let n = this.n;
    for (let i = 0; i < len; i++) b[n++] = s.charCodeAt(i);
    this.n = n;
    return this;
  }

  /** `s` then spaces to `width` (C's %-Ns). */
  left(s: string, width: number): this {
    this.str(s);
    return this.spaces(width - s.length);
  }

  spaces(k: number): this {
    if (k <= 0) return this;
    this.room(k);
    this.buf.fill(0x20, this.n, this.n + k);
    this.n += k;
    return this;
  }

  byte(c: number): this {
    this.room(1);
    this.buf[this.n++] = c;
    return this;
  }

  /** Digits of a non-negative integer below 2^53. */
  uint(v: number): this {
    if (v < 10) return this.byte(0x30 + v);
    if (v >= 1e15) return this.str(String(v));
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    this.room(digits);
    const b = this.buf;
    for (let i = this.n + digits - 1, x = v; i >= this.n; i--, x = Math.floor(x / 10)) b[i] = 0x30 + (x % 10);
    this.n += digits;
    return this;
  }

  /** A non-negative integer padded to `width` on the right (%-Nu). */
  leftUint(v: number, width: number): this {
    const start = this.n;
    this.uint(v);
    return this.padFrom(start, width);
  }

  /** How many bytes are written so far: a start for {@link padFrom}. */
  get length(): number {
    return this.n;
  }

  /** Spaces until what was written since `start` is `width` wide (C's %-N of a compound field). */
  padFrom(start: number, width: number): this {
    return this.spaces(width - (this.n - start));
  }

  /** Empties the buffer (its memory is kept for what is written next). */
  clear(): void {
    this.n = 0;
  }

  /** The text written, as a view of the buffer. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}
