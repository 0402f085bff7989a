// Framer: TCP chunks in, whole BGP messages (header included) out (RFC 4271 §4.1).
//
// The header (marker, length, type, per-type minimum) is checked as soon as its 19 octets
// are here, before waiting for the body (RFC 4271 §6.1).
//
// Memory and cost: only the one message that straddles chunks is ever copied, into a
// buffer sized for that message (≤ the maximum length) and released when it is larger than
// 8 KiB, so thousands of idle peers hold almost nothing. Messages wholly inside a pushed
// chunk are returned as views of it (no copy), unless the chunk is transient (a read buffer
// the caller reuses after the call): then each is copied; assembled messages are fresh
// buffers, never views of the Framer's own buffer. Many tiny chunks cost O(total), not O(n²).
// After a BgpWireError the framer's state is undefined: the session must close.
import { Buffer } from 'node:buffer';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH } from './constants.js';
import { checkHeader } from './header.js';

const EMPTY = Buffer.alloc(0);
const KEEP_BUFFER_MAX = 8192;

export class Framer {
  private maxLength: number;
  private buf: Buffer = EMPTY;
  private len = 0;

  constructor(opts: { maxMessageLength?: number } = {}) {
    this.maxLength = opts.maxMessageLength ?? MAX_MESSAGE_LENGTH;
  }

  /** Raise to 65535 once RFC 8654 Extended Message is negotiated. */
  setMaxMessageLength(n: number): void {
    this.maxLength = n;
  }

  /** Octets held back waiting for the rest of a message. */
  get pending(): number {
    return this.len;
  }

  /**
   * `transient`: `chunk` is overwritten after the call, so no returned message may be a view of it.
   * Messages are appended to `out`; when a later header in the same chunk throws, the whole
   * messages before it are already in `out`, for the caller to handle before the error.
   */
  push(chunk: Buffer, transient = false, out: Buffer[] = []): Buffer[] {
    let off = 0;
    if (this.len > 0) {
      off = this.complete(chunk, out);
      if (this.len > 0) return out; // chunk used up, message still partial
    }
    off = this.scan(chunk, off, out, transient);
    if (off < chunk.length) this.append(chunk, off, chunk.length);
    return out;
  }

  /** Feeds the held partial message from `chunk`; returns the octets of `chunk` consumed. */
  private complete(chunk: Buffer, out: Buffer[]): number {
    let off = 0;
    if (this.len < HEADER_LENGTH) {
      off = Math.min(HEADER_LENGTH - this.len, chunk.length);
      this.append(chunk, 0, off);
      if (this.len < HEADER_LENGTH) return off;
    }
    const { length } = checkHeader(this.buf, 0, this.maxLength);
    const take = Math.min(length - this.len, chunk.length - off);
    this.append(chunk, off, off + take);
    off += take;
    if (this.len === length) {
      out.push(Buffer.from(this.buf.subarray(0, length)));
      this.len = 0;
      if (this.buf.length > KEEP_BUFFER_MAX) this.buf = EMPTY;
    }
    return off;
  }

  /** Emits every complete message in data[off..]; returns the offset of the first unused octet. */
  private scan(data: Buffer, off: number, out: Buffer[], copy: boolean): number {
    while (data.length - off >= HEADER_LENGTH) {
      const { length } = checkHeader(data, off, this.maxLength);
      if (data.length - off < length) break;
      const view = data.subarray(off, off + length);
      out.push(copy ? Buffer.from(view) : view);
      off += length;
    }
    return off; // a partial header waits for its 19th octet, then is checked
  }

  private append(data: Buffer, from: number, to: number): void {
    const need = this.len + (to - from);
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(this.buf.length * 2, this.maxLength), HEADER_LENGTH * 4));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    data.copy(this.buf, this.len, from, to);
    this.len = need;
  }
}
